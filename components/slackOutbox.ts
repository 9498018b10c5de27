/**
 * SlackOutbox: the one delivery path to Slack (functions/slack/outbox.ts).
 *   feature Lambdas --SendMessage (group = channel, dedup = notice id)--> FIFO queue (KMS)
 *     --event source mapping (batches of 10, partial batch responses, at most 2 pollers)--> poster Lambda
 *     --> Slack chat.postMessage, paced per channel, Retry-After respected; ledger table (posted ts per notice)
 *     --> permanent failures, and notices still failing after maxReceiveCount deliveries --> FIFO DLQ --> alarm
 * A FIFO message group is handed to one poller at a time, in order, so one channel is never posted to in parallel.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (FIFO: "Lambda ... in order ... per message group")
 */
import { SLACK_OUTBOX_DEFAULTS } from "./defaults";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction, type FunctionTransforms } from "./lambda";
import { policy, policyJson, readSecret, useKey, type Statement } from "./iam";
import { encryptedTable } from "./table";
import { alertAlarm, type AlertAlarmArgs } from "./alarm";
import { transformed, type Transform } from "./transform";
import { BOT_TOKEN_SECRET_ENV, OUTBOX_DLQ_URL_ENV, OUTBOX_LEDGER_TABLE_ENV, OUTBOX_MIN_INTERVAL_ENV, makeOutboxPosterHandler } from "../functions/slack/handler";
import { OUTBOX_QUEUE_ENV } from "../functions/slack/outboxAdapters";

export { SLACK_OUTBOX_DEFAULTS };

export interface SlackOutboxArgs {
  /** The KMS key for the queues and the ledger (the central bus's key). */
  readonly key: aws.kms.Key;
  /** Where the DLQ and error alarms go. */
  readonly alertTopicArn: pulumi.Input<string>;
  /** The secret (ARN) holding the bot token; the poster reads it at run time. */
  readonly slackBotTokenSecretArn: pulumi.Input<string>;
  /** Spacing between posts to one channel, in ms. @default SLACK_OUTBOX_DEFAULTS.minIntervalMs (1000) */
  readonly minIntervalMs?: number;
  /** Deliveries of a notice that keeps failing (5xx, timeouts) before SQS moves it to the DLQ. @default SLACK_OUTBOX_DEFAULTS.maxReceiveCount (10) */
  readonly maxReceiveCount?: number;
  /** The poster's timeout in seconds (the queue's visibility timeout is six times this). @default SLACK_OUTBOX_DEFAULTS.timeoutSeconds (60) */
  readonly timeoutSeconds?: number;
  /** Days the poster's logs are kept. @default SLACK_OUTBOX_DEFAULTS.logRetentionDays (90) */
  readonly logRetentionDays?: number;
  /**
   * Customize the children: the queue and the DLQ (`queue`, told apart by name: `<name>-queue`, `<name>-dlq`), the
   * ledger table, the poster's function, role and log group, and the three alarms.
   */
  readonly transform?: FunctionTransforms & {
    readonly queue?: Transform<aws.sqs.QueueArgs>;
    readonly table?: Transform<aws.dynamodb.TableArgs>;
    readonly alarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
  };
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
    const timeout = args.timeoutSeconds ?? SLACK_OUTBOX_DEFAULTS.timeoutSeconds;
    const t = args.transform;

    // A FIFO queue's dead-letter queue must be FIFO too, and a FIFO queue's name must end in ".fifo".
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
    this.deadLetter = new aws.sqs.Queue(
      ...transformed(t?.queue, `${name}-dlq`, { name: `trailwatch-${pulumi.getStack()}-${name}-dlq.fifo`, fifoQueue: true, kmsMasterKeyId: args.key.id, messageRetentionSeconds: 1209600 }, p),
    );
    this.queue = new aws.sqs.Queue(
      ...transformed(t?.queue, `${name}-queue`, {
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
        redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: this.deadLetter.arn, maxReceiveCount: args.maxReceiveCount ?? SLACK_OUTBOX_DEFAULTS.maxReceiveCount }),
      }, p),
    );
    this.ledger = encryptedTable(`${name}-ledger`, { keyArn: args.key.arn, ttlAttribute: "expiresAt", transform: t?.table }, p);

    this.poster = new InlineFunction(
      `${name}-poster`,
      {
        description: "Posts queued notices to Slack: once per notice, paced per channel, permanent failures to the DLQ",
        timeout,
        logRetentionDays: args.logRetentionDays ?? SLACK_OUTBOX_DEFAULTS.logRetentionDays,
        environment: {
          [OUTBOX_LEDGER_TABLE_ENV]: this.ledger.name,
          [OUTBOX_DLQ_URL_ENV]: this.deadLetter.url,
          [BOT_TOKEN_SECRET_ENV]: args.slackBotTokenSecretArn,
          [OUTBOX_MIN_INTERVAL_ENV]: String(args.minIntervalMs ?? SLACK_OUTBOX_DEFAULTS.minIntervalMs),
        },
        statements: [
          { Sid: "ReceiveNotices", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [this.queue.arn] },
          { Sid: "DeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [this.deadLetter.arn] },
          { Sid: "Ledger", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [this.ledger.arn] },
          useKey(args.key.arn, "QueueAndLedgerKey"),
          readSecret(args.slackBotTokenSecretArn, "SlackToken"),
        ],
        callbackFactory: () => makeOutboxPosterHandler(),
        transform: { function: t?.function, role: t?.role, logGroup: t?.logGroup },
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

    const alarm = (id: string, description: string, metric: Pick<AlertAlarmArgs, "namespace" | "metricName" | "dimensions" | "statistic">, threshold = 0) =>
      alertAlarm(`${name}-${id}`, { description, ...metric, threshold, treatMissingData: "notBreaching", topicArn: args.alertTopicArn, transform: t?.alarm }, p);
    alarm(
      "dlq-depth",
      "trailwatch: Slack notices are in the outbox DLQ (Slack refused them: see the poster's log line 'dead-lettered' for which notice and why, and the message's reason attribute); fix the cause, then redrive",
      { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: this.deadLetter.name }, statistic: "Maximum" },
    );
    alarm("poster-errors", "trailwatch: the Slack outbox poster failed (notices wait in the outbox queue)", {
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: this.poster.function.name },
      statistic: "Sum",
    });
    // A notice waiting longer than 15 minutes means the channel is backed up or Slack keeps failing.
    alarm(
      "oldest",
      "trailwatch: Slack notices have waited over 15 minutes in the outbox",
      { namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: this.queue.name }, statistic: "Maximum" },
      900,
    );
    this.registerOutputs({ queueUrl: this.queue.url, deadLetterUrl: this.deadLetter.url, ledger: this.ledger.name });
  }

  /** What a feature Lambda needs to hand notices to the outbox. */
  senderEnvironment(): Record<string, pulumi.Input<string>> {
    return { [OUTBOX_QUEUE_ENV]: this.queue.url };
  }

  senderStatements(): Statement[] {
    return [
      { Sid: "SlackOutbox", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [this.queue.arn] },
      // SendMessage to a KMS-encrypted queue needs GenerateDataKey and Decrypt on its key.
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
      useKey(this.key.arn, "SlackOutboxKey", ["kms:GenerateDataKey", "kms:Decrypt"]),
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
            useKey(key.arn, "TableKey"),
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
