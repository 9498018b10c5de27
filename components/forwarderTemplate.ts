/**
 * What a forwarder is, as typed data, rendered two ways: as a CloudFormation template for the StackSet that covers
 * the organization, and as Pulumi resources for the management account (StackSets never deploy there) and for
 * direct mode. One definition, so both paths forward the same streams with the same states.
 */
import { forwardedStreams, HEARTBEAT_RULE_NAME } from "../functions/patterns";

// The streams themselves (patterns, rule names, states) are data in the pattern registry.
export { forwardedStreams, type ForwardedStream, type RuleState } from "../functions/patterns";

/** Template parameter choosing the streams of one stack instance: every stream, or the deny stream only. */
export const STREAMS_PARAMETER = "Streams";
export const ALL_STREAMS_CONDITION = "AllStreams";

export const FORWARDER_ROLE_PREFIX = "trailwatch-forwarder";
export const HEARTBEAT_SCHEDULE = "rate(5 minutes)";
/** Retry for up to a day with the maximum attempts, then to the region's DLQ: nothing is silently dropped. */
export const TARGET_RETRY = { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 } as const;

export interface ForwarderOptions {
  /**
   * Forward every other write call for the change feed. Off unless features.changeFeed: it puts one more event per
   * write call on the central bus (EventBridge bills cross-account delivery per event).
   */
  readonly changes?: boolean;
}

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
