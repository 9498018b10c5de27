/**
 * CentralEventBus: the one bus in the security account that every account and region forwards to, with an archive
 * for replay, a subscription helper that never lets a target drop events silently, and a heartbeat alarm that
 * notices a forwarder that went quiet.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policy, policyJson } from "./iam";
import { accountKeyPolicy } from "./kms";
import { alarmTopic } from "./alarmTopic";
import { InlineFunction } from "./lambda";
import { onAsyncFailure } from "./asyncFailures";
import { FORWARDER_ROLE_PREFIX, TARGET_RETRY } from "./forwarderTemplate";
import { heartbeatPattern, type RuleState } from "../functions/patterns";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import * as heartbeat from "../functions/heartbeat";
import { HEARTBEAT_NAMESPACE, QUIET_METRIC } from "../functions/heartbeat";
import { assertDeployablePattern, EVENT_PATTERN_MAX_CHARS } from "../functions/eventPattern";

export interface CentralEventBusArgs {
  /** Only principals of this organization may put events (`aws:PrincipalOrgID`). */
  readonly organizationId: pulumi.Input<string>;
  /** The security account the bus lives in. */
  readonly accountId: string;
  readonly region: string;
  /** @default "trailwatch-central" */
  readonly busName?: string;
  /** Days the archive keeps every event for replay. */
  readonly archiveRetentionDays: number;
  /** Minutes without a heartbeat before a forwarder counts as quiet. */
  readonly heartbeatMinutes: number;
  /** Email subscriptions on the alert topic (DLQ depth, quiet forwarders). */
  readonly alertEmails?: string[];
  /**
   * Role names (IAM wildcards allowed) that may put events from other accounts: the forwarders' roles. Principals of
   * the security account itself need only their own IAM policy. @default the forwarder roles
   */
  readonly putEventsRoleNames?: string[];
  /** EventBridge's event pattern size quota in this account and region (config eventBus.maxPatternChars). @default 2048 */
  readonly maxPatternChars?: number;
  /**
   * Where forwarders should be, so one that never sent a heartbeat is missed too: the StackSet targets (root / OU ids,
   * read through Organizations), the accounts with direct forwarders, the regions, and how long a new account may
   * take to get its stack instances.
   */
  readonly expectedForwarders?: { managementAccountId: string; targets: string[]; directAccounts: string[]; regions: string[]; graceMinutes: number };
}

/** The roles forwarders put events with: `trailwatch-forwarder` (management, direct mode), `-<region>` (StackSet). */
export const FORWARDER_ROLE_NAMES = [FORWARDER_ROLE_PREFIX, `${FORWARDER_ROLE_PREFIX}-*`];

export type SubscriptionTarget =
  /** A queue with SSE (the bus key), its own DLQ with redrive, and an alarm on the DLQ's depth. */
  | { kind: "sqs"; visibilityTimeoutSeconds?: number; maxReceiveCount?: number }
  | { kind: "lambda"; function: aws.lambda.Function }
  /** An SNS topic encrypted with the bus key; the caller's topic policy must allow this rule (`rule.arn`). */
  | { kind: "sns"; topic: aws.sns.Topic }
  /** A KMS-encrypted log group with the resource policy EventBridge needs (without it delivery fails silently). */
  | { kind: "logGroup"; retentionDays: number };

export interface Subscription {
  rule: aws.cloudwatch.EventRule;
  target: aws.cloudwatch.EventTarget;
  queue?: aws.sqs.Queue;
  queueDeadLetter?: aws.sqs.Queue;
  logGroup?: aws.cloudwatch.LogGroup;
}

export class CentralEventBus extends pulumi.ComponentResource {
  readonly bus: aws.cloudwatch.EventBus;
  readonly key: aws.kms.Key;
  readonly alertTopic: aws.sns.Topic;
  /** Where events go that a target could not take after all retries. */
  readonly deliveryDeadLetter: aws.sqs.Queue;
  readonly busArn: pulumi.Output<string>;
  private readonly region: string;
  private readonly accountId: string;
  private readonly maxPatternChars: number;

