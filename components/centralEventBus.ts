/**
 * CentralEventBus: the one bus in the security account that every account and region forwards to, with an archive
 * for replay, a subscription helper that never lets a target drop events silently, and a heartbeat alarm that
 * notices a forwarder that went quiet.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policy, policyJson, serviceMay, useKey } from "./iam";
import { accountKeyPolicy, customerKey } from "./kms";
import { alarmTopic } from "./alarmTopic";
import { alertAlarm } from "./alarm";
import { InlineFunction, type FunctionTransforms } from "./lambda";
import { onAsyncFailure } from "./asyncFailures";
import { encryptedTable } from "./table";
import { scheduleFunction } from "./schedule";
import { transformed, type Transform } from "./transform";
import type { OrgContext } from "./org";
import { CENTRAL_EVENT_BUS_DEFAULTS } from "./defaults";
import { FORWARDER_ROLE_PREFIX, TARGET_RETRY } from "./forwarderTemplate";
import { heartbeatPattern, type RuleState } from "../functions/patterns";
import { HEARTBEAT_NAMESPACE, QUIET_METRIC } from "../functions/heartbeat";
import {
  EXPECTED_DIRECT_ACCOUNTS_ENV,
  EXPECTED_GRACE_MINUTES_ENV,
  EXPECTED_REGIONS_ENV,
  EXPECTED_TARGETS_ENV,
  HEARTBEAT_TABLE_ENV,
  makeHeartbeatHandler,
  QUIET_MINUTES_ENV,
} from "../functions/heartbeat/handler";
import { assertDeployablePattern } from "../functions/eventPattern";

export { CENTRAL_EVENT_BUS_DEFAULTS };

/** Customize the bus's children (components/transform.ts): one entry per kind, the callback gets each child's name. */
export interface CentralEventBusTransforms extends FunctionTransforms {
  readonly key?: Transform<aws.kms.KeyArgs>;
  readonly bus?: Transform<aws.cloudwatch.EventBusArgs>;
  readonly archive?: Transform<aws.cloudwatch.EventArchiveArgs>;
  /** The alert topic. */
  readonly topic?: Transform<aws.sns.TopicArgs>;
  /** Every queue: the delivery DLQ and, for `subscribe`, each SQS target and its DLQ. */
  readonly queue?: Transform<aws.sqs.QueueArgs>;
  /** The heartbeat table. */
  readonly table?: Transform<aws.dynamodb.TableArgs>;
  /** Every rule: the heartbeat check's schedule and each `subscribe` rule. */
  readonly rule?: Transform<aws.cloudwatch.EventRuleArgs>;
  /** Every target: the heartbeat check's and each `subscribe` target. */
  readonly target?: Transform<aws.cloudwatch.EventTargetArgs>;
  /** Every alarm (queue depths, quiet forwarders). */
  readonly alarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
}

/** Where forwarders should be, so one that never sent a heartbeat is missed too. */
export interface ExpectedForwarders {
  /** Root / OU ids whose accounts get forwarders through the StackSet (read through Organizations). Empty in direct mode. */
  readonly targets: readonly string[];
  /** Accounts with forwarders deployed directly (the management account, direct mode's list). */
  readonly directAccounts: readonly string[];
  /** Every region forwarders send from. */
  readonly regions: readonly string[];
  /** Minutes a new account may take to get its stack instances. @default 60 */
  readonly graceMinutes?: number;
}

