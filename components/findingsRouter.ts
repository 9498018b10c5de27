/**
 * FindingsRouter: GuardDuty findings and AWS Config non-compliance, routed from the central bus to the people who
 * act. One SNS topic per GuardDuty severity band (EventBridge numeric matching on `detail.severity`, so no Security
 * Hub in between), and a notifier Lambda that posts to the Slack channel from a configured band up, once per
 * finding (GuardDuty republishes active findings every publishing period).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InlineFunction } from "./lambda";
import type { CentralEventBus } from "./centralEventBus";
import { denyInsecureTransport, policy, policyJson } from "./iam";
import { SEVERITY_BANDS, atLeastPattern, configNonCompliantPattern, severityPattern, type SeverityBand } from "../functions/findings/severity";
import { dynamoFindingStore, handleFindingEvent } from "../functions/findings/notify";
import { envNoticeSender } from "../functions/slack/outboxAdapters";
import type { SlackOutbox } from "./slackOutbox";
import { onAsyncFailure } from "./asyncFailures";
import { LIST_ACCOUNTS_STATEMENT, accountNamesEnvironment } from "./accountDirectory";
import { envAccountDirectory } from "../functions/accounts/directory";

export interface TopicSubscriptions {
  emails: string[];
  https: string[];
}

export interface FindingsRouterArgs {
  bus: CentralEventBus;
  /** Every Slack notice goes through the outbox (posted once, paced, failures to its DLQ). Unset (with
   * slackChannelId) = Slack off: the topics only, no notifier. */
  outbox?: SlackOutbox;
  slackChannelId?: string;
  /** GuardDuty findings at or above this band go to Slack. */
  slackMinSeverity: SeverityBand;
  /** Route GuardDuty findings (features.guardDuty). */
  guardDuty: boolean;
  /** Route Config non-compliance (features.configAggregation), to this band's topic and path. */
  configNonCompliantBand?: SeverityBand;
  /** Also post Config non-compliance to Slack. */
  configToSlack?: boolean;
  topics: Record<SeverityBand, TopicSubscriptions>;
  logRetentionDays: number;
  /** Account id -> name for the messages. @default {} */
  accountNames?: Record<string, string>;
}

export class FindingsRouter extends pulumi.ComponentResource {
  readonly topics = {} as Record<SeverityBand, aws.sns.Topic>;
  /** The notifier and its dedupe table exist only when Slack is configured. */
  readonly table?: aws.dynamodb.Table;
  readonly notifier?: InlineFunction;

