/**
 * The event-pattern registry: every EventBridge pattern trailwatch deploys, as plain frozen JSON data (or a function
 * of deployment facts, for the patterns that pin an account or a function). These exact objects are deployed as rules
 * (the member forwarders' streams, the central bus's subscriptions) AND run by the offline tools through
 * functions/eventPattern.ts, so what replay reports is what the deployed rules route. No @pulumi imports and no SDK:
 * Lambda code and local tools load this file.
 * Operators: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * (The findings patterns, GuardDuty severity bands and Config non-compliance, live with their band table in
 * functions/findings/severity.ts; the forwarded streams below include the Config one.)
 */
import { assertDeployablePattern, type EventPattern } from "./eventPattern";
import { configNonCompliantPattern } from "./findings/severity";
import { DEFAULT_NOISE } from "./changeFeed/normalize";

/**
 * CloudTrail's detail-types that can carry an authorization deny: API calls (management and data events), and
 * network activity events, where a VPC endpoint policy deny shows up as `VpceAccessDenied`.
 * Left out on purpose: "AWS Console Sign In via CloudTrail" (a failed sign-in is an authentication failure, with no
 * errorCode, only `responseElements.ConsoleLogin: "Failure"`: no action or policy to advise on), and service events
 * and console actions, which record no caller's authorization.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 */
const DENY_DETAIL_TYPES = ["AWS API Call via CloudTrail", "AWS Network Activity Event via CloudTrail"];

/**
 * The deny error codes: `AccessDenied*` (AccessDenied, AccessDeniedException), `*UnauthorizedOperation` (EC2 writes
 * `Client.UnauthorizedOperation`), SNS's `AuthorizationError`, and `VpceAccessDenied`, the code of a VPC endpoint
 * policy deny in network activity events, which does not start with AccessDenied (the deny cause `vpc-endpoint-policy`).
 */
const DENY_ERROR_CODES: (string | { prefix: string } | { suffix: string })[] = [{ prefix: "AccessDenied" }, { suffix: "UnauthorizedOperation" }, "AuthorizationError", "VpceAccessDenied"];

/**
 * Every CloudTrail event that reaches the central bus, whatever its stream: the searchable security-event log.
 * Heartbeats (their own detail-type) stay out.
 */
export const forwardedEventsPattern: EventPattern = deepFreeze({
  "detail-type": DENY_DETAIL_TYPES,
});

/**
 * Every access deny, from any service, so no `source` filter. The deny-forwarding rule runs in state
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS: in state ENABLED a rule never sees read-only (Get/Describe/List)
 * management events, which are the most common denies; this narrow errorCode filter keeps that volume low.
 */
export const denyPattern: EventPattern = deepFreeze({
  "detail-type": DENY_DETAIL_TYPES,
  detail: { errorCode: DENY_ERROR_CODES },
});

/**
 * Denies whose message names a service control policy. `wildcard` matches the phrase anywhere: a suffix match (as
 * safer-scps used) no longer works, since messages now go on after the policy type (`: arn:aws:organizations::
 * <mgmt>:policy/o-.../service_control_policy/p-...`, authorization ids, EC2's encoded tail). Wildcard is
 * case-sensitive and AWS writes both "service control policy" and "Service Control Policy" (the IAM guide's
 * troubleshoot_access-denied page), so both are listed. This also catches "... VPC endpoint policy transitively through
 * a service control policy": the SCP is what the rollout watcher must count.
 */
export const scpDenyPattern: EventPattern = deepFreeze({
  "detail-type": DENY_DETAIL_TYPES,
  detail: {
    errorCode: DENY_ERROR_CODES,
    errorMessage: [{ wildcard: "*service control policy*" }, { wildcard: "*Service Control Policy*" }],
  },
});

/**
 * Denies whose message names a resource control policy (RCPs cover S3, STS, KMS, SQS, Secrets Manager): a separate
 * stream from SCPs because an RCP rollout is watched per resource owner, not per caller. Same wildcard reasoning.
 */
export const rcpDenyPattern: EventPattern = deepFreeze({
  "detail-type": DENY_DETAIL_TYPES,
  detail: {
    errorCode: DENY_ERROR_CODES,
    errorMessage: [{ wildcard: "*resource control policy*" }, { wildcard: "*Resource Control Policy*" }],
  },
});

/**
 * Security-group rules added or modified. Successful calls only (`errorCode` absent): a failed call changed nothing
 * and has no rule id to revoke. Revoke* calls are left out: they close access, never open it.
 */
export const securityGroupChangePattern: EventPattern = deepFreeze({
  source: ["aws.ec2"],
  "detail-type": ["AWS API Call via CloudTrail"],
  detail: {
    eventSource: ["ec2.amazonaws.com"],
    eventName: ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "ModifySecurityGroupRules"],
    errorCode: [{ exists: false }],
  },
});

/**
 * IAM role changes that invalidate the role inventory: trust, permissions, boundary, tags, lifecycle. Successful only.
 * IAM is global, so these events exist only in us-east-1: the forwarder there is the one that sees them.
 */
