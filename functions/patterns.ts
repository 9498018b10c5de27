/**
 * The event patterns, one per stream, as plain frozen JSON data. These exact objects are deployed as EventBridge rules
 * (member forwarders, central bus) AND run by the offline tools through functions/eventPattern.ts, so what replay
 * reports is what the deployed rules route. No @pulumi imports: Lambda code and local tools load this file.
 * Operators: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
import type { EventPattern } from "./eventPattern";

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
const DENY_ERROR_CODES = [{ prefix: "AccessDenied" }, { suffix: "UnauthorizedOperation" }, "AuthorizationError", "VpceAccessDenied"];

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

export interface Stream {
  /** Short kebab-case name, used in rule and resource names. */
  readonly name: string;
  readonly pattern: EventPattern;
  readonly description: string;
}

/** Every stream, so components, tools and tests can loop over them. */
export const streams: readonly Stream[] = deepFreeze([
  { name: "denies", pattern: denyPattern, description: "AccessDenied / UnauthorizedOperation / AuthorizationError / VpceAccessDenied events from every service" },
  { name: "scp-denies", pattern: scpDenyPattern, description: "Denies caused by a service control policy" },
  { name: "rcp-denies", pattern: rcpDenyPattern, description: "Denies caused by a resource control policy" },
  { name: "sg-changes", pattern: securityGroupChangePattern, description: "Security-group rules added or modified" },
  { name: "role-changes", pattern: roleChangePattern, description: "IAM role changes" },
  { name: "org-policy-changes", pattern: orgPolicyChangePattern, description: "Organizations policy changes" },
]);

/** Shared patterns must not be edited in place by one component: that would change what every other user routes. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
