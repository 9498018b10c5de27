/**
 * DenyAdvisor: the central bus's deny stream -> SQS -> a batch Lambda that classifies each deny, dedupes it in
 * DynamoDB (principal + action + resource) and posts one Slack digest per batch window with least-privilege fixes;
 * IAM role changes keep a role inventory so the digest names each role's owner from its tags.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction } from "./lambda";
import { readSecret, useKey } from "./iam";
import { encryptedTable } from "./table";
import { transformed } from "./transform";
import { functionTransforms, type FeatureTransforms, type ResponseFeatureArgs } from "./feature";
import { denyPattern, roleChangePattern } from "../functions/patterns";
import { DENY_ADVISOR_ENV, makeDenyProcessorHandler, makeRoleInventoryHandler } from "../functions/deny/handler";
import { onAsyncFailure } from "./asyncFailures";
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { DECODE_SPOKE_ROLE_NAME } from "../functions/deny/decode";
import { DenyDecodeSpokes, type DenyDecodeSpokesArgs } from "./denyDecodeSpokes";
import { DENY_ADVISOR_DEFAULTS } from "./defaults";

export { DENY_ADVISOR_DEFAULTS };

/**
 * The bus brings denies (every region, read-only calls included) and IAM role changes; the organization's id scopes
 * the decode spokes the processor may assume. Digests go through the outbox (findings marked notified once posted);
 * the bot token is read only to resolve email owner tags (users.lookupByEmail).
 */
export interface DenyAdvisorArgs extends ResponseFeatureArgs {
  /** The Slack channel id the digests go to. @example "C0123456789" */
  readonly slackChannelId: string;
  /** Role tag naming its owner (a Slack user id is mentioned). @default "owner" */
  readonly ownerTagKey?: string;
  /** Seconds SQS gathers denies before invoking: one digest per window. @default 60 */
  readonly batchWindowSeconds?: number;
  /** Days the functions' logs are kept. @default 90 */
  readonly logRetentionDays?: number;
  /** What the digest shows: account names, and the Slack ids an owner tag may mention. @default {} */
  readonly digest?: {
    /** Account id -> name, over the names Organizations lists. */
    readonly accountNames?: Readonly<Record<string, string>>;
    /** Slack user (U…/W…) and user-group (S…) ids an owner tag may mention; any other tag value is shown as text. */
    readonly mentionable?: readonly string[];
  };
  /**
   * Decode EC2's encoded messages in the account that produced them, through a decode spoke role in every account
   * (components/denyDecodeSpokes.ts). Absent: findings stay undecoded.
   */
  readonly decode?: {
    /** The ExternalId the processor presents to the decode spokes. @default `trailwatch-deny-decode-<organizationId>` */
    readonly externalId?: string;
  };
  /** Customize the children: both functions (and their roles and log groups), both tables, the queue's event source mapping, the decode spokes. */
  readonly transform?: Omit<FeatureTransforms, "rule" | "target"> & {
    /** The decode spokes' StackSet, instances and management account role. */
    readonly decodeSpokes?: DenyDecodeSpokesArgs["transform"];
  };
}

export class DenyAdvisor extends pulumi.ComponentResource {
  readonly findingsTable: aws.dynamodb.Table;
  readonly rolesTable: aws.dynamodb.Table;
  readonly queue: aws.sqs.Queue;
  readonly processor: InlineFunction;
  /** The children a caller may need. */
  readonly nodes: {
    readonly findingsTable: aws.dynamodb.Table;
    readonly rolesTable: aws.dynamodb.Table;
    readonly queue: aws.sqs.Queue;
    readonly processor: InlineFunction;
    readonly processorSource: aws.lambda.EventSourceMapping;
    readonly inventory: InlineFunction;
    readonly decodeSpokes?: DenyDecodeSpokes;
  };

