/**
 * SlackOutbox: the one delivery path to Slack (functions/slack/outbox.ts).
 *   feature Lambdas --SendMessage (group = channel, dedup = notice id)--> FIFO queue (KMS)
 *     --event source mapping (batches of 10, partial batch responses, at most 2 pollers)--> poster Lambda
 *     --> Slack chat.postMessage, paced per channel, Retry-After respected; ledger table (posted ts per notice)
 *     --> permanent failures, and notices still failing after maxReceiveCount deliveries --> FIFO DLQ --> alarm
 * A FIFO message group is handed to one poller at a time, in order, so one channel is never posted to in parallel.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (FIFO: "Lambda ... in order ... per message group")
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { InlineFunction } from "./lambda";
import { policy, policyJson, type Statement } from "./iam";
import { processOutboxBatch } from "../functions/slack/outbox";
import { dynamoOutboxLedger, dynamoPostedRecorder, sqsDeadLetter, webClientOutboxSlack } from "../functions/slack/outboxAdapters";
import { outboxSlackClient } from "../functions/slack/client";

export interface SlackOutboxArgs {
  /** The KMS key for the queues and the ledger (the central bus's key). */
  readonly key: aws.kms.Key;
  /** Where the DLQ and error alarms go. */
  readonly alertTopicArn: pulumi.Input<string>;
  readonly slackBotTokenSecretArn: pulumi.Input<string>;
  /** Spacing between posts to one channel. @default 1000 (Slack: about one message per second per channel) */
  readonly minIntervalMs?: number;
  /** Deliveries of a notice that keeps failing (5xx, timeouts) before SQS moves it to the DLQ. @default 10 */
  readonly maxReceiveCount?: number;
  /** The poster's timeout in seconds. @default 60 */
  readonly timeoutSeconds?: number;
  readonly logRetentionDays?: number;
}

/** The poster's event source mapping settings, exported for tests and reviewers. */
export const OUTBOX_BATCH_SIZE = 10; // a FIFO queue's maximum batch size
/** The lowest maximumConcurrency an SQS event source accepts is 2. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html */
export const OUTBOX_MAX_CONCURRENCY = 2;

export class SlackOutbox extends pulumi.ComponentResource {
  private readonly recorders: aws.iam.RolePolicy[] = [];
  private sealed = false;
  private resolveRecorders: (r: aws.iam.RolePolicy[]) => void = () => undefined;
  /** The onPosted grants (recordPostsIn), once seal() says there are no more. */
  private readonly recordersReady: Promise<aws.iam.RolePolicy[]>;
  readonly queue: aws.sqs.Queue;
  readonly deadLetter: aws.sqs.Queue;
  readonly ledger: aws.dynamodb.Table;
  readonly poster: InlineFunction;
  private readonly key: aws.kms.Key;
  private readonly name: string;

