/**
 * What a forwarder is, as typed data, rendered two ways: as a CloudFormation template for the StackSet that covers
 * the organization, and as Pulumi resources for the management account (StackSets never deploy there) and for
 * direct mode. One definition, so both paths forward the same streams with the same states.
 */
import { configNonCompliantPattern } from "../functions/findings/severity";
import { denyPattern, orgPolicyChangePattern, roleChangePattern, securityGroupChangePattern } from "../functions/patterns";
import { HEARTBEAT_RULE_NAME } from "../functions/heartbeat";
import { assertDeployablePattern } from "../functions/eventPattern";

export type RuleState = "ENABLED" | "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

export interface ForwardedStream {
  /** Rule name in the member account (also the CloudFormation logical id, camel-cased). */
  ruleName: string;
  description: string;
  pattern: Record<string, unknown>;
  state: RuleState;
  /**
   * Also forwarded in deny-only regions (`forwarder.denyRegions: all`): regions outside `regions`, where only denies
   * matter (an SCP "deny outside approved regions" fires exactly there).
   */
  denyOnly?: boolean;
}

/** Template parameter choosing the streams of one stack instance: every stream, or the deny stream only. */
export const STREAMS_PARAMETER = "Streams";
export const ALL_STREAMS_CONDITION = "AllStreams";

export const FORWARDER_ROLE_PREFIX = "trailwatch-forwarder";
export const HEARTBEAT_SCHEDULE = "rate(5 minutes)";
/** Retry for up to a day with the maximum attempts, then to the region's DLQ: nothing is silently dropped. */
export const TARGET_RETRY = { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 } as const;

/**
 * The streams every account/region forwards. Denies run in ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS: a rule
 * in ENABLED never sees read-only (Get/Describe/List) calls, the most common denies; its narrow pattern keeps
 * volume low. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html#eb-service-event-cloudtrail-read-only
 * SCP denies are a subset of denies: the central bus narrows them, members forward once.
 */
export interface ForwarderOptions {
  /**
   * Forward every other write call for the change feed. Off unless features.changeFeed: it puts one more event per
   * write call on the central bus (EventBridge bills cross-account delivery per event).
   */
  changes?: boolean;
}

export function forwardedStreams(opts: ForwarderOptions = { changes: true }): ForwardedStream[] {
  const all: ForwardedStream[] = [
    { ruleName: "trailwatch-denies", description: "AccessDenied / UnauthorizedOperation events, read-only calls included", pattern: denyPattern, state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", denyOnly: true },
    { ruleName: "trailwatch-sg-changes", description: "Security group rules added or modified", pattern: securityGroupChangePattern, state: "ENABLED" },
    { ruleName: "trailwatch-role-changes", description: "IAM role changes (us-east-1 only: IAM is global)", pattern: roleChangePattern, state: "ENABLED" },
    { ruleName: "trailwatch-org-policy-changes", description: "Organizations policy changes (us-east-1 only)", pattern: orgPolicyChangePattern, state: "ENABLED" },
    // Organization Config rules evaluate in each member account: compliance changes appear on that account's bus.
    { ruleName: "trailwatch-config-noncompliant", description: "AWS Config rules turned NON_COMPLIANT", pattern: configNonCompliantPattern, state: "ENABLED" },
    { ruleName: "trailwatch-changes", description: "Every other write management event, for the change feed", pattern: changesStreamPattern, state: "ENABLED" },
  ];
  // Member accounts have the default pattern size quota (2,048): hold every forwarded pattern to it.
  for (const s of all) assertDeployablePattern(s.ruleName, s.pattern);
  return opts.changes ? all : all.filter((s) => s.ruleName !== "trailwatch-changes");
}

/**
 * The change feed (issue 10) needs every write management event, and no other stream forwards them all. Forwarded
 * only with `features.changeFeed` on (forwardedStreams drops it otherwise, in the StackSet template and in the
 * management account's forwarder alike).
 *
 * Cost: every write call in every account and region crosses to the central bus (EventBridge bills cross-account
 * delivery per event), is archived by the central archive (storage per GB), and is written to the searchable
 * security-event log group (CloudWatch Logs ingestion per GB). Writes are a small share of CloudTrail volume (the
 * reads stay behind: a rule in ENABLED never sees them), but busy accounts (autoscaling, CI) write millions of events
 * a month: check the archive and log group sizes after rollout.
 *
 * `managementEvent: true`: data events (S3 object writes, Lambda invokes, with data event selectors on) are
 * `readOnly: false` too, and would otherwise all cross accounts into the archive and the log group. CloudTrail writes
 * `managementEvent` on every record from eventVersion 1.06 (Optional: False):
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 *
 * The pattern leaves out what the other streams already forward (write denies, successful security-group, role and
 * organization-policy changes): an event matched by two forwarding rules would reach the central bus twice, and every
 * consumer there (deny counts, security-group reviews, the change feed) would see it twice. Together the streams
 * forward each write call exactly once; the central bus's `detail.readOnly: [false]` subscription sees them all.
 *
 * No path is constrained both outside and inside the `$or`: EventBridge's engine (aws/event-ruler) does not AND the
 * two, a path repeated in a branch replaces the outer condition for that branch (or the rule is refused). The
 * errorCode condition is therefore written into each branch (validatePattern refuses the other shape):
 * - a failed call that is not a deny (the narrow change streams forward successful calls only, the deny stream the
 *   denies; `anything-but` never matches a missing field, so this branch is failed calls only);
 * - a successful call of any other service;
 * - a successful call of a narrow stream's service that the narrow stream does not forward.
 */
export const changesStreamPattern: Record<string, unknown> = (() => {
  const narrow = [securityGroupChangePattern, roleChangePattern, orgPolicyChangePattern].map((p) => (p as { detail: { eventSource: string[]; eventName: string[] } }).detail);
  // The deny stream's error-code matchers ({prefix}, {suffix}, exact codes) as wildcards, so one anything-but excludes them all.
  const denyCodes = ((denyPattern as { detail: { errorCode: unknown[] } }).detail.errorCode).map((m) =>
    typeof m === "string" ? m : "prefix" in (m as object) ? `${(m as { prefix: string }).prefix}*` : `*${(m as { suffix: string }).suffix}`,
  );
  const succeeded = { errorCode: [{ exists: false }] };
  return {
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      readOnly: [false],
      managementEvent: [true],
      $or: [
        { errorCode: [{ "anything-but": { wildcard: denyCodes } }] },
        { ...succeeded, eventSource: [{ "anything-but": narrow.map((d) => d.eventSource[0]) }] },
        ...narrow.map((d) => ({ ...succeeded, eventSource: d.eventSource, eventName: [{ "anything-but": d.eventName }] })),
      ],
    },
  };
})();