export const roleChangePattern: EventPattern = deepFreeze({
  source: ["aws.iam"],
  "detail-type": ["AWS API Call via CloudTrail"],
  detail: {
    eventSource: ["iam.amazonaws.com"],
    eventName: [
      "CreateRole",
      "DeleteRole",
      "UpdateRole",
      "UpdateRoleDescription",
      "UpdateAssumeRolePolicy",
      "AttachRolePolicy",
      "DetachRolePolicy",
      "PutRolePolicy",
      "DeleteRolePolicy",
      "TagRole",
      "UntagRole",
      "PutRolePermissionsBoundary",
      "DeleteRolePermissionsBoundary",
    ],
    errorCode: [{ exists: false }],
  },
});

/**
 * Organizations policy changes (SCPs, RCPs and other policy types), successful only, so an SCP deny spike can be
 * tied to the attach or update that caused it. Organizations events exist only in us-east-1.
 */
export const orgPolicyChangePattern: EventPattern = deepFreeze({
  source: ["aws.organizations"],
  "detail-type": ["AWS API Call via CloudTrail"],
  detail: {
    eventSource: ["organizations.amazonaws.com"],
    // MoveAccount changes which SCPs apply to the account (its new parents'): it opens a rollout window too.
    eventName: ["AttachPolicy", "DetachPolicy", "UpdatePolicy", "CreatePolicy", "DeletePolicy", "EnablePolicyType", "MoveAccount"],
    errorCode: [{ exists: false }],
  },
});

/** SCP and RCP denies in one pattern (the SCP watch's subscription): the message names either policy type. */
export const policyDenyPattern: EventPattern = deepFreeze({
  "detail-type": DENY_DETAIL_TYPES,
  detail: {
    errorCode: DENY_ERROR_CODES,
    errorMessage: [
      ...((scpDenyPattern.detail as { errorMessage: unknown[] }).errorMessage as EventPattern[]),
      ...((rcpDenyPattern.detail as { errorMessage: unknown[] }).errorMessage as EventPattern[]),
    ],
  },
} as EventPattern);

/** Scheduled rules the forwarders create are named this; the central bus matches their events on it. */
export const HEARTBEAT_RULE_NAME = "trailwatch-heartbeat";

/**
 * Forwarder heartbeats on the central bus: the scheduled events of the forwarders' heartbeat rules, from any account
 * and region. A scheduled event's `resources` holds the rule's ARN.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
export const heartbeatPattern: EventPattern = deepFreeze({
  source: ["aws.events"],
  "detail-type": ["Scheduled Event"],
  resources: [{ wildcard: `arn:aws:events:*:*:rule/${HEARTBEAT_RULE_NAME}` }],
});

/**
 * The change feed needs every write management event, and no other stream forwards them all. Forwarded only with
 * `features.changeFeed` on (forwardedStreams drops it otherwise, in the StackSet template and in the management
 * account's forwarder alike).
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
export const changesStreamPattern: EventPattern = deepFreeze(
  (() => {
    const narrow = [securityGroupChangePattern, roleChangePattern, orgPolicyChangePattern].map((p) => (p as { detail: { eventSource: string[]; eventName: string[] } }).detail);
    // The deny stream's error-code matchers ({prefix}, {suffix}, exact codes) as wildcards, so one anything-but excludes them all.
    const denyCodes = DENY_ERROR_CODES.map((m) => (typeof m === "string" ? m : "prefix" in m ? `${m.prefix}*` : `*${m.suffix}`));
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
    } as EventPattern;
  })(),
);

// ---- the forwarded streams: what every member account and region sends to the central bus ------------------------

export type RuleState = "ENABLED" | "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

export interface ForwardedStream {
  /** Rule name in the member account (also the CloudFormation logical id, camel-cased). */
  readonly ruleName: string;
  readonly description: string;
  readonly pattern: EventPattern;
  readonly state: RuleState;
  /**
   * Also forwarded in deny-only regions (`forwarder.denyRegions: all`): regions outside `regions`, where only denies
   * matter (an SCP "deny outside approved regions" fires exactly there).
   */
  readonly denyOnly?: boolean;
}

/** The stream only `features.changeFeed` forwards. */
export const CHANGES_RULE_NAME = "trailwatch-changes";

/**
 * The streams every account/region forwards, as the forwarders deploy them. Denies run in
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS: a rule in ENABLED never sees read-only (Get/Describe/List) calls, the
 * most common denies; its narrow pattern keeps volume low.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html#eb-service-event-cloudtrail-read-only
 * SCP and RCP denies are a subset of denies: the central bus narrows them (policyDenyPattern), members forward once.
 */
