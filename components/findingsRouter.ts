/**
 * FindingsRouter: GuardDuty findings and AWS Config non-compliance, routed from the central bus to the people who
 * act. One SNS topic per GuardDuty severity band (EventBridge numeric matching on `detail.severity`, so no Security
 * Hub in between), and a notifier Lambda that posts to the Slack channel from a configured band up, once per
 * finding (GuardDuty republishes active findings every publishing period).
 */
import { FINDINGS_ROUTER_DEFAULTS } from "./defaults";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction, type FunctionTransforms } from "./lambda";
import type { CentralEventBus } from "./centralEventBus";
import { denyInsecureTransport, policy, policyJson, useKey } from "./iam";
import { SEVERITY_BANDS, atLeastPattern, configNonCompliantPattern, severityPattern, type SeverityBand } from "../functions/findings/severity";
import { FINDINGS_CHANNEL_ENV, NOTIFIED_TABLE_ENV, makeFindingsNotifierHandler } from "../functions/findings/handler";
import type { SlackOutbox } from "./slackOutbox";
import { onAsyncFailure } from "./asyncFailures";
import { LIST_ACCOUNTS_STATEMENT, accountNamesEnvironment } from "./accountDirectory";
import { encryptedTable } from "./table";
import { transformed, type Transform } from "./transform";

/** Who hears about one severity band's findings besides Slack. */
export interface TopicSubscriptions {
  /** Email addresses subscribed to the band's topic (each confirms the subscription). */
  readonly emails: readonly string[];
  /** https:// endpoints subscribed to the band's topic (each confirms the subscription). */
  readonly https: readonly string[];
}

export { FINDINGS_ROUTER_DEFAULTS };

export interface FindingsRouterArgs {
  /** The central bus the findings arrive on; its key encrypts the topics and the dedupe table. */
  readonly bus: CentralEventBus;
  /**
   * Every Slack notice goes through the outbox (posted once, paced, failures to its DLQ). Unset (or no
   * `slackChannelId`): Slack off, the topics only, no notifier.
   */
  readonly outbox?: SlackOutbox;
  /** The Slack channel the notifier posts to. @example "C0123ABCD45" */
  readonly slackChannelId?: string;
  /** GuardDuty findings at or above this band go to Slack. @default FINDINGS_ROUTER_DEFAULTS.slackMinSeverity ("high") */
  readonly slackMinSeverity?: SeverityBand;
  /** Route GuardDuty findings (the stack's `features.guardDuty`). */
  readonly guardDuty: boolean;
  /** Route Config non-compliance to this band's topic (and Slack path); unset: Config is not routed. */
  readonly configNonCompliantBand?: SeverityBand;
  /** Also post Config non-compliance to Slack. @default FINDINGS_ROUTER_DEFAULTS.configToSlack (true) */
  readonly configToSlack?: boolean;
  /** Subscriptions per severity band (every band has a topic, subscribed or not). */
  readonly topics: Readonly<Record<SeverityBand, TopicSubscriptions>>;
  /** Days the notifier's log group keeps its logs. @default FINDINGS_ROUTER_DEFAULTS.logRetentionDays (90) */
  readonly logRetentionDays?: number;
  /** Account id -> name for the messages (they win over the organization's names). @default {} */
  readonly accountNames?: Readonly<Record<string, string>>;
  /** Customize the children: every band's topic, the dedupe table, the notifier's function, role and log group. */
  readonly transform?: FunctionTransforms & {
    readonly topic?: Transform<aws.sns.TopicArgs>;
    readonly table?: Transform<aws.dynamodb.TableArgs>;
  };
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
      this.topics[band] = new aws.sns.Topic(
        ...transformed(args.transform?.topic, `${name}-${band}`, { kmsMasterKeyId: bus.key.id, displayName: `trailwatch ${band} severity findings` }, p),
      );
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
    this.table = encryptedTable(`${name}-notified`, { keyArn: bus.key.arn, ttlAttribute: "expiresAt", transform: args.transform?.table }, p);
    this.notifier = new InlineFunction(
      `${name}-notifier`,
      {
        description: "Hands GuardDuty findings and Config non-compliance to the Slack outbox, once per finding",
        timeout: 30,
        logRetentionDays: args.logRetentionDays ?? FINDINGS_ROUTER_DEFAULTS.logRetentionDays,
        environment: {
          [NOTIFIED_TABLE_ENV]: this.table.name,
          [FINDINGS_CHANNEL_ENV]: args.slackChannelId,
          ...outbox.senderEnvironment(),
          ...accountNamesEnvironment(args.accountNames),
        },
        statements: [
          { Sid: "Dedupe", Effect: "Allow", Action: ["dynamodb:PutItem", "dynamodb:DeleteItem"], Resource: [this.table.arn] },
          useKey(bus.key.arn, "TableKey"),
          ...outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => makeFindingsNotifierHandler(),
        transform: { function: args.transform?.function, role: args.transform?.role, logGroup: args.transform?.logGroup },
      },
      p,
    );
    const slackMinSeverity = args.slackMinSeverity ?? FINDINGS_ROUTER_DEFAULTS.slackMinSeverity;
    // The outbox writes postedTs on the claim once Slack accepted the message.
    outbox.recordPostsIn(`${name}-notified`, this.table, bus.key);
    // EventBridge invokes the notifier asynchronously: after Lambda's two retries a failed event goes to the bus's
    // delivery DLQ (alarmed), not nowhere.
    onAsyncFailure(`${name}-notifier`, this.notifier, { queueArn: bus.deliveryDeadLetter.arn, keyArn: bus.key.arn, alertTopicArn: bus.alertTopic.arn }, this);
    if (args.guardDuty)
      bus.subscribe(`${name}-guardduty-slack`, atLeastPattern(slackMinSeverity), { kind: "lambda", function: this.notifier.function }, `GuardDuty findings of ${slackMinSeverity} severity and above, to Slack`);
    if (args.configNonCompliantBand && (args.configToSlack ?? FINDINGS_ROUTER_DEFAULTS.configToSlack))
      bus.subscribe(`${name}-config-slack`, configNonCompliantPattern, { kind: "lambda", function: this.notifier.function }, "AWS Config non-compliance, to Slack");

    this.registerOutputs({ topics: SEVERITY_BANDS.map((b) => this.topics[b].arn), notifiedTable: this.table.name });
  }
}
