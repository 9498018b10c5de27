/**
 * DenyAdvisor: the central bus's deny stream -> SQS -> a batch Lambda that classifies each deny, dedupes it in
 * DynamoDB (principal + action + resource) and posts one Slack digest per batch window with least-privilege fixes;
 * IAM role changes keep a role inventory so the digest names each role's owner from its tags.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InlineFunction } from "./lambda";
import type { CentralEventBus } from "./centralEventBus";
import { denyPattern, roleChangePattern } from "../functions/patterns";
import { processDenyBatch } from "../functions/deny/batch";
import { dynamoDenyStore } from "../functions/deny/store";
import { dynamoRoleInventory, roleChangeInputOf } from "../functions/roleInventory";
import { slackClient } from "../functions/slack/client";
import { resolvingOwnerOf } from "../functions/slack/mentions";
import { envNoticeSender } from "../functions/slack/outboxAdapters";
import { denyDigestNotice } from "../functions/slack/notices";
import type { SlackOutbox } from "./slackOutbox";
import { onAsyncFailure } from "./asyncFailures";
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { envAccountDirectory } from "../functions/accounts/directory";
import { spokeDecoder, DECODE_SPOKE_ROLE_NAME } from "../functions/deny/decode";
import { DenyDecodeSpokes, type DenyDecodeSpokesArgs } from "./denyDecodeSpokes";

export interface DenyAdvisorArgs {
  readonly bus: CentralEventBus;
  /** Digests go through the Slack outbox (posted once, paced; findings marked notified once posted). */
  readonly outbox: SlackOutbox;
  /** Secret (ARN) holding the Slack bot token: read at run time only to resolve email owner tags (users.lookupByEmail). */
  readonly slackBotTokenSecretArn: pulumi.Input<string>;
  readonly slackChannelId: string;
  /** Role tag naming its owner (a Slack user id is mentioned). @default "owner" */
  readonly ownerTagKey?: string;
  /** Seconds SQS gathers denies before invoking: one digest per window. @default 60 */
  readonly batchWindowSeconds?: number;
  readonly logRetentionDays?: number;
  /** What the digest shows: account names, and the Slack ids an owner tag may mention. @default {} */
  readonly digest?: { accountNames?: Record<string, string>; mentionable?: string[] };
  /**
   * Decode EC2's encoded messages in the account that produced them, through a decode spoke role in every account
   * (components/denyDecodeSpokes.ts). Absent: findings stay undecoded.
   */
  readonly decode?: Omit<DenyDecodeSpokesArgs, "processorRoleArn"> & { organizationId: string };
}

export class DenyAdvisor extends pulumi.ComponentResource {
  readonly findingsTable: aws.dynamodb.Table;
  readonly rolesTable: aws.dynamodb.Table;
  readonly queue: aws.sqs.Queue;
  readonly processor: InlineFunction;