export const FORWARDED_STREAMS: readonly ForwardedStream[] = deepFreeze([
  { ruleName: "trailwatch-denies", description: "AccessDenied / UnauthorizedOperation events, read-only calls included", pattern: denyPattern, state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", denyOnly: true },
  { ruleName: "trailwatch-sg-changes", description: "Security group rules added or modified", pattern: securityGroupChangePattern, state: "ENABLED" },
  { ruleName: "trailwatch-role-changes", description: "IAM role changes (us-east-1 only: IAM is global)", pattern: roleChangePattern, state: "ENABLED" },
  { ruleName: "trailwatch-org-policy-changes", description: "Organizations policy changes (us-east-1 only)", pattern: orgPolicyChangePattern, state: "ENABLED" },
  // Organization Config rules evaluate in each member account: compliance changes appear on that account's bus.
  { ruleName: "trailwatch-config-noncompliant", description: "AWS Config rules turned NON_COMPLIANT", pattern: configNonCompliantPattern, state: "ENABLED" },
  { ruleName: CHANGES_RULE_NAME, description: "Every other write management event, for the change feed", pattern: changesStreamPattern, state: "ENABLED" },
] as ForwardedStream[]);

/** The forwarded streams; the change feed's only with `changes` (features.changeFeed). */
export function forwardedStreams(opts: { readonly changes?: boolean } = { changes: true }): ForwardedStream[] {
  // Member accounts have the default pattern size quota (2,048): hold every forwarded pattern to it.
  for (const s of FORWARDED_STREAMS) assertDeployablePattern(s.ruleName, s.pattern);
  return FORWARDED_STREAMS.filter((s) => opts.changes || s.ruleName !== CHANGES_RULE_NAME);
}

// ---- the change feed's subscriptions: write calls in, the normalizer's results back -------------------------------

/** The detail-types of the events Lambda destinations put on a bus. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html */
export const INVOCATION_SUCCESS = "Lambda Function Invocation Result - Success";
export const INVOCATION_FAILURE = "Lambda Function Invocation Result - Failure";
/** The schema tag of the change feed normalizer's result payload. */
export const CHANGE_SCHEMA = "trailwatch.change/v1";

/** The central-bus events the change feed's normalizer reads: write API calls, the noise list's exact event names left out. */
export function writeCallsPattern(extraNoiseEventNames: readonly string[]): EventPattern {
  return {
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      readOnly: [false],
      eventName: [{ "anything-but": [...new Set([...DEFAULT_NOISE.eventNames, ...extraNoiseEventNames])].sort() }],
    },
  };
}

/**
 * Events Lambda put on the bus for this function: pinned to the account (EventBridge sets `account` to the sender's,
 * so another account of the organization cannot forge them) and to the function, with a change payload.
 */
export function changeResultPattern(accountId: string, region: string, functionName: string, payload: Record<string, unknown> = {}): EventPattern {
  return {
    ...invocationResultPattern(INVOCATION_SUCCESS, accountId, region, functionName),
    detail: { requestContext: functionArnMatch(accountId, region, functionName), responsePayload: { schema: [CHANGE_SCHEMA], ...payload } },
  } as EventPattern;
}

/** Any invocation result (success or failure) of this function, from this account. */
export function invocationResultPattern(detailType: string, accountId: string, region: string, functionName: string): EventPattern {
  return { source: ["lambda"], "detail-type": [detailType], account: [accountId], detail: { requestContext: functionArnMatch(accountId, region, functionName) } } as EventPattern;
}

/** `requestContext.functionArn` is the qualified ARN (`...:function:name:$LATEST`); the unqualified one is matched too. */
function functionArnMatch(accountId: string, region: string, functionName: string): EventPattern {
  const arn = `arn:aws*:lambda:${region}:${accountId}:function:${functionName}`;
  return { functionArn: [{ wildcard: arn }, { wildcard: `${arn}:*` }] } as EventPattern;
}

/** Every fixed pattern of the registry by name, so tests and tools can loop over them. */
/**
 * What replay analyses: functions/router.ts routes a record to the deny advisor, the security-group review and the
 * role inventory by exactly these, and the Athena engine (functions/replay/athenaSql.ts) selects their union. A record
 * none of them matches produces no finding.
 */
export const REPLAY_PATTERNS: readonly { readonly name: "denies" | "sg-changes" | "role-changes"; readonly pattern: EventPattern }[] = Object.freeze([
  Object.freeze({ name: "denies" as const, pattern: denyPattern }),
  Object.freeze({ name: "sg-changes" as const, pattern: securityGroupChangePattern }),
  Object.freeze({ name: "role-changes" as const, pattern: roleChangePattern }),
]);

export const PATTERNS: Readonly<Record<string, EventPattern>> = deepFreeze({
  forwardedEvents: forwardedEventsPattern,
  denies: denyPattern,
  scpDenies: scpDenyPattern,
  rcpDenies: rcpDenyPattern,
  policyDenies: policyDenyPattern,
  securityGroupChanges: securityGroupChangePattern,
  roleChanges: roleChangePattern,
  orgPolicyChanges: orgPolicyChangePattern,
  heartbeats: heartbeatPattern,
  changes: changesStreamPattern,
  configNonCompliant: configNonCompliantPattern,
});

/** Shared patterns must not be edited in place by one component: that would change what every other user routes. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
