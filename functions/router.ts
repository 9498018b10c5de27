/**
 * Offline routing: each CloudTrail record is wrapped as EventBridge delivers it and matched against the same
 * patterns the central bus deploys, with the same matcher, then handed to the same functions the Lambdas run.
 * What replay reports is what the deployed pipeline would have done.
 */
import { toEnvelope, type CloudTrailRecord } from "./cloudtrail";
import { compilePattern } from "./eventPattern";
import { denyPattern, roleChangePattern, securityGroupChangePattern } from "./patterns";
import { analyzeDeny, type DenyFinding } from "./deny/analyze";
import { assessRisk, parseSecurityGroupChange, toSgChangeLine } from "./sg/change";
import { parseRoleChange, type RoleChangeLine } from "./roles";

export type SgChangeLine = ReturnType<typeof toSgChangeLine>;
export type Finding = DenyFinding | SgChangeLine | RoleChangeLine;

export interface RouteOptions {
  /** CIDRs the team trusts: rules from them weigh less. */
  trustedCidrs: string[];
}

// The deployed patterns, compiled once: replay matches every record of a log against all three.
const isDeny = compilePattern(denyPattern);
const isSecurityGroupChange = compilePattern(securityGroupChangePattern);
const isRoleChange = compilePattern(roleChangePattern);

/** Every finding one record produces (a record may be a deny and nothing else, or a change, or nothing). */
export async function routeRecord(record: CloudTrailRecord, opts: RouteOptions): Promise<Finding[]> {
  const event = toEnvelope(record);
  const out: Finding[] = [];
  if (isDeny(event)) out.push(await analyzeDeny(record));
  if (isSecurityGroupChange(event)) {
    const change = parseSecurityGroupChange(record);
    if (change) out.push(toSgChangeLine(change, assessRisk(change, { trustedCidrs: opts.trustedCidrs })));
  }
  if (isRoleChange(event)) {
    const role = parseRoleChange(record);
    if (role) out.push(role);
  }
  return out;
}