  constructor(name: string, args: DenyAdvisorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:deny:DenyAdvisor", name, {}, opts);
    const p = { parent: this };
    const key = args.bus.key;
    const table = (id: string, hashKey: string, ttl?: string) =>
      new aws.dynamodb.Table(
        `${name}-${id}`,
        {
          billingMode: "PAY_PER_REQUEST",
          hashKey,
          attributes: [{ name: hashKey, type: "S" }],
          serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
          pointInTimeRecovery: { enabled: true },
          ttl: ttl ? { attributeName: ttl, enabled: true } : undefined,
        },
        p,
      );
    this.findingsTable = table("findings", "pk", "expiresAt");
    this.rolesTable = table("roles", "roleArn");
    const ownerTagKey = args.ownerTagKey ?? "owner";

    const sub = args.bus.subscribe(
      `${name}-denies`,
      denyPattern,
      { kind: "sqs", visibilityTimeoutSeconds: 360, maxReceiveCount: 5 },
      "Access denies for the deny advisor, read-only calls included",
      { state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" },
    );
    this.queue = sub.queue!;

    this.processor = new InlineFunction(
      `${name}-processor`,
      {
        description: "Classifies access denies, dedupes them and posts least-privilege fixes to Slack",
        timeout: 60,
        memorySize: 512,
        logRetentionDays: args.logRetentionDays,
        environment: {
          FINDINGS_TABLE: this.findingsTable.name,
          ROLES_TABLE: this.rolesTable.name,
          OWNER_TAG_KEY: ownerTagKey,
          SLACK_CHANNEL_ID: args.slackChannelId,
          SLACK_BOT_TOKEN_SECRET: args.slackBotTokenSecretArn,
          ...(args.digest && (Object.keys(args.digest.accountNames ?? {}).length || args.digest.mentionable?.length) ? { DIGEST_OPTIONS: JSON.stringify(args.digest) } : {}),
          ...args.outbox.senderEnvironment(),
          ...(args.decode ? { DECODE_EXTERNAL_ID: args.decode.externalId, DECODE_HOME_REGION: args.decode.homeRegion } : {}),
        },
        statements: [
          { Sid: "ReceiveDenies", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [this.queue.arn] },
          { Sid: "Findings", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [this.findingsTable.arn] },
          { Sid: "RoleOwners", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [this.rolesTable.arn] },
          { Sid: "BusKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [key.arn] },
          { Sid: "SlackToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.slackBotTokenSecretArn] },
          ...args.outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
          // The decode spokes of this organization only (the role name in every account, the org id on the role).
          ...(args.decode
            ? [{ Sid: "AssumeDecodeSpokes", Effect: "Allow" as const, Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/${DECODE_SPOKE_ROLE_NAME}`, Condition: { StringEquals: { "aws:ResourceOrgID": args.decode.organizationId } } }]
            : []),
        ],
        callbackFactory: () => {
          const ddb = new DynamoDBClient({});
          const outbox = envNoticeSender();
          const store = dynamoDenyStore(ddb, process.env.FINDINGS_TABLE!);
          const roles = dynamoRoleInventory(ddb, process.env.ROLES_TABLE!, process.env.OWNER_TAG_KEY!);
          const digestOptions = { ...(process.env.DIGEST_OPTIONS ? JSON.parse(process.env.DIGEST_OPTIONS) : {}), resolvedOwners: {} as Record<string, string> };
          // An email owner tag becomes a mention only when Slack resolves it to a user (users:read.email).
          const ownerOf = resolvingOwnerOf(
            (arn) => roles.ownerOf(arn),
            async (email) => {
              const slack = await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!);
              return (await slack.users.lookupByEmail({ email })).user?.id ?? null;
            },
            digestOptions.resolvedOwners,
          );
          // Account names: config over Organizations, cached an hour per container (denies are no account events).
          const directory = envAccountDirectory(digestOptions.accountNames);
          const decode = process.env.DECODE_EXTERNAL_ID ? spokeDecoder({ externalId: process.env.DECODE_EXTERNAL_ID, homeRegion: process.env.DECODE_HOME_REGION }) : undefined;
          return async (event: { Records: { messageId: string; body: string }[] }) =>
            processDenyBatch(event.Records, {
              store,
              // The same resolvedOwners object: resolved emails stay cached across batches.
              digestOptions: { ...digestOptions, accountNames: await directory.names() },
              ownerOf,
              post: (m, marks) => outbox.send(denyDigestNotice(m, marks, { channel: process.env.SLACK_CHANNEL_ID!, table: process.env.FINDINGS_TABLE! })),
              log: (e) => console.log(JSON.stringify(e)),
              now: () => new Date(),
              decode,
            });
        },
      },
      p,
    );
    if (args.decode) {
      const { organizationId: _org, ...spokes } = args.decode;
      new DenyDecodeSpokes(`${name}-decode-spokes`, { ...spokes, processorRoleArn: this.processor.role.arn }, p);
    }
    new aws.lambda.EventSourceMapping(
      `${name}-processor-source`,
      {
        eventSourceArn: this.queue.arn,
        functionName: this.processor.function.name,
        batchSize: 100,
        maximumBatchingWindowInSeconds: args.batchWindowSeconds ?? 60,
        // One bad message must not fail (and redeliver) the whole batch.
        functionResponseTypes: ["ReportBatchItemFailures"],
      },
      p,
    );
    // The outbox marks findings notified (notifiedHash) once their digest is posted.
    args.outbox.recordPostsIn(`${name}-findings`, this.findingsTable, key);

    const inventory = new InlineFunction(
      `${name}-roles`,
      {
        description: "Keeps the role inventory (tags, last change) current from IAM role events",
        logRetentionDays: args.logRetentionDays,
        environment: { ROLES_TABLE: this.rolesTable.name, OWNER_TAG_KEY: ownerTagKey },
        statements: [
          { Sid: "RoleInventory", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [this.rolesTable.arn] },
          { Sid: "BusKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [key.arn] },
        ],
        callbackFactory: () => {
          const roles = dynamoRoleInventory(new DynamoDBClient({}), process.env.ROLES_TABLE!, process.env.OWNER_TAG_KEY!);
          return async (event: { detail?: unknown }) => {
            const change = roleChangeInputOf(event?.detail);
            if (!change) return { skipped: true };
            await roles.apply(change);
            return { applied: change.roleArn };
          };
        },
      },
      p,
    );
    args.bus.subscribe(`${name}-role-changes`, roleChangePattern, { kind: "lambda", function: inventory.function }, "IAM role changes for the role inventory");
    onAsyncFailure(`${name}-roles`, inventory, { queueArn: args.bus.deliveryDeadLetter.arn, keyArn: key.arn, alertTopicArn: args.bus.alertTopic.arn }, this);

    this.registerOutputs({ findingsTable: this.findingsTable.name, queueUrl: this.queue.url });
  }
}
