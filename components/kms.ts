/**
 * Key policies for the customer managed keys components create. Every key: the owning account administers it
 * through IAM; AWS services get only the operations they need, scoped to this account's resources.
 */
import type { PolicyDocument, Statement } from "./iam";
import { policy } from "./iam";

export type KeyUser =
  /** EventBridge delivering to encrypted queues and log groups. */
  | "events"
  /** CloudWatch alarms publishing to an encrypted SNS topic. */
  | "alarms"
  /** CloudWatch Logs encrypting this account's log groups in `region`. */
  | "logs";

/** A key for `account`'s own resources, usable by the listed services; `extra` adds component-specific statements. */
export function accountKeyPolicy(account: string, region: string, users: KeyUser[], extra: Statement[] = []): PolicyDocument {
  const statements: Statement[] = [
    { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
  ];
  if (users.includes("events"))
    statements.push({
      // Queues need GenerateDataKey; SNS topics GenerateDataKey*:
      // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
      Sid: "EventBridgeToEncryptedQueuesAndTopics",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": account } },
    });
  if (users.includes("alarms"))
    statements.push({
      Sid: "CloudWatchAlarmsToEncryptedTopic",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": account } },
    });
  if (users.includes("logs"))
    statements.push({
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
      Sid: "CloudWatchLogsForThisAccountsGroups",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${account}:log-group:*` } },
    });
  return policy(...statements, ...extra);
}
