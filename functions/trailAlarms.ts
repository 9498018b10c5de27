/**
 * The organization trail's monitoring rows: one table of metric filter patterns on the trail's CloudWatch Logs group,
 * each becoming a metric filter and an alarm (components/orgTrail.ts). Rows follow the CIS AWS Foundations Benchmark
 * monitoring section (as AWS Security Hub checks it: controls CloudWatch.1-14) with the fixes noted on the row;
 * "elevated-role-assumed" is built from config, and users add their own rows and switch built-ins off in config.
 */
import { parseFilterPattern, MAX_PATTERN_LENGTH } from "./logFilter";

export interface AlarmRow {
  /** Stable id: metric name suffix, resource name, the key config uses to switch the row off. */
  id: string;
  title: string;
  pattern: string;
  description: string;
  docLink: string;
}

const SECURITY_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html";

/** `{ ($.eventName = A) || ($.eventName = B) ... }` with an optional event source, so no name is matched in another service. */
function eventNames(names: string[], eventSource?: string): string {
  const any = names.map((n) => `($.eventName = "${n}")`).join(" || ");
  return eventSource ? `{ ($.eventSource = "${eventSource}") && (${any}) }` : `{ ${any} }`;
}

export const BUILTIN_ROWS: readonly AlarmRow[] = [
  {
    id: "root-account-usage",
    title: "Root user activity",
    // Root calls AWS services make on the root's behalf (invokedBy) and service events are not the root acting.
    pattern: '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }',
    description: "The root user signed in or called an API. Root should be locked away; find who holds its credentials.",
    docLink: `${SECURITY_HUB}#cloudwatch-1`,
  },
  {
    id: "unauthorized-api-calls",
    title: "Unauthorized API calls",
    // CIS writes `A || B && C && D`, which binds as `A || (B && C && D)`: the exclusions miss UnauthorizedOperation.
    // Bracketed here so both error codes get them.
    pattern:
      '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
    description: "API calls denied for lack of permission: probing with stolen credentials, or a broken deployment. The deny advisor says which.",
    docLink: `${SECURITY_HUB}#cloudwatch-2`,
  },
  {
    id: "console-signin-without-mfa",
    title: "Console sign-in without MFA",
    // IAM users only: federated and Identity Center sign-ins report MFAUsed "No" because the IdP did the MFA.
    pattern:
      '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    description: "An IAM user signed in to the console without MFA.",
    docLink: `${SECURITY_HUB}#cloudwatch-3`,
  },
  {
    id: "iam-policy-changes",
    title: "IAM policy changes",
    // CIS matches the event names alone; Organizations and IoT also have CreatePolicy/DeletePolicy, so the source is pinned.
    pattern: eventNames(
      [
        "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy",
        "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "SetDefaultPolicyVersion",
        "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
      ],
      "iam.amazonaws.com",
    ),
    description: "An IAM policy was created, changed, attached or detached.",
    docLink: `${SECURITY_HUB}#cloudwatch-4`,
  },
  {
    id: "cloudtrail-changes",
    title: "CloudTrail configuration changes",
    // PutEventSelectors added to CIS's list: it can stop a trail logging most events without stopping the trail.
    pattern: eventNames(["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging", "PutEventSelectors"], "cloudtrail.amazonaws.com"),
    description: "A trail was created, changed, deleted, stopped or started, or its event selectors changed.",
    docLink: `${SECURITY_HUB}#cloudwatch-5`,
  },
  {
    id: "console-authentication-failures",
    title: "Console authentication failures",
    pattern: '{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }',
    description: "A console sign-in failed authentication: several in a row suggest password guessing.",
    docLink: `${SECURITY_HUB}#cloudwatch-6`,
  },
  {
    id: "cmk-disabled-or-deleted",
    title: "Customer managed key disabled or scheduled for deletion",
    pattern: eventNames(["DisableKey", "ScheduleKeyDeletion"], "kms.amazonaws.com"),
    description: "A KMS customer managed key was disabled or scheduled for deletion: data under it becomes unreadable.",
    docLink: `${SECURITY_HUB}#cloudwatch-7`,
  },
  {
    id: "s3-bucket-policy-changes",
    title: "S3 bucket policy changes",
    pattern: eventNames(
      [
        "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
        "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication",
      ],
      "s3.amazonaws.com",
    ),
    description: "A bucket's policy, ACL, CORS, lifecycle or replication changed.",
    docLink: `${SECURITY_HUB}#cloudwatch-8`,
  },
  {
    id: "config-changes",
    title: "AWS Config changes",
    pattern: eventNames(["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"], "config.amazonaws.com"),
    description: "An AWS Config recorder or delivery channel was stopped, deleted or changed.",
    docLink: `${SECURITY_HUB}#cloudwatch-9`,
  },
  {
    id: "security-group-changes",
    title: "Security group changes",
    // ModifySecurityGroupRules (2021) changes rules in place; CIS's list predates it.
    pattern: eventNames(
      [
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
        "ModifySecurityGroupRules", "CreateSecurityGroup", "DeleteSecurityGroup",
      ],
      "ec2.amazonaws.com",
    ),
    description: "A security group or one of its rules was created, changed or deleted.",
    docLink: `${SECURITY_HUB}#cloudwatch-10`,
  },
  {
    id: "nacl-changes",
    title: "Network ACL changes",
    pattern: eventNames(
      ["CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"],
      "ec2.amazonaws.com",
    ),
    description: "A network ACL or one of its entries was created, changed or deleted.",
    docLink: `${SECURITY_HUB}#cloudwatch-11`,
  },
  {
    id: "network-gateway-changes",
    title: "Network gateway changes",
    pattern: eventNames(
      ["CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"],
      "ec2.amazonaws.com",
    ),
    description: "An internet or customer gateway was created, attached, detached or deleted.",
    docLink: `${SECURITY_HUB}#cloudwatch-12`,
  },
  {
    id: "route-table-changes",
    title: "Route table changes",
    pattern: eventNames(
      ["CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"],
      "ec2.amazonaws.com",
    ),
    description: "A route or route table was created, replaced, deleted or disassociated.",
    docLink: `${SECURITY_HUB}#cloudwatch-13`,
  },
  {
    id: "vpc-changes",
    title: "VPC changes",
    pattern: eventNames(
      [
        "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection",
        "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
        "DisableVpcClassicLink", "EnableVpcClassicLink",
      ],
      "ec2.amazonaws.com",
    ),
    description: "A VPC or VPC peering connection was created, changed or deleted.",
    docLink: `${SECURITY_HUB}#cloudwatch-14`,
  },
  {
    id: "organizations-changes",
    title: "AWS Organizations changes",
    pattern: eventNames(
      [
        "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake",
        "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType",
        "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy",
        "UpdateOrganizationalUnit",
      ],
      "organizations.amazonaws.com",
    ),
    description: "The organization changed: accounts, OUs, policies (SCPs included) or handshakes.",
    docLink: "https://www.cisecurity.org/benchmark/amazon_web_services (CIS AWS Foundations Benchmark, monitoring: AWS Organizations changes)",
  },
];