  constructor(name: string, args: FindingsRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:findings:FindingsRouter", name, {}, opts);
    const p = { parent: this };
    const bus = args.bus;
    const publishers: Record<SeverityBand, pulumi.Output<string>[]> = { low: [], medium: [], high: [], critical: [] };

    for (const band of SEVERITY_BANDS) {
      this.topics[band] = new aws.sns.Topic(`${name}-${band}`, { kmsMasterKeyId: bus.key.id, displayName: `trailwatch ${band} severity findings` }, p);
      for (const email of args.topics[band].emails)
        new aws.sns.TopicSubscription(`${name}-${band}-${email.replace(/[^a-z0-9]/gi, "-")}`, { topic: this.topics[band].arn, protocol: "email", endpoint: email }, p);
      args.topics[band].https.forEach((url, i) =>
        new aws.sns.TopicSubscription(`${name}-${band}-https-${i}`, { topic: this.topics[band].arn, protocol: "https", endpoint: url }, p),
      );
      if (args.guardDuty) {
        const sub = bus.subscribe(`${name}-guardduty-${band}`, severityPattern(band), { kind: "sns", topic: this.topics[band] }, `GuardDuty findings of ${band} severity`);
        publishers[band].push(sub.rule.arn);
      }
    }
    if (args.configNonCompliantBand) {
      const b = args.configNonCompliantBand;
      const sub = bus.subscribe(`${name}-config-noncompliant`, configNonCompliantPattern, { kind: "sns", topic: this.topics[b] }, "AWS Config rules turned NON_COMPLIANT");
      publishers[b].push(sub.rule.arn);
    }
    for (const band of SEVERITY_BANDS) {
      const topic = this.topics[band];
      const statements = [denyInsecureTransport([topic.arn], "sns:Publish")];
      new aws.sns.TopicPolicy(
        `${name}-${band}-policy`,
        {
          arn: topic.arn,
          policy: policyJson(
            policy(
              ...(publishers[band].length > 0
                ? [
                    {
                      Sid: "TheseRulesOnly",
                      Effect: "Allow" as const,
                      Principal: { Service: "events.amazonaws.com" },
                      Action: "sns:Publish",
                      Resource: topic.arn,
                      Condition: { ArnEquals: { "aws:SourceArn": pulumi.all(publishers[band]) } },
                    },
                  ]
                : []),
              ...statements,
            ),
          ),
        },
        p,
      );
    }

    const outbox = args.outbox;
    if (outbox === undefined || args.slackChannelId === undefined) {
      this.registerOutputs({ topics: SEVERITY_BANDS.map((b) => this.topics[b].arn) });
      return;
    }
    this.table = new aws.dynamodb.Table(
      `${name}-notified`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: bus.key.arn },
        pointInTimeRecovery: { enabled: true },
        ttl: { attributeName: "expiresAt", enabled: true },
      },
      p,
    );
    this.notifier = new InlineFunction(
      `${name}-notifier`,
      {
        description: "Hands GuardDuty findings and Config non-compliance to the Slack outbox, once per finding",
        timeout: 30,
        logRetentionDays: args.logRetentionDays,
        environment: {
          NOTIFIED_TABLE: this.table.name,
          SLACK_CHANNEL_ID: args.slackChannelId,
          ...outbox.senderEnvironment(),
          ...accountNamesEnvironment(args.accountNames),
        },
        statements: [
          { Sid: "Dedupe", Effect: "Allow", Action: ["dynamodb:PutItem", "dynamodb:DeleteItem"], Resource: [this.table.arn] },
          { Sid: "TableKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [bus.key.arn] },
          ...outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => {
          const store = dynamoFindingStore(new DynamoDBClient({}), process.env.NOTIFIED_TABLE!);
          const outbox = envNoticeSender();
          // Account names: config over Organizations (cached an hour per container; GuardDuty and Config events
          // carry no account changes, so the TTL is what refreshes it).
          const directory = envAccountDirectory();
          return async (event: unknown) =>
            handleFindingEvent(event, {
              store,
              outbox,
              channel: process.env.SLACK_CHANNEL_ID!,
              table: process.env.NOTIFIED_TABLE!,
              now: new Date(),
              accountNames: await directory.names(),
              log: (l) => console.log(JSON.stringify(l)),
            });
        },
      },
      p,
    );
    // The outbox writes postedTs on the claim once Slack accepted the message.
    outbox.recordPostsIn(`${name}-notified`, this.table, bus.key);
    // EventBridge invokes the notifier asynchronously: after Lambda's two retries a failed event goes to the bus's
    // delivery DLQ (alarmed), not nowhere.
    onAsyncFailure(`${name}-notifier`, this.notifier, { queueArn: bus.deliveryDeadLetter.arn, keyArn: bus.key.arn, alertTopicArn: bus.alertTopic.arn }, this);
    if (args.guardDuty)
      bus.subscribe(`${name}-guardduty-slack`, atLeastPattern(args.slackMinSeverity), { kind: "lambda", function: this.notifier.function }, `GuardDuty findings of ${args.slackMinSeverity} severity and above, to Slack`);
    if (args.configNonCompliantBand && args.configToSlack)
      bus.subscribe(`${name}-config-slack`, configNonCompliantPattern, { kind: "lambda", function: this.notifier.function }, "AWS Config non-compliance, to Slack");

    this.registerOutputs({ topics: SEVERITY_BANDS.map((b) => this.topics[b].arn), notifiedTable: this.table.name });
  }
}
