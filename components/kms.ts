/**
 * Customer managed keys: the key every component creates (rotation on, 30 days before deletion, a policy from here),
 * and its key policy. Every key: the owning account administers it through IAM; AWS services get only the operations
 * they need, scoped to this account's resources.
 * https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html (7-30 days; the longest, so a mistake can be undone)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Condition, PolicyDocument, Statement } from "./iam";
import { policy, policyJson, serviceMay } from "./iam";
import { transformed, type Transform } from "./transform";

export type KeyUser =
  /** EventBridge delivering to encrypted queues and log groups. */
  | "events"
  /** CloudWatch alarms publishing to an encrypted SNS topic. */
  | "alarms"
  /** CloudWatch Logs encrypting this account's log groups in `region`. */
  | "logs";

const serviceUse = (sid: string, service: string, actions: string[], condition: Condition): Statement => serviceMay(sid, service, actions, "*", condition);

/** A key for `account`'s own resources, usable by the listed services; `extra` adds component-specific statements. */
export function accountKeyPolicy(account: string, region: string, users: KeyUser[], extra: Statement[] = []): PolicyDocument {
  const fromThisAccount = { StringEquals: { "aws:SourceAccount": account } };
  const statements: Statement[] = [
    { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
  ];
  // Queues need GenerateDataKey; SNS topics GenerateDataKey*:
  // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
  if (users.includes("events")) statements.push(serviceUse("EventBridgeToEncryptedQueuesAndTopics", "events.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"], fromThisAccount));
  if (users.includes("alarms")) statements.push(serviceUse("CloudWatchAlarmsToEncryptedTopic", "cloudwatch.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"], fromThisAccount));
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
  if (users.includes("logs"))
    statements.push(
      serviceUse("CloudWatchLogsForThisAccountsGroups", `logs.${region}.amazonaws.com`, ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${account}:log-group:*` },
      }),
    );
  return policy(...statements, ...extra);
}

export interface CustomerKeyArgs {
  /** What the key encrypts (shown in the KMS console). */
  readonly description: pulumi.Input<string>;
  /** The key policy (usually `accountKeyPolicy(...)`). */
  readonly policy: PolicyDocument;
  /** An alias (`alias/...`), created as `<name>-alias`. */
  readonly alias?: string;
  /** Customize the key's args (components/transform.ts). */
  readonly transform?: Transform<aws.kms.KeyArgs>;
}

/** A customer managed key with automatic yearly rotation and the longest deletion window. */
export function customerKey(name: string, args: CustomerKeyArgs, opts: pulumi.CustomResourceOptions): aws.kms.Key {
  const key = new aws.kms.Key(
    ...transformed(args.transform, name, { description: args.description, enableKeyRotation: true, deletionWindowInDays: 30, policy: policyJson(args.policy) }, opts),
  );
  if (args.alias) new aws.kms.Alias(`${name}-alias`, { name: args.alias, targetKeyId: key.keyId }, opts);
  return key;
}