export interface CentralEventBusArgs {
  /**
   * The organization: its id (only its principals may put events), the security account and home region the bus
   * lives in (the component's provider is `org.provider("security")` unless the options give one), and the management
   * account that owns the organization's root and OUs.
   */
  readonly org: OrgContext;
  /** The bus's name. @default "trailwatch-central" */
  readonly busName?: string;
  /** Days the archive keeps every event for replay. @default 30 */
  readonly archiveRetentionDays?: number;
  /** Minutes without a heartbeat before a forwarder counts as quiet. @default 30 */
  readonly heartbeatMinutes?: number;
  /** Email subscriptions on the alert topic (DLQ depth, quiet forwarders). @default [] */
  readonly alertEmails?: readonly string[];
  /**
   * Role names (IAM wildcards allowed) that may put events from other accounts: the forwarders' roles. Principals of
   * the security account itself need only their own IAM policy. @default FORWARDER_ROLE_NAMES
   */
  readonly putEventsRoleNames?: readonly string[];
  /** EventBridge's event pattern size quota in this account and region (config eventBus.maxPatternChars). @default 2048 */
  readonly maxPatternChars?: number;
  /** Where forwarders should be; unset = only forwarders heard from once are checked. */
  readonly expectedForwarders?: ExpectedForwarders;
  /** Customize the children. */
  readonly transform?: CentralEventBusTransforms;
}

/** The roles forwarders put events with: `trailwatch-forwarder` (management, direct mode), `-<region>` (StackSet). */
export const FORWARDER_ROLE_NAMES = [FORWARDER_ROLE_PREFIX, `${FORWARDER_ROLE_PREFIX}-*`];

export type SubscriptionTarget =
  /** A queue with SSE (the bus key), its own DLQ with redrive, and an alarm on the DLQ's depth. */
  | { readonly kind: "sqs"; readonly visibilityTimeoutSeconds?: number; readonly maxReceiveCount?: number }
  | { readonly kind: "lambda"; readonly function: aws.lambda.Function }
  /** An SNS topic encrypted with the bus key; the caller's topic policy must allow this rule (`rule.arn`). */
  | { readonly kind: "sns"; readonly topic: aws.sns.Topic }
  /** A KMS-encrypted log group with the resource policy EventBridge needs (without it delivery fails silently). */
  | { readonly kind: "logGroup"; readonly retentionDays: number };

export interface Subscription {
  readonly rule: aws.cloudwatch.EventRule;
  readonly target: aws.cloudwatch.EventTarget;
  readonly queue?: aws.sqs.Queue;
  readonly queueDeadLetter?: aws.sqs.Queue;
  readonly logGroup?: aws.cloudwatch.LogGroup;
}

export class CentralEventBus extends pulumi.ComponentResource {
  readonly bus: aws.cloudwatch.EventBus;
  readonly key: aws.kms.Key;
  readonly alertTopic: aws.sns.Topic;
  /** Where events go that a target could not take after all retries. */
  readonly deliveryDeadLetter: aws.sqs.Queue;
  readonly busArn: pulumi.Output<string>;
  /** The heartbeat function, its table and its schedule (SST-style `nodes`). */
  readonly heartbeatNodes: { readonly function: InlineFunction; readonly table: aws.dynamodb.Table; readonly check: aws.cloudwatch.EventRule };
  private readonly maxPatternChars: number;
  private readonly transform: CentralEventBusTransforms;

