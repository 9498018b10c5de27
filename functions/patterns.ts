/**
 * The event patterns, one per stream, as plain data. These exact objects are deployed as EventBridge rules (member
 * forwarders, the central bus) AND run by the offline tools through functions/eventPattern.ts, so what replay
 * reports is what the deployed rules route.
 * Operators: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
import type { EventPattern } from "./eventPattern";

const API_CALL = "AWS API Call via CloudTrail";

/**
 * Deny error codes: `AccessDenied*` (AccessDenied, AccessDeniedException), `*UnauthorizedOperation` (EC2 writes
 * `Client.UnauthorizedOperation`), SNS's `AuthorizationError`, and S3's `VpceAccessDenied` (a VPC endpoint policy
 * deny that does not start with AccessDenied).
 */
const denyErrorCodes = [{ prefix: "AccessDenied" }, { suffix: "UnauthorizedOperation" }, "AuthorizationError", "VpceAccessDenied"];

/**
 * Every access deny, from any service. No `source` filter: denies come from every service. Deployed in state
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, since read-only calls (the most common denies) never reach a rule
 * in ENABLED; the narrow pattern keeps that volume low.
 */
export const denyPattern: EventPattern = {
  "detail-type": [API_CALL],
  detail: { errorCode: denyErrorCodes },
};

/**
 * Denies caused by a service control policy. Matched with `wildcard` anywhere in the message, not a suffix: messages
 * now go on after the policy type (`: arn:aws:organizations::...:policy/o-.../service_control_policy/p-...`,
 * authorization ids, EC2's encoded tail), which is why safer-scps' suffix pattern stopped matching. Both casings AWS
 * writes are listed (wildcard is case-sensitive): "service control policy" and "Service Control Policy".
 */
export const scpDenyPattern: EventPattern = {
  "detail-type": [API_CALL],
  detail: {
    errorCode: denyErrorCodes,
    errorMessage: [{ wildcard: "*service control policy*" }, { wildcard: "*Service Control Policy*" }],
  },
};

/** Denies caused by a resource control policy (RCPs cover S3, STS, KMS, SQS, Secrets Manager). */
export const rcpDenyPattern: EventPattern = {
  "detail-type": [API_CALL],
  detail: {
    errorCode: denyErrorCodes,
    errorMessage: [{ wildcard: "*resource control policy*" }, { wildcard: "*Resource Control Policy*" }],
  },
};

/** Security-group rules added or modified, successful calls only (a failed call changed nothing). */
export const securityGroupChangePattern: EventPattern = {
  source: ["aws.ec2"],
  "detail-type": [API_CALL],
  detail: {
    eventSource: ["ec2.amazonaws.com"],
    eventName: ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "ModifySecurityGroupRules"],
    errorCode: [{ exists: false }],
  },
};

/** IAM role changes (IAM is global: these events exist only in us-east-1), successful only. */
export const roleChangePattern: EventPattern = {
  source: ["aws.iam"],
  "detail-type": [API_CALL],
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
};

/** Organizations policy changes (Organizations events exist only in us-east-1), successful only. */
export const orgPolicyChangePattern: EventPattern = {
  source: ["aws.organizations"],
  "detail-type": [API_CALL],
  detail: {
    eventSource: ["organizations.amazonaws.com"],
    eventName: ["AttachPolicy", "DetachPolicy", "UpdatePolicy", "CreatePolicy", "DeletePolicy", "EnablePolicyType"],
    errorCode: [{ exists: false }],
  },
};

export interface Stream {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly description: string;
}

/** Every stream, so components and tests can loop over them. */
export const streams: readonly Stream[] = [
  { name: "denies", pattern: denyPattern, description: "AccessDenied / UnauthorizedOperation events from every service" },
  { name: "scp-denies", pattern: scpDenyPattern, description: "Denies caused by a service control policy" },
  { name: "rcp-denies", pattern: rcpDenyPattern, description: "Denies caused by a resource control policy" },
  { name: "sg-changes", pattern: securityGroupChangePattern, description: "Security-group rules added or modified" },
  { name: "role-changes", pattern: roleChangePattern, description: "IAM role changes" },
  { name: "org-policy-changes", pattern: orgPolicyChangePattern, description: "Organizations policy changes" },
];
