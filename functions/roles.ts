/**
 * IAM role-change events -> the `role-change` line of replay's output (its fields: README.md, "npm run replay"), and the key
 * the role inventory uses. IAM is global: its events are logged in us-east-1.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-create-and-update-a-trail-by-using-the-aws-cli-update-trail.html
 */
import { accountOf, partitionOf, principalArnOf, type CloudTrailRecord } from "./cloudtrail";
import { personOf } from "./deny/person";
import { roleChangePattern } from "./patterns";

export interface RoleChangeLine {
  kind: "role-change";
  eventId: string | null;
  eventTime: string | null;
  accountId: string | null;
  eventName: string;
  /** With its path when the event carries it (CreateRole's response), else `role/<name>`. */
  roleArn: string;
  /** Who changed it: the same kind of ARN as deny and sg-change lines (the role, for an assumed role). */
  principalArn: string | null;
  sessionName: string | null;
}

/** The events the role-change stream carries: read from the deployed pattern, one list for both. */
export const ROLE_CHANGE_EVENTS: readonly string[] = (roleChangePattern.detail as { eventName: string[] }).eventName;

/**
 * The inventory key for a role: `arn:<partition>:iam::<account>:role/<name>`, path dropped. Role names are unique
 * in an account whatever their path, and only CreateRole's response carries the path, so TagRole and a deny's
 * sessionIssuer ARN (which has it) must meet on the name.
 */
export function roleKey(roleArn: string): string {
  const m = /^arn:(aws[a-z-]*):(?:iam|sts)::(\d{12}):(?:role|assumed-role)\/(.+)$/.exec(roleArn);
  if (!m) return roleArn;
  const parts = m[3].split("/");
  // assumed-role/<name>/<session>; role/<path...>/<name>
  const name = roleArn.includes(":assumed-role/") ? parts[0] : parts[parts.length - 1];
  return `arn:${m[1]}:iam::${m[2]}:role/${name}`;
}

/** The role-change line for a successful role event, else null (failed calls change nothing). */
export function parseRoleChange(record: CloudTrailRecord): RoleChangeLine | null {
  if (record.errorCode || record.eventSource !== "iam.amazonaws.com") return null;
  if (!ROLE_CHANGE_EVENTS.includes(record.eventName ?? "")) return null;
  const fromResponse = record.responseElements?.role?.arn;
  const name = record.requestParameters?.roleName;
  const account = accountOf(record);
  let roleArn: string | null = typeof fromResponse === "string" ? fromResponse : null;
  if (!roleArn && typeof name === "string" && account) roleArn = `arn:${partitionOf(record.awsRegion)}:iam::${account}:role/${name}`;
  if (!roleArn) return null;
  return {
    kind: "role-change",
    eventId: record.eventID ?? null,
    eventTime: record.eventTime ?? null,
    accountId: account,
    eventName: record.eventName!,
    roleArn,
    // The same kind of ARN as deny and sg-change lines (the role for an assumed role), and who inside it.
    principalArn: principalArnOf(record),
    sessionName: personOf(record),
  };
}