export const BUILTIN_ROW_IDS = BUILTIN_ROWS.map((r) => r.id);

export const ELEVATED_ROLE_ROW_ID = "elevated-role-assumed";

/**
 * "Elevated role assumed": STS AssumeRole* naming one of the roles (API and CLI; STS logs in the caller's region, the
 * org trail brings every region to one log group), and console sign-ins into it (SwitchRole, and Identity Center's
 * AssumeRole sign-in event, whose identity is the assumed role). A name may end in `*` (Identity Center roles
 * carry a random suffix: AWSReservedSSO_AdministratorAccess_ followed by a star). Role paths are matched by a leading wildcard.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
 */
export function elevatedRoleRow(roleNames: string[]): AlarmRow {
  const arns = roleNames.map((n) => `($.requestParameters.roleArn = "*/${n}")`).join(" || ");
  const sessions = roleNames.map((n) => `($.userIdentity.arn = "*:assumed-role/${n}/*")`).join(" || ");
  return {
    id: ELEVATED_ROLE_ROW_ID,
    title: "Elevated role assumed",
    pattern:
      `{ (($.eventSource = "sts.amazonaws.com") && ($.eventName = "AssumeRole*") && (${arns})) || ` +
      `(($.eventSource = "signin.amazonaws.com") && (($.eventName = "SwitchRole") || ($.eventName = "AssumeRole")) && (${sessions})) }`,
    description: `Someone assumed a role configured as elevated (${roleNames.join(", ")}): check it was planned.`,
    docLink: "https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html#stscloudtrailexample-assumerole",
  };
}

export interface AlarmRowConfig {
  disabled: string[];
  elevatedRoles: string[];
  custom: AlarmRow[];
}

/** The rows to deploy: built-ins not switched off, the elevated-role row when roles are named, then the user's rows. */
export function alarmRows(config: AlarmRowConfig): AlarmRow[] {
  const rows = BUILTIN_ROWS.filter((r) => !config.disabled.includes(r.id));
  if (config.elevatedRoles.length > 0 && !config.disabled.includes(ELEVATED_ROLE_ROW_ID)) rows.push(elevatedRoleRow(config.elevatedRoles));
  return [...rows, ...config.custom];
}

/** Every built-in pattern parses and fits (checked by tests; config checks user rows the same way). */
export function checkPattern(pattern: string): string | undefined {
  try {
    parseFilterPattern(pattern);
    return pattern.length > MAX_PATTERN_LENGTH ? `at most ${MAX_PATTERN_LENGTH} characters` : undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