  constructor(name: string, args: CentralEventBusArgs, opts?: pulumi.ComponentResourceOptions) {
    const { org } = args;
    super("trailwatch:backbone:CentralEventBus", name, {}, { provider: org.provider("security"), ...opts });
    const accountId = org.accounts.security;
    const region = org.homeRegion;
    const defaults = CENTRAL_EVENT_BUS_DEFAULTS;
    this.maxPatternChars = args.maxPatternChars ?? defaults.maxPatternChars;
    this.transform = args.transform ?? {};
    const t = this.transform;
    const p = { parent: this };

    this.key = customerKey(
      `${name}-key`,
      {
        description: "trailwatch central bus: queues, log groups, alert topic",
        policy: accountKeyPolicy(accountId, region, ["events", "alarms", "logs"]),
        alias: `alias/trailwatch-${pulumi.getStack()}-bus`,
        transform: t.key,
      },
      p,
    );

    this.bus = new aws.cloudwatch.EventBus(...transformed(t.bus, `${name}-bus`, { name: args.busName ?? defaults.busName }, p));
    this.busArn = this.bus.arn;
    // Only the forwarders' roles, in accounts of this organization, may put events: any other principal of the
    // organization could otherwise inject fake denies or security-group changes into Slack and the SCP metrics.
    // Senders must target the bus with a RoleArn (the forwarder role).
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html#eb-event-bus-example-policy-cross-account-org
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    const roleNames = args.putEventsRoleNames ?? FORWARDER_ROLE_NAMES;
    new aws.cloudwatch.EventBusPolicy(
      `${name}-policy`,
      {
        eventBusName: this.bus.name,
        policy: policyJson(
          policy({
            Sid: "ForwarderRolesOfTheOrganizationPutEvents",
            Effect: "Allow",
            Principal: "*",
            Action: "events:PutEvents",
            Resource: this.bus.arn,
            Condition: {
              StringEquals: { "aws:PrincipalOrgID": org.organizationId },
              ArnLike: { "aws:PrincipalArn": roleNames.map((n) => `arn:aws:iam::*:role/${n}`) },
            },
          }),
        ),
      },
      p,
    );
    new aws.cloudwatch.EventArchive(
      ...transformed(
        t.archive,
        `${name}-archive`,
        {
          name: `trailwatch-${pulumi.getStack()}-central`,
          eventSourceArn: this.bus.arn,
          retentionDays: args.archiveRetentionDays ?? defaults.archiveRetentionDays,
          description: "Every event on the central bus, for replay after an outage or a fix",
        },
        p,
      ),
    );

    this.alertTopic = alarmTopic(
      `${name}-alerts`,
      { keyId: this.key.id, accountId, displayName: "trailwatch alerts", emails: args.alertEmails ?? [], transform: t.topic },
      p,
    );

    this.deliveryDeadLetter = this.queueWithAlarm(`${name}-delivery-dlq`, "events no target could take after retries");
    new aws.sqs.QueuePolicy(
      `${name}-delivery-dlq-policy`,
      {
        queueUrl: this.deliveryDeadLetter.url,
        policy: policyJson(
          policy(serviceMay("EventBridgeDeadLetters", "events.amazonaws.com", "sqs:SendMessage", this.deliveryDeadLetter.arn, { StringEquals: { "aws:SourceAccount": accountId } })),
        ),
      },
      p,
    );

    this.heartbeatNodes = this.heartbeat(name, org, args.heartbeatMinutes ?? defaults.heartbeatMinutes, args.expectedForwarders);
    this.registerOutputs({ busArn: this.bus.arn, busName: this.bus.name, alertTopicArn: this.alertTopic.arn, keyArn: this.key.arn });
  }