  constructor(name: string, args: CentralEventBusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:backbone:CentralEventBus", name, {}, opts);
    this.region = args.region;
    this.accountId = args.accountId;
    this.maxPatternChars = args.maxPatternChars ?? EVENT_PATTERN_MAX_CHARS;
    const p = { parent: this };

    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "trailwatch central bus: queues, log groups, alert topic",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyJson(accountKeyPolicy(args.accountId, args.region, ["events", "alarms", "logs"])),
      },
      p,
    );
    new aws.kms.Alias(`${name}-key-alias`, { name: `alias/trailwatch-${pulumi.getStack()}-bus`, targetKeyId: this.key.keyId }, p);

    this.bus = new aws.cloudwatch.EventBus(`${name}-bus`, { name: args.busName ?? "trailwatch-central" }, p);
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
              StringEquals: { "aws:PrincipalOrgID": args.organizationId },
              ArnLike: { "aws:PrincipalArn": roleNames.map((n) => `arn:aws:iam::*:role/${n}`) },
            },
          }),
        ),
      },
      p,
    );
    new aws.cloudwatch.EventArchive(
      `${name}-archive`,
      {
        name: `trailwatch-${pulumi.getStack()}-central`,
        eventSourceArn: this.bus.arn,
        retentionDays: args.archiveRetentionDays,
        description: "Every event on the central bus, for replay after an outage or a fix",
      },
      p,
    );

    this.alertTopic = alarmTopic(
      `${name}-alerts`,
      { keyId: this.key.id, accountId: args.accountId, displayName: "trailwatch alerts", emails: args.alertEmails ?? [] },
      p,
    );

    this.deliveryDeadLetter = this.queueWithAlarm(`${name}-delivery-dlq`, "events no target could take after retries");
    new aws.sqs.QueuePolicy(
      `${name}-delivery-dlq-policy`,
      {
        queueUrl: this.deliveryDeadLetter.url,
        policy: policyJson(
          policy({
            Sid: "EventBridgeDeadLetters",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: this.deliveryDeadLetter.arn,
            Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
          }),
        ),
      },
      p,
    );

    this.heartbeat(name, args.heartbeatMinutes, args.expectedForwarders, args.organizationId);
    this.registerOutputs({ busArn: this.bus.arn, busName: this.bus.name, alertTopicArn: this.alertTopic.arn, keyArn: this.key.arn });
  }

  /**
   * Route events matching `pattern` on the central bus to a target. Every target gets a retry policy and a
   * dead-letter queue; queues get their own DLQ; log groups get the resource policy EventBridge needs.
   */
  subscribe(
    name: string,
    pattern: Record<string, unknown>,
    target: SubscriptionTarget,
    description?: string,
    options: { state?: RuleState } = {},
  ): Subscription {
    const p = { parent: this };
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
      `${name}-rule`,
      { eventBusName: this.bus.name, eventPattern: JSON.stringify(pattern), state: options.state ?? "ENABLED", description },
      p,
    );
    const common = {
      rule: rule.name,
      eventBusName: this.bus.name,
      deadLetterConfig: { arn: this.deliveryDeadLetter.arn },
      retryPolicy: TARGET_RETRY,
    };
    if (target.kind === "sqs") {
      const queueDeadLetter = this.queueWithAlarm(`${name}-dlq`, `${name} messages that failed processing repeatedly`);
      const queue = new aws.sqs.Queue(
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
      );
      new aws.sqs.QueuePolicy(
        `${name}-queue-policy`,
        {
          queueUrl: queue.url,
          policy: policyJson(
            policy(
              {
                Sid: "ThisRuleOnly",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queue.arn,
                Condition: { ArnEquals: { "aws:SourceArn": rule.arn } },
              },
              denyInsecureTransport([queue.arn], "sqs:*"),
            ),
          ),
        },
        p,
      );
      const t = new aws.cloudwatch.EventTarget(`${name}-target`, { ...common, arn: queue.arn }, p);
      return { rule, target: t, queue, queueDeadLetter };
    }
    if (target.kind === "lambda") {
      new aws.lambda.Permission(
        `${name}-invoke`,
        { action: "lambda:InvokeFunction", function: target.function.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
        p,
      );
      const t = new aws.cloudwatch.EventTarget(`${name}-target`, { ...common, arn: target.function.arn }, p);
      return { rule, target: t };
    }
    if (target.kind === "sns") {
      const t = new aws.cloudwatch.EventTarget(`${name}-target`, { ...common, arn: target.topic.arn }, p);
      return { rule, target: t };
    }
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/events/trailwatch/${pulumi.getStack()}/${name}`, retentionInDays: target.retentionDays, kmsKeyId: this.key.arn },
      p,
    );
    // Without this resource policy EventBridge cannot write to the group and drops events without an error.
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-cloudwatchlogs-permissions
    new aws.cloudwatch.LogResourcePolicy(
      `${name}-logs-policy`,
      {
        policyName: `trailwatch-${pulumi.getStack()}-${name}`,
        policyDocument: policyJson(
          policy({
            Sid: "EventBridgeWritesThisGroup",
            Effect: "Allow",
            Principal: { Service: ["events.amazonaws.com", "delivery.logs.amazonaws.com"] },
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [pulumi.interpolate`${logGroup.arn}:*`],
          }),
        ),
      },
      p,
    );
    const t = new aws.cloudwatch.EventTarget(`${name}-target`, { ...common, arn: logGroup.arn }, p);
    return { rule, target: t, logGroup };
  }

  /** A KMS-encrypted queue and an alarm that fires as soon as it holds a message. */
  private queueWithAlarm(name: string, what: string): aws.sqs.Queue {
    const queue = new aws.sqs.Queue(name, { kmsMasterKeyId: this.key.id, messageRetentionSeconds: 1209600 }, { parent: this });
    new aws.cloudwatch.MetricAlarm(
      `${name}-depth`,
      {
        alarmDescription: `trailwatch: ${what} are waiting in ${name}; inspect and redrive them`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: queue.name },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [this.alertTopic.arn],
        okActions: [this.alertTopic.arn],
      },
      { parent: this },
    );
    return queue;
  }

  /** Heartbeats from every forwarder are recorded; a 5-minute check publishes how many went quiet; an alarm fires. */
  private heartbeat(name: string, quietMinutes: number, expected?: CentralEventBusArgs["expectedForwarders"], organizationId?: pulumi.Input<string>): void {
    const p = { parent: this };
    // Reading the organization's accounts under the targets: List*ForParent on its root and OUs only.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
    const orgStatements = expected
      ? [
          {
            Sid: "ExpectedForwarders",
            Effect: "Allow" as const,
            Action: ["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"],
            Resource: [
              pulumi.interpolate`arn:aws:organizations::${expected.managementAccountId}:root/${organizationId}/*`,
              pulumi.interpolate`arn:aws:organizations::${expected.managementAccountId}:ou/${organizationId}/*`,
            ],
          },
        ]
      : [];
    const table = new aws.dynamodb.Table(
      `${name}-heartbeats`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: this.key.arn },
        pointInTimeRecovery: { enabled: true },
      },
      p,
    );
    const fn = new InlineFunction(
      `${name}-heartbeat`,
      {
        description: "Records forwarder heartbeats and reports quiet forwarders",
        statements: [
          { Sid: "HeartbeatTable", Effect: "Allow", Action: ["dynamodb:PutItem", "dynamodb:Scan"], Resource: [table.arn] },
          { Sid: "TableKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [this.key.arn] },
          ...orgStatements,
        ],
        environment: {
          HEARTBEAT_TABLE: table.name,
          QUIET_MINUTES: String(quietMinutes),
          ...(expected
            ? {
                EXPECTED_TARGETS: expected.targets.join(","),
                EXPECTED_DIRECT_ACCOUNTS: expected.directAccounts.join(","),
                EXPECTED_REGIONS: expected.regions.join(","),
                EXPECTED_GRACE_MINUTES: String(expected.graceMinutes),
              }
            : {}),
        },
        timeout: 60,
        // The quiet-forwarders count is an EMF line: raw on stdout, Text log format (see InlineFunction).
        emitsMetrics: true,
        callbackFactory: () => {
          // Runs once per cold start: one client for the container's lifetime.
          const store = heartbeat.dynamoHeartbeatStore(new DynamoDBClient({}), process.env.HEARTBEAT_TABLE!);
          const quietMinutes = Number(process.env.QUIET_MINUTES);
          const list = (v: string | undefined) => (v ? v.split(",").filter(Boolean) : []);
          const targets = list(process.env.EXPECTED_TARGETS);
          const direct = list(process.env.EXPECTED_DIRECT_ACCOUNTS);
          const regions = list(process.env.EXPECTED_REGIONS);
          const grace = Number(process.env.EXPECTED_GRACE_MINUTES ?? "60");
          // Organizations is a global service whose endpoint is in us-east-1.
          const org = heartbeat.organizationsReader(new OrganizationsClient({ region: "us-east-1" }));
          return (event: unknown) => {
            const now = new Date();
            const expected = regions.length > 0 ? async () => ({ accounts: await heartbeat.expectedAccounts(org, targets, direct, now, grace), regions }) : undefined;
            // EMF lines go out raw (Text log format): Lambda's JSON format would wrap them and no metric would be made.
            return heartbeat.handleHeartbeat(event, store, { now, quietMinutes, log: (line: string) => process.stdout.write(line + "\n"), expected });
          };
        },
      },
      p,
    );
    this.subscribe(
      `${name}-heartbeats`,
      heartbeatPattern,
      { kind: "lambda", function: fn.function },
      "Forwarder heartbeats from every account and region",
    );
    // A heartbeat invocation that fails after Lambda's retries is kept (and alarmed), not discarded.
    onAsyncFailure(`${name}-heartbeat`, fn, { queueArn: this.deliveryDeadLetter.arn, keyArn: this.key.arn, alertTopicArn: this.alertTopic.arn, maximumEventAgeInSeconds: 3600 }, this);
    const tick = new aws.cloudwatch.EventRule(
      `${name}-heartbeat-check`,
      { scheduleExpression: "rate(5 minutes)", description: "trailwatch: check for quiet forwarders" },
      p,
    );
    new aws.lambda.Permission(
      `${name}-heartbeat-check-invoke`,
      { action: "lambda:InvokeFunction", function: fn.function.name, principal: "events.amazonaws.com", sourceArn: tick.arn },
      p,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-heartbeat-check-target`,
      { rule: tick.name, arn: fn.function.arn, deadLetterConfig: { arn: this.deliveryDeadLetter.arn }, retryPolicy: { maximumEventAgeInSeconds: 600, maximumRetryAttempts: 2 } },
      p,
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-quiet-forwarders`,
      {
        alarmDescription: `trailwatch: a forwarder sent no heartbeat for ${quietMinutes} minutes (see the heartbeat function's log for which account/region)`,
        namespace: HEARTBEAT_NAMESPACE,
        metricName: QUIET_METRIC,
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        // No data means the check itself stopped: that is an outage too.
        treatMissingData: "breaching",
        alarmActions: [this.alertTopic.arn],
        okActions: [this.alertTopic.arn],
      },
      p,
    );
  }
}
