/**
 * Offline routing: each CloudTrail record is wrapped as EventBridge delivers it and matched against the same
 * patterns the central bus deploys, with the same matcher, then handed to the same functions the Lambdas run.
 * What replay reports is what the deployed pipeline would have done.
 */
import { toEnvelope, type CloudTrailRecord } from "./cloudtrail";
import { compilePattern, type EventPattern } from "./eventPattern";
import { REPLAY_PATTERNS, denyPattern, roleChangePattern, securityGroupChangePattern } from "./patterns";
import { analyzeDeny, type DenyFinding } from "./deny/analyze";
import { assessRisk, parseSecurityGroupChange, toSgChangeLine } from "./sg/change";
import { parseRoleChange, type RoleChangeLine } from "./roles";
import { boundedJson } from "./bounded";

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

/**
 * Each pattern's `detail` part, which looks at the record alone. An envelope can match a pattern only if its
 * `detail`, the record, matches that part; a pattern without one could match any record.
 */
const detailTests = REPLAY_PATTERNS.map(({ pattern: p }) => {
  const detail = p.detail;
  return typeof detail === "object" && detail !== null && !Array.isArray(detail) ? compilePattern(detail as EventPattern) : () => true;
});

/**
 * False when `routeRecord` would find nothing in this record, known cheaply from the record alone: no envelope, no
 * async step. Exact, never a guess: true whenever any stream could match. Replay asks this first because only a few
 * percent of a real log (denies, security-group and role changes) can produce a finding.
 */
export function mayProduceFindings(record: CloudTrailRecord): boolean {
  // routeRecord fails on these (toEnvelope reads eventSource as a string) and replay reports that: let it.
  if (typeof record !== "object" || record === null || Array.isArray(record)) return true;
  if (record.eventSource !== undefined && record.eventSource !== null && typeof record.eventSource !== "string") return true;
  return detailTests.some((test) => test(record));
}

/**
 * Every finding one record produces (a record may be a deny and nothing else, or a change, or nothing), as bounded
 * plain JSON (functions/bounded.ts). `record` is typed: it has been through the boundary (checkRecord in cloudtrail.ts).
 */
export async function routeRecord(record: CloudTrailRecord, opts: RouteOptions): Promise<Finding[]> {
  return (await findingsOf(record, opts)).map((f) => boundedJson(f));
}

async function findingsOf(record: CloudTrailRecord, opts: RouteOptions): Promise<Finding[]> {
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