  constructor(name: string, args: DenyAdvisorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:deny:DenyAdvisor", name, {}, opts);
    const p = { parent: this };
    const { bus, org } = args;
    const key = bus.key;
    const E = DENY_ADVISOR_ENV;
    const d = DENY_ADVISOR_DEFAULTS;
    const logRetentionDays = args.logRetentionDays ?? d.logRetentionDays;
    const ownerTagKey = args.ownerTagKey ?? d.ownerTagKey;
    const fnTransform = functionTransforms(args.transform);
    this.findingsTable = encryptedTable(`${name}-findings`, { keyArn: key.arn, ttlAttribute: "expiresAt", transform: args.transform?.table }, p);
    this.rolesTable = encryptedTable(`${name}-roles`, { keyArn: key.arn, hashKey: "roleArn", ttlAttribute: false, transform: args.transform?.table }, p);
    const busKey = useKey(key.arn, "BusKey");

    const sub = bus.subscribe(
      `${name}-denies`,
      denyPattern,
      { kind: "sqs", visibilityTimeoutSeconds: 360, maxReceiveCount: 5 },
      "Access denies for the deny advisor, read-only calls included",
      { state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" },
    );
    this.queue = sub.queue!;

    const digest = args.digest;
    const decodeExternalId = args.decode ? (args.decode.externalId ?? `trailwatch-deny-decode-${org.organizationId}`) : undefined;
    this.processor = new InlineFunction(
      `${name}-processor`,
      {
        description: "Classifies access denies, dedupes them and posts least-privilege fixes to Slack",
        timeout: 60,
        memorySize: 512,
        logRetentionDays,
        environment: {
          [E.findingsTable]: this.findingsTable.name,
          [E.rolesTable]: this.rolesTable.name,
          [E.ownerTagKey]: ownerTagKey,
          [E.channel]: args.slackChannelId,
          [E.botToken]: args.slackBotTokenSecretArn,
          ...(digest && (Object.keys(digest.accountNames ?? {}).length || digest.mentionable?.length) ? { [E.digestOptions]: JSON.stringify(digest) } : {}),
          ...args.outbox.senderEnvironment(),
          ...(decodeExternalId ? { [E.decodeExternalId]: decodeExternalId, [E.decodeHomeRegion]: org.homeRegion } : {}),
        },
        statements: [
          { Sid: "ReceiveDenies", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [this.queue.arn] },
          { Sid: "Findings", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [this.findingsTable.arn] },
          { Sid: "RoleOwners", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [this.rolesTable.arn] },
          busKey,
          readSecret(args.slackBotTokenSecretArn, "SlackToken"),
          ...args.outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
          // The decode spokes of this organization only (the role name in every account, the org id on the role).
          // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid
          ...(decodeExternalId
            ? [{ Sid: "AssumeDecodeSpokes", Effect: "Allow" as const, Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/${DECODE_SPOKE_ROLE_NAME}`, Condition: { StringEquals: { "aws:ResourceOrgID": org.organizationId } } }]
            : []),
        ],
        callbackFactory: () => makeDenyProcessorHandler(),
        transform: fnTransform,
      },
      p,
    );
    const decodeSpokes = decodeExternalId
      ? new DenyDecodeSpokes(`${name}-decode-spokes`, { org, processorRoleArn: this.processor.role.arn, externalId: decodeExternalId, transform: args.transform?.decodeSpokes }, p)
      : undefined;
    const processorSource = new aws.lambda.EventSourceMapping(
      ...transformed(
        args.transform?.eventSource,
        `${name}-processor-source`,
        {
          eventSourceArn: this.queue.arn,
          functionName: this.processor.function.name,
          batchSize: 100,
          maximumBatchingWindowInSeconds: args.batchWindowSeconds ?? d.batchWindowSeconds,
          // One bad message must not fail (and redeliver) the whole batch.
          // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
          functionResponseTypes: ["ReportBatchItemFailures"],
        },
        p,
      ),
    );
    // The outbox marks findings notified (notifiedHash) once their digest is posted.
    args.outbox.recordPostsIn(`${name}-findings`, this.findingsTable, key);

    const inventory = new InlineFunction(
      `${name}-roles`,
      {
        description: "Keeps the role inventory (tags, last change) current from IAM role events",
        logRetentionDays,
        environment: { [E.rolesTable]: this.rolesTable.name, [E.ownerTagKey]: ownerTagKey },
        statements: [{ Sid: "RoleInventory", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [this.rolesTable.arn] }, busKey],
        callbackFactory: () => makeRoleInventoryHandler(),
        transform: fnTransform,
      },
      p,
    );
    bus.subscribe(`${name}-role-changes`, roleChangePattern, { kind: "lambda", function: inventory.function }, "IAM role changes for the role inventory");
    onAsyncFailure(`${name}-roles`, inventory, { queueArn: bus.deliveryDeadLetter.arn, keyArn: key.arn, alertTopicArn: bus.alertTopic.arn }, this);

    this.nodes = { findingsTable: this.findingsTable, rolesTable: this.rolesTable, queue: this.queue, processor: this.processor, processorSource, inventory, decodeSpokes };
    this.registerOutputs({ findingsTable: this.findingsTable.name, queueUrl: this.queue.url });
  }
}