  /**
   * Route events matching `pattern` on the central bus to a target. Every target gets a retry policy and a
   * dead-letter queue; queues get their own DLQ; log groups get the resource policy EventBridge needs. The bus's
   * `transform` applies to the rule, target, queues and log group made here.
   */
  subscribe(
    name: string,
    pattern: Record<string, unknown>,
    target: SubscriptionTarget,
    description?: string,
    options: { readonly state?: RuleState } = {},
  ): Subscription {
    const p = { parent: this };
    const t = this.transform;
    // Every rule matches `source`: events forwarded by rules keep their AWS source (`aws.<service>`), which no
    // principal can put with PutEvents, so a pattern without a source would also match forged events. Patterns that
    // match events of another source (Lambda destinations: `lambda`) name it and pin the sending `account`.
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
    if (pattern.source === undefined) pattern = { source: [{ prefix: "aws." }], ...pattern };
    // A pattern PutRule refuses, or that EventBridge reads differently than our matcher, fails the plan here.
    assertDeployablePattern(`${name}-rule`, pattern, this.maxPatternChars, " (raise the quota, then set trailwatch:eventBus.maxPatternChars)");
    // The read-only management event filter applies on custom buses too: a stream that must see Get/Describe/List
    // calls (denies) passes ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS here as well as on the forwarders.
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html
    const rule = new aws.cloudwatch.EventRule(
      ...transformed(t.rule, `${name}-rule`, { eventBusName: this.bus.name, eventPattern: JSON.stringify(pattern), state: options.state ?? "ENABLED", description }, p),
    );
    const toTarget = (arn: pulumi.Input<string>) =>
      new aws.cloudwatch.EventTarget(
        ...transformed(
          t.target,
          `${name}-target`,
          { rule: rule.name, eventBusName: this.bus.name, deadLetterConfig: { arn: this.deliveryDeadLetter.arn }, retryPolicy: TARGET_RETRY, arn },
          p,
        ),
      );
    if (target.kind === "sqs") {
      const queueDeadLetter = this.queueWithAlarm(`${name}-dlq`, `${name} messages that failed processing repeatedly`);
      const queue = new aws.sqs.Queue(
        ...transformed(
          t.queue,
          `${name}-queue`,
          {
            kmsMasterKeyId: this.key.id,
            kmsDataKeyReusePeriodSeconds: 300,
            // Six times the consumer's timeout, as Lambda event source mappings recommend.
            visibilityTimeoutSeconds: target.visibilityTimeoutSeconds ?? 180,
            messageRetentionSeconds: 345600,
            redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: queueDeadLetter.arn, maxReceiveCount: target.maxReceiveCount ?? 5 }),
          },
          p,
        ),
      );
      new aws.sqs.QueuePolicy(
        `${name}-queue-policy`,
        {
          queueUrl: queue.url,
          policy: policyJson(
            policy(
              serviceMay("ThisRuleOnly", "events.amazonaws.com", "sqs:SendMessage", queue.arn, { ArnEquals: { "aws:SourceArn": rule.arn } }),
              denyInsecureTransport([queue.arn], "sqs:*"),
            ),
          ),
        },
        p,
      );
      return { rule, target: toTarget(queue.arn), queue, queueDeadLetter };
    }
    if (target.kind === "lambda") {
      new aws.lambda.Permission(
        `${name}-invoke`,
        { action: "lambda:InvokeFunction", function: target.function.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
        p,
      );
      return { rule, target: toTarget(target.function.arn) };
    }
    if (target.kind === "sns") return { rule, target: toTarget(target.topic.arn) };
    const logGroup = new aws.cloudwatch.LogGroup(
      ...transformed(
        t.logGroup,
        `${name}-logs`,
        { name: `/aws/events/trailwatch/${pulumi.getStack()}/${name}`, retentionInDays: target.retentionDays, kmsKeyId: this.key.arn },
        p,
      ),
    );
    // Without this resource policy EventBridge cannot write to the group and drops events without an error.
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-cloudwatchlogs-permissions
    new aws.cloudwatch.LogResourcePolicy(
      `${name}-logs-policy`,
      {
        policyName: `trailwatch-${pulumi.getStack()}-${name}`,
        policyDocument: policyJson(
          policy(serviceMay("EventBridgeWritesThisGroup", ["events.amazonaws.com", "delivery.logs.amazonaws.com"], ["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.interpolate`${logGroup.arn}:*`])),
        ),
      },
      p,
    );
    return { rule, target: toTarget(logGroup.arn), logGroup };
  }

  /** A KMS-encrypted queue and an alarm that fires as soon as it holds a message. */
  private queueWithAlarm(name: string, what: string): aws.sqs.Queue {
    const p = { parent: this };
    const queue = new aws.sqs.Queue(...transformed(this.transform.queue, name, { kmsMasterKeyId: this.key.id, messageRetentionSeconds: 1209600 }, p));
    alertAlarm(
      `${name}-depth`,
      {
        description: `trailwatch: ${what} are waiting in ${name}; inspect and redrive them`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: queue.name },
        treatMissingData: "notBreaching",
        topicArn: this.alertTopic.arn,
        transform: this.transform.alarm,
      },
      p,
    );
    return queue;
  }

  /** Heartbeats from every forwarder are recorded; a 5-minute check publishes how many went quiet; an alarm fires. */
  private heartbeat(name: string, org: OrgContext, quietMinutes: number, expected?: ExpectedForwarders): CentralEventBus["heartbeatNodes"] {
    const p = { parent: this };
    const t = this.transform;
    // Reading the organization's accounts under the targets: List*ForParent on its root and OUs only.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
    const management = org.accounts.management;
    const orgStatements = expected
      ? [
          {
            Sid: "ExpectedForwarders",
            Effect: "Allow" as const,
            Action: ["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"],
            Resource: [
              pulumi.interpolate`arn:aws:organizations::${management}:root/${org.organizationId}/*`,
              pulumi.interpolate`arn:aws:organizations::${management}:ou/${org.organizationId}/*`,
            ],
          },
        ]
      : [];
    const table = encryptedTable(`${name}-heartbeats`, { keyArn: this.key.arn, ttlAttribute: false, transform: t.table }, p);
    const fn = new InlineFunction(
      `${name}-heartbeat`,
      {
        description: "Records forwarder heartbeats and reports quiet forwarders",
        statements: [
          { Sid: "HeartbeatTable", Effect: "Allow", Action: ["dynamodb:PutItem", "dynamodb:Scan"], Resource: [table.arn] },
          useKey(this.key.arn, "TableKey"),
          ...orgStatements,
        ],
        environment: {
          [HEARTBEAT_TABLE_ENV]: table.name,
          [QUIET_MINUTES_ENV]: String(quietMinutes),
          ...(expected
            ? {
                [EXPECTED_TARGETS_ENV]: expected.targets.join(","),
                [EXPECTED_DIRECT_ACCOUNTS_ENV]: expected.directAccounts.join(","),
                [EXPECTED_REGIONS_ENV]: expected.regions.join(","),
                [EXPECTED_GRACE_MINUTES_ENV]: String(expected.graceMinutes ?? CENTRAL_EVENT_BUS_DEFAULTS.expectedForwardersGraceMinutes),
              }
            : {}),
        },
        timeout: 60,
        // The quiet-forwarders count is an EMF line: raw on stdout, Text log format (see InlineFunction).
        emitsMetrics: true,
        callbackFactory: () => makeHeartbeatHandler(),
        transform: { function: t.function, role: t.role, logGroup: t.logGroup },
      },
      p,
    );
    this.subscribe(`${name}-heartbeats`, heartbeatPattern, { kind: "lambda", function: fn.function }, "Forwarder heartbeats from every account and region");
    // A heartbeat invocation that fails after Lambda's retries is kept (and alarmed), not discarded.
    onAsyncFailure(`${name}-heartbeat`, fn, { queueArn: this.deliveryDeadLetter.arn, keyArn: this.key.arn, alertTopicArn: this.alertTopic.arn, maximumEventAgeInSeconds: 3600 }, this);
    const check = scheduleFunction(
      `${name}-heartbeat-check`,
      {
        function: fn.function,
        expression: "rate(5 minutes)",
        description: "trailwatch: check for quiet forwarders",
        deadLetterArn: this.deliveryDeadLetter.arn,
        maximumEventAgeInSeconds: 600,
        transform: { rule: t.rule, target: t.target },
      },
      p,
    );
    alertAlarm(
      `${name}-quiet-forwarders`,
      {
        description: `trailwatch: a forwarder sent no heartbeat for ${quietMinutes} minutes (see the heartbeat function's log for which account/region)`,
        namespace: HEARTBEAT_NAMESPACE,
        metricName: QUIET_METRIC,
        // No data means the check itself stopped: that is an outage too.
        treatMissingData: "breaching",
        topicArn: this.alertTopic.arn,
        transform: t.alarm,
      },
      p,
    );
    return { function: fn, table, check: check.rule };
  }
}
