/**
 * replay's running totals and its human report. Memory is bounded by distinct findings (principal, action,
 * resource), not by the number of events read.
 */
import type { Finding } from "../../functions/router";
import { compactPolicy, permissionSetOf, policyIdOf } from "../../functions/deny/analyze";
import type { ProblemItem } from "./readLogs";

interface DenyGroup {
  principalArn: string;
  action: string | null;
  resource: string | null;
  cause: string;
  explicit: boolean | null;
  policyArn: string | null;
  whyNot: string | null;
  suggestion: any;
  count: number;
  accounts: Set<string>;
  // Added for issue 18: the sensitive-action warning, who (sessions, bounded), and one encoded message to decode.
  sensitive: { level: string; reason: string } | null;
  sessions: Set<string>;
  encodedMessage: string | null;
  dataEvent: boolean;
}

const MAX_SESSIONS_SHOWN = 5;

/**
 * The command that decodes an EC2 encoded authorization message, run with credentials of the account that produced
 * it (sts:DecodeAuthorizationMessage). Single-quoted for POSIX shells; the blob is base64url in practice.
 * https://docs.aws.amazon.com/cli/latest/reference/sts/decode-authorization-message.html
 */
export function decodeCommand(encodedMessage: string): string {
  return `aws sts decode-authorization-message --encoded-message '${encodedMessage.replace(/'/g, `'\\''`)}' --query DecodedMessage --output text`;
}

const MAX_SKIPPED_KEPT = 1000;


export class ReplaySummary {
  records = 0;
  files = new Set<string>();
  skipped: ProblemItem[] = [];
  skippedCount = 0;
  denies = 0;
  suggestions = 0;
  causes: Record<string, number> = {};
  deniesByKey = new Map<string, DenyGroup>();
  scp = new Map<string, number>(); // policyId|account|action -> count
  sgChanges: Finding[] = [];
  sgCount = 0;
  roleChanges = 0;
  roleEvents: Record<string, number> = {};
  /** CloudTrail-Digest files met (integrity validation, no events): counted, neither records nor bad input. */
  digests = 0;

  skip(p: ProblemItem): void {
    this.skippedCount++;
    if (this.skipped.length < MAX_SKIPPED_KEPT) this.skipped.push(p);
  }

  add(f: Finding): void {
    const any = f as any;
    if (any.kind === "deny") {
      this.denies++;
      this.causes[any.cause] = (this.causes[any.cause] ?? 0) + 1;
      if (any.suggestion) this.suggestions++;
      const principal = any.principalArn ?? "(no principal)";
      // Same principal, action and resource can be denied for different reasons (an SCP, then a trust policy):
      // each reason is its own line, or the report would show the first reason for all of them.
      const key = `${principal}|${any.action}|${any.resource}|${any.cause}|${any.explicit}|${any.policyArn ?? ""}|${any.whyNot ?? ""}`;
      let g = this.deniesByKey.get(key);
      if (!g) {
        g = { principalArn: principal, action: any.action, resource: any.resource, cause: any.cause, explicit: any.explicit, policyArn: any.policyArn ?? null, whyNot: any.whyNot ?? null, suggestion: any.suggestion, count: 0, accounts: new Set(), sensitive: any.sensitive ?? null, sessions: new Set(), encodedMessage: null, dataEvent: false };
        this.deniesByKey.set(key, g);
      }
      g.count++;
      if (typeof any.sessionName === "string" && g.sessions.size <= MAX_SESSIONS_SHOWN) g.sessions.add(any.sessionName);
      if (typeof any.encodedMessage === "string" && !g.encodedMessage) g.encodedMessage = any.encodedMessage;
      if (any.dataEvent === true) g.dataEvent = true;
      if (any.accountId) g.accounts.add(any.accountId);
      if (any.cause === "service-control-policy" || any.cause === "resource-control-policy") {
        const k = `${policyIdOf(any.policyArn) ?? "unknown"}|${any.accountId ?? "?"}|${any.action ?? "?"}`;
        this.scp.set(k, (this.scp.get(k) ?? 0) + 1);
      }
    } else if (any.kind === "sg-change") {
      this.sgCount++;
      if (this.sgChanges.length < 200) this.sgChanges.push(f);
    } else if (any.kind === "role-change") {
      this.roleChanges++;
      this.roleEvents[any.eventName] = (this.roleEvents[any.eventName] ?? 0) + 1;
    }
  }

  /** The `summary` line of --json. */
  toJSON(): Record<string, unknown> {
    return {
      kind: "summary",
      files: this.files.size,
      records: this.records,
      skipped: this.skippedCount,
      denies: this.denies,
      distinctDenies: this.deniesByKey.size,
      suggestions: this.suggestions,
      causes: sortKeys(this.causes),
      sgChanges: this.sgCount,
      roleChanges: this.roleChanges,
      digests: this.digests,
      scpDenies: [...this.scp.entries()]
        .map(([k, count]) => {
          const [policyId, accountId, action] = k.split("|");
          return { policyId, accountId, action, count };
        })
        .sort((a, b) => b.count - a.count || a.policyId.localeCompare(b.policyId)),
    };
  }
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * S3 object ARNs that share a folder (the key up to its last `/`) become one `bucket/folder/*` resource when two or
 * more objects under it were denied; objects alone in their folder, and objects at the bucket's root, stay as they
 * are: the wildcard never reaches above the deepest folder the denies share, and never the whole bucket.
 * IAM's `*` in a resource ARN matches any characters, `/` included.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 */
export function mergeS3Prefixes(resources: string[]): string[] {
  const folders = new Map<string, string[]>();
  const out: string[] = [];
  for (const r of resources) {
    const m = /^(arn:aws[a-z-]*:s3:::[^/]+\/(?:.*\/)?)[^/]*$/.exec(r);
    // "arn:aws:s3:::bucket/" (the root) has one "/": only deeper folders may take a wildcard.
    const folder = m && m[1].split("/").length > 2 ? m[1] : null;
    if (!folder || r.includes("*")) out.push(r);
    else folders.set(folder, [...(folders.get(folder) ?? []), r]);
  }
  for (const [folder, objects] of folders) out.push(...(new Set(objects).size > 1 ? [`${folder}*`] : objects));
  return [...new Set(out)].sort();
}

/** Merge the suggestions of one principal into one policy: one statement per distinct action set. */
export function mergeSuggestions(policies: any[]): any | null {
  const byResource = new Map<string, Set<string>>();
  for (const p of policies)
    for (const s of p?.Statement ?? []) {
      const actions: string[] = [].concat(s.Action);
      const resources: string[] = [].concat(s.Resource);
      for (const r of resources) {
        const set = byResource.get(r) ?? new Set<string>();
        actions.forEach((a) => set.add(a));
        byResource.set(r, set);
      }
    }
  if (byResource.size === 0) return null;
  // Group resources that need the same actions into one statement.
  const byActions = new Map<string, string[]>();
  for (const [r, acts] of [...byResource.entries()].sort()) {
    const k = [...acts].sort().join(",");
    byActions.set(k, [...(byActions.get(k) ?? []), r]);
  }
  for (const [k, resources] of byActions) byActions.set(k, mergeS3Prefixes(resources));
  return {
    Version: "2012-10-17",
    Statement: [...byActions.entries()].map(([acts, resources]) => ({ Effect: "Allow", Action: acts.split(","), Resource: resources })),
  };
}

/** Who (sessions) and, for an encoded EC2 message, that replay cannot decode it and the command that can. */
function denyDetails(lines: string[], g: DenyGroup, pad: string): void {
  if (g.sessions.size) {
    const shown = [...g.sessions].slice(0, MAX_SESSIONS_SHOWN);
    lines.push(`${pad}by session${shown.length > 1 ? "s" : ""} ${shown.join(", ")}${g.sessions.size > MAX_SESSIONS_SHOWN ? ", ..." : ""}`);
  }
  if (g.encodedMessage) {
    const account = [...g.accounts][0];
    lines.push(`${pad}encoded message: replay cannot decode it offline; with credentials for account ${account ?? "(the event's account)"}, run:`);
    lines.push(`${pad}  ${decodeCommand(g.encodedMessage)}`);
  }
}

function indent(text: string, n: number): string {
  return text
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");
}

export function formatReport(s: ReplaySummary): string {
  const lines: string[] = [];
  lines.push(`trailwatch replay: ${s.records} records from ${s.files.size} files${s.skippedCount ? `, ${s.skippedCount} skipped` : ""}${s.digests ? `; ${s.digests} CloudTrail digest files (integrity hashes, no events) counted` : ""}`);
  const groups = [...s.deniesByKey.values()];
  const fixable = groups.filter((g) => g.suggestion);
  const unfixable = groups.filter((g) => !g.suggestion);

  lines.push("", `Denies with a least-privilege fix (${fixable.length} distinct, grouped by principal)`);
  if (fixable.length === 0) lines.push("  none");
  const byPrincipal = new Map<string, DenyGroup[]>();
  for (const g of fixable) byPrincipal.set(g.principalArn, [...(byPrincipal.get(g.principalArn) ?? []), g]);
  for (const [principal, gs] of [...byPrincipal.entries()].sort()) {
    const set = permissionSetOf(principal);
    lines.push(`  ${principal}${set ? `  (Identity Center permission set ${set}: put the policy there)` : ""}`);
    for (const g of gs) {
      lines.push(`    ${g.action} on ${g.resource}  x${g.count}  (${g.cause === "unknown" ? "the message gives no cause" : `${g.cause}${g.explicit === false ? ", implicit" : ""}`})${g.dataEvent ? "  [data event]" : ""}`);
      denyDetails(lines, g, "      ");
    }
    const sensitive = gs.filter((g) => g.sensitive);
    if (sensitive.length) {
      lines.push(`    REVIEW BEFORE GRANTING: ${sensitive.length === gs.length ? "every action here is" : "some actions here are"} sensitive:`);
      for (const a of [...new Map(sensitive.map((g) => [g.action, g.sensitive!])).entries()]) lines.push(`      ${a[0]}: ${a[1].level}: ${a[1].reason}`);
    }
    lines.push(sensitive.length ? "    suggested policy (not a plain fix: review the actions above):" : "    suggested policy:");
    lines.push(indent(compactPolicy(mergeSuggestions(gs.map((g) => g.suggestion))), 6));
  }

  if (groups.some((g) => g.dataEvent))
    lines.push("", "  [data event]: the deployed advisor sees this deny only where the trail logs that data event (S3 object, Lambda invoke); replay reports it either way.");

  lines.push("", `Denies an Allow cannot fix (${unfixable.length} distinct)`);
  if (unfixable.length === 0) lines.push("  none");
  for (const g of unfixable.sort((a, b) => a.cause.localeCompare(b.cause) || a.principalArn.localeCompare(b.principalArn))) {
    lines.push(`  ${g.principalArn}  ${g.action ?? "(unmapped action)"}${g.resource && g.resource !== "*" ? ` on ${g.resource}` : ""}  x${g.count}${g.dataEvent ? "  [data event]" : ""}`);
    lines.push(`    ${g.cause}${g.explicit === true ? " (explicit)" : g.explicit === false ? " (implicit)" : ""}: ${g.whyNot ?? "no identity-based Allow fixes this"}`);
    if (g.sensitive) lines.push(`    sensitive: ${g.sensitive.level}: ${g.sensitive.reason}`);
    denyDetails(lines, g, "    ");
  }

  const scp = (s.toJSON().scpDenies as { policyId: string; accountId: string; action: string; count: number }[]);
  if (scp.length) {
    lines.push("", "SCP / RCP denies by policy, account and action");
    for (const r of scp) lines.push(`  ${r.policyId.padEnd(14)} ${r.accountId}  ${r.action}  x${r.count}`);
  }

  lines.push("", `Security-group changes (${s.sgCount})`);
  if (s.sgCount === 0) lines.push("  none");
  for (const c of s.sgChanges as any[]) {
    lines.push(`  ${c.eventTime}  ${c.groupId} in ${c.accountId} ${c.region}  risk ${c.risk}${c.openToWorld ? "  OPEN TO THE WORLD" : ""}`);
    for (const r of c.rules) {
      const ports = r.protocol === "all" ? "all traffic" : r.fromPort === null || r.fromPort === undefined ? `${r.protocol} all ports` : r.fromPort === r.toPort ? `${r.protocol} port ${r.fromPort}` : `${r.protocol} ports ${r.fromPort}-${r.toPort}`;
      lines.push(`    ${r.ruleId ?? "(no rule id)"}  ${c.direction ?? "direction not stated"} ${ports} ${c.direction === "egress" ? "to" : "from"} ${r.source}`);
    }
    if (c.principalArn) lines.push(`    by ${c.principalArn}${c.sessionName ? ` (session ${c.sessionName})` : ""}`);
    for (const why of c.riskReasons ?? []) lines.push(`    risk: ${why}`);
  }

  lines.push("", `Role changes (${s.roleChanges})`);
  for (const [e, n] of Object.entries(sortKeys(s.roleEvents))) lines.push(`  ${e}  x${n}`);

  if (s.skippedCount) {
    lines.push("", `Skipped input (${s.skippedCount})`);
    for (const p of s.skipped.slice(0, 20)) lines.push(`  ${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}`);
    if (s.skippedCount > 20) lines.push(`  ... and ${s.skippedCount - 20} more (stderr lists all)`);
  }

  const causes = Object.entries(sortKeys(s.causes))
    .map(([c, n]) => `${c} ${n}`)
    .join(", ");
  lines.push("", `Summary: ${s.records} records, ${s.denies} denies (${causes || "none"}), ${s.suggestions} with a suggested fix, ${s.sgCount} security-group changes, ${s.roleChanges} role changes, ${s.skippedCount} skipped`);
  return lines.join("\n") + "\n";
}