const logicalId = (ruleName: string) =>
  ruleName
    .split(/[^a-zA-Z0-9]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");

type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };
export interface CfnTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Parameters: Record<string, { Type: string; Description: string; AllowedPattern?: string; AllowedValues?: string[]; Default?: string }>;
  Conditions?: Record<string, CfnValue>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, CfnValue>; DependsOn?: string[] }>;
  Outputs: Record<string, { Value: CfnValue }>;
}

/**
 * The StackSet template for one member account/region: a role EventBridge assumes to put events on the central
 * bus (the bus allows by organization, so cross-account targets must carry a RoleArn), the forwarding rules, a
 * heartbeat, and a KMS-less SSE-SQS dead-letter queue for events the central bus did not accept.
 * Roles are global, StackSet instances are per region: the role name carries the region.
 */
export function forwarderTemplate(opts: ForwarderOptions = { changes: true }): CfnTemplate {
  const target = (id: string) => ({
    Id: id,
    Arn: { Ref: "CentralBusArn" },
    RoleArn: { "Fn::GetAtt": ["ForwarderRole", "Arn"] },
    DeadLetterConfig: { Arn: { "Fn::GetAtt": ["ForwarderDeadLetterQueue", "Arn"] } },
    RetryPolicy: { MaximumEventAgeInSeconds: TARGET_RETRY.maximumEventAgeInSeconds, MaximumRetryAttempts: TARGET_RETRY.maximumRetryAttempts },
  });
  const resources: CfnTemplate["Resources"] = {
    ForwarderRole: {
      Type: "AWS::IAM::Role",
      Properties: {
        RoleName: { "Fn::Sub": `${FORWARDER_ROLE_PREFIX}-\${AWS::Region}` },
        Description: "EventBridge puts forwarded CloudTrail events on the trailwatch central bus",
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: "put-events-on-central-bus-only",
            PolicyDocument: {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "events:PutEvents", Resource: { Ref: "CentralBusArn" } }],
            },
          },
        ],
      },
    },
    ForwarderDeadLetterQueue: {
      Type: "AWS::SQS::Queue",
      Properties: { QueueName: "trailwatch-forwarder-dlq", SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 },
    },
    ForwarderDeadLetterQueuePolicy: {
      Type: "AWS::SQS::QueuePolicy",
      Properties: {
        Queues: [{ Ref: "ForwarderDeadLetterQueue" }],
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: { "Fn::GetAtt": ["ForwarderDeadLetterQueue", "Arn"] },
              Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
            },
          ],
        },
      },
    },
    HeartbeatRule: {
      Type: "AWS::Events::Rule",
      Properties: {
        Name: HEARTBEAT_RULE_NAME,
        Description: "trailwatch forwarder heartbeat: the central bus alarms when it stops",
        ScheduleExpression: HEARTBEAT_SCHEDULE,
        State: "ENABLED",
        Targets: [target("central-bus")],
      },
    },
  };
  for (const s of forwardedStreams(opts)) {
    resources[logicalId(s.ruleName)] = {
      Type: "AWS::Events::Rule",
      // In a deny-only instance (Streams=denies) only the deny stream and the heartbeat are created.
      ...(s.denyOnly ? {} : { Condition: ALL_STREAMS_CONDITION }),
      Properties: {
        Name: s.ruleName,
        Description: s.description,
        EventBusName: "default",
        EventPattern: s.pattern as CfnValue,
        State: s.state,
        Targets: [target("central-bus")],
      },
    };
  }
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "trailwatch member forwarder: CloudTrail streams and a heartbeat to the central event bus",
    Parameters: {
      CentralBusArn: { Type: "String", Description: "ARN of the trailwatch central event bus", AllowedPattern: "^arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/.+$" },
      [STREAMS_PARAMETER]: {
        Type: "String",
        Description: "all: every stream (configured regions); denies: the deny stream and the heartbeat only (other enabled regions)",
        AllowedValues: ["all", "denies"],
        Default: "all",
      },
    },
    Conditions: { [ALL_STREAMS_CONDITION]: { "Fn::Equals": [{ Ref: STREAMS_PARAMETER }, "all"] } },
    Resources: resources,
    Outputs: { ForwarderRoleArn: { Value: { "Fn::GetAtt": ["ForwarderRole", "Arn"] } } },
  };
}