  constructor(name: string, args: SlackOutboxArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:slack:SlackOutbox", name, {}, opts);
    const p = { parent: this };
    this.key = args.key;
    this.name = name;
    this.recordersReady = new Promise((resolve) => (this.resolveRecorders = resolve));
    setImmediate(() => this.seal());
    const timeout = args.timeoutSeconds ?? 60;

    this.deadLetter = new aws.sqs.Queue(
      `${name}-dlq`,
      // A FIFO queue's dead-letter queue must be FIFO too, and a FIFO queue's name must end in ".fifo".
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
      { name: `trailwatch-${pulumi.getStack()}-${name}-dlq.fifo`, fifoQueue: true, kmsMasterKeyId: args.key.id, messageRetentionSeconds: 1209600 },
      p,
    );
    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: `trailwatch-${pulumi.getStack()}-${name}.fifo`,
        fifoQueue: true,
        // Deduplication by the notice id the sender gives, not by content (a digest and its re-send may differ).
        contentBasedDeduplication: false,
        kmsMasterKeyId: args.key.id,
        kmsDataKeyReusePeriodSeconds: 300,
        // At least six times the function's timeout, as Lambda's SQS event source recommends.
        // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
        visibilityTimeoutSeconds: 6 * timeout,
        messageRetentionSeconds: 1209600,
        redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: this.deadLetter.arn, maxReceiveCount: args.maxReceiveCount ?? 10 }),
      },
      p,
    );
    this.ledger = new aws.dynamodb.Table(
      `${name}-ledger`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: args.key.arn },
        pointInTimeRecovery: { enabled: true },
        ttl: { attributeName: "expiresAt", enabled: true },
      },
      p,
    );

    this.poster = new InlineFunction(
      `${name}-poster`,
      {
        description: "Posts queued notices to Slack: once per notice, paced per channel, permanent failures to the DLQ",
        timeout,
        logRetentionDays: args.logRetentionDays,
        environment: {
          OUTBOX_LEDGER_TABLE: this.ledger.name,
          OUTBOX_DLQ_URL: this.deadLetter.url,
          SLACK_BOT_TOKEN_SECRET: args.slackBotTokenSecretArn,
          SLACK_MIN_INTERVAL_MS: String(args.minIntervalMs ?? 1000),
        },
        statements: [
          { Sid: "ReceiveNotices", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [this.queue.arn] },
          { Sid: "DeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [this.deadLetter.arn] },
          { Sid: "Ledger", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [this.ledger.arn] },
          { Sid: "QueueAndLedgerKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [args.key.arn] },
          { Sid: "SlackToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.slackBotTokenSecretArn] },
        ],
        callbackFactory: () => {
          const ddb = new DynamoDBClient({});
          const ledger = dynamoOutboxLedger(ddb, process.env.OUTBOX_LEDGER_TABLE!);
          const record = dynamoPostedRecorder(ddb);
          const deadLetter = sqsDeadLetter(new SQSClient({}), process.env.OUTBOX_DLQ_URL!);
          const minIntervalMs = Number(process.env.SLACK_MIN_INTERVAL_MS) || 1000;
          return async (event: { Records: { messageId: string; body: string; messageAttributes?: Record<string, { stringValue?: string }> }[] }, context: { getRemainingTimeInMillis?: () => number }) => {
            const slack = webClientOutboxSlack(await outboxSlackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
            return processOutboxBatch(event.Records ?? [], {
              ledger,
              slack,
              record,
              deadLetter,
              minIntervalMs,
              now: () => Date.now(),
              sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
              remainingMs: () => (context?.getRemainingTimeInMillis ? context.getRemainingTimeInMillis() : 60_000),
              log: (l) => console.log(JSON.stringify(l)),
            });
          };
        },
      },
      p,
    );
    new aws.lambda.EventSourceMapping(
      `${name}-poster-source`,
      {
        eventSourceArn: this.queue.arn,
        functionName: this.poster.function.name,
        batchSize: OUTBOX_BATCH_SIZE,
        functionResponseTypes: ["ReportBatchItemFailures"],
        // Bounded pollers: with FIFO each channel (message group) is with one of them at a time anyway.
        // Reserved concurrency is not used: Lambda refuses a reservation that leaves less than the account's minimum
        // unreserved concurrency, which fails the deploy on new accounts (quota 10).
        // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
        scalingConfig: { maximumConcurrency: OUTBOX_MAX_CONCURRENCY },
      },
      // The mapping starts polling once created: it waits for the onPosted grants features add (recordPostsIn), so no
      // notice is tried before the poster may record it (the poster's own policy: InlineFunction waits for it).
      { ...p, dependsOn: this.recordersReady },
    );

    const alarm = (id: string, description: string, namespace: string, metricName: string, dimensions: Record<string, pulumi.Input<string>>, statistic = "Sum") =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${id}`,
        {
          alarmDescription: description,
          namespace,
          metricName,
          dimensions,
          statistic,
          period: 300,
          evaluationPeriods: 1,
          threshold: 0,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [args.alertTopicArn],
          okActions: [args.alertTopicArn],
        },
        p,
      );
    alarm(
      "dlq-depth",
      "trailwatch: Slack notices are in the outbox DLQ (Slack refused them: see the poster's log line 'dead-lettered' for which notice and why, and the message's reason attribute); fix the cause, then redrive",
      "AWS/SQS",
      "ApproximateNumberOfMessagesVisible",
      { QueueName: this.deadLetter.name },
      "Maximum",
    );
    alarm("poster-errors", "trailwatch: the Slack outbox poster failed (notices wait in the outbox queue)", "AWS/Lambda", "Errors", { FunctionName: this.poster.function.name });
    // A notice waiting longer than 15 minutes means the channel is backed up or Slack keeps failing.
    new aws.cloudwatch.MetricAlarm(
      `${name}-oldest`,
      {
        alarmDescription: "trailwatch: Slack notices have waited over 15 minutes in the outbox",
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: this.queue.name },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 900,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [args.alertTopicArn],
        okActions: [args.alertTopicArn],
      },
      p,
    );
    this.registerOutputs({ queueUrl: this.queue.url, deadLetterUrl: this.deadLetter.url, ledger: this.ledger.name });
  }

  /** What a feature Lambda needs to hand notices to the outbox. */
  senderEnvironment(): Record<string, pulumi.Input<string>> {
    return { SLACK_OUTBOX_QUEUE_URL: this.queue.url };
  }

  senderStatements(): Statement[] {
    return [
      { Sid: "SlackOutbox", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [this.queue.arn] },
      // SendMessage to a KMS-encrypted queue needs GenerateDataKey and Decrypt on its key.
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
      { Sid: "SlackOutboxKey", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [this.key.arn] },
    ];
  }

  /** Let the poster record posted messages (onPosted) in a feature's table: UpdateItem on that table only. */
  recordPostsIn(id: string, table: aws.dynamodb.Table, key: aws.kms.Key): void {
    if (this.sealed) throw new Error(`SlackOutbox ${this.name}: recordPostsIn("${id}") after seal(); grant every table while the program is built`);
    this.recorders.push(new aws.iam.RolePolicy(
      `${this.name}-records-${id}`,
      {
        role: this.poster.role.id,
        policy: policyJson(
          policy(
            { Sid: "RecordPosted", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [table.arn] },
            { Sid: "TableKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [key.arn] },
          ),
        ),
      },
      { parent: this },
    ));
  }

  /**
   * No more recordPostsIn: the poster's event source mapping, which waits for every grant, may be created. Called
   * by the stack once every feature is wired (stacks/program.ts); otherwise on the next turn of the event loop,
   * since a Pulumi program declares its resources synchronously.
   */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    this.resolveRecorders(this.recorders);
  }
}
