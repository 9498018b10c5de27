/**
 * replay's running totals and its human report. Memory is bounded by distinct findings (principal, action,
 * resource), not by the number of events read.
 */
import type { Finding } from "../functions/router";
import { compactPolicy, permissionSetOf, policyIdOf } from "../functions/deny/analyze";
import type { ProblemItem } from "./readLogs";
import { UNSEEN_REASONS } from "../functions/coverage";

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
  // The sensitive-action warning, who (sessions, bounded), and one encoded message to decode.
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

/** An internal error on a record: a bug in our code, not bad input. */
export interface InternalError {
  where: string;
  message: string;
}

/**
 * A finding's field as text for keys and the human report, whatever it holds: findings are bounded plain JSON
 * (functions/bounded.ts), but the report must not be the place where a wrong type becomes a crash.
 */
function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "";
  try {
    return JSON.stringify(v)?.slice(0, 200) ?? "";
  } catch {
    return "(unprintable)";
  }
}
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : text(v));
/** Counters keyed by text from records: no prototype, so "__proto__" or "constructor" count like any other key. */
const counter = (): Record<string, number> => Object.create(null) as Record<string, number>;


export class ReplaySummary {
  records = 0;
  files = new Set<string>();
  skipped: ProblemItem[] = [];
  skippedCount = 0;
  /** Internal errors (bugs): counted apart from skipped input; their records are counted in `records`. */
  internalErrors: InternalError[] = [];
  internalCount = 0;
  /** Fields of the wrong type the boundary ignored (the records were read without them). */
  fieldsIgnored = 0;
  denies = 0;
  suggestions = 0;
  causes: Record<string, number> = counter();
  deniesByKey = new Map<string, DenyGroup>();
  scp = new Map<string, number>(); // policyId|account|action -> count
  sgChanges: Finding[] = [];
  sgCount = 0;
  roleChanges = 0;
  roleEvents: Record<string, number> = counter();
  /** CloudTrail-Digest files met (integrity validation, no events): counted, neither records nor bad input. */
  digests = 0;
  /** Findings the deployed config would not have seen, by reason (functions/coverage.ts). */
  unseenCounts: Record<string, number> = Object.fromEntries(UNSEEN_REASONS.map((r) => [r, 0]));

  unseen(reason: string | null): void {
    if (reason) this.unseenCounts[reason] = (this.unseenCounts[reason] ?? 0) + 1;
  }

  skip(p: ProblemItem): void {
    this.skippedCount++;
    if (this.skipped.length < MAX_SKIPPED_KEPT) this.skipped.push(p);
  }

  internal(e: InternalError): void {
    this.internalCount++;
    if (this.internalErrors.length < MAX_SKIPPED_KEPT) this.internalErrors.push(e);
  }

  add(f: Finding): void {
    const any = f as any;
    if (any.kind === "deny") {
      this.denies++;
      const cause = text(any.cause) || "unknown";
      this.causes[cause] = (this.causes[cause] ?? 0) + 1;
      if (any.suggestion) this.suggestions++;
      const principal = text(any.principalArn) || "(no principal)";
      const action = textOrNull(any.action);
      const resource = textOrNull(any.resource);
      const explicit = typeof any.explicit === "boolean" ? any.explicit : null;
      const policyArn = textOrNull(any.policyArn);
      const whyNot = textOrNull(any.whyNot);
      // Same principal, action and resource can be denied for different reasons (an SCP, then a trust policy):
      // each reason is its own line, or the report would show the first reason for all of them.
      const key = `${principal}|${action}|${resource}|${cause}|${explicit}|${policyArn ?? ""}|${whyNot ?? ""}`;
      let g = this.deniesByKey.get(key);
      if (!g) {
        g = { principalArn: principal, action, resource, cause, explicit, policyArn, whyNot, suggestion: any.suggestion, count: 0, accounts: new Set(), sensitive: any.sensitive && typeof any.sensitive === "object" ? any.sensitive : null, sessions: new Set(), encodedMessage: null, dataEvent: false };
        this.deniesByKey.set(key, g);
      }
      g.count++;
      if (typeof any.sessionName === "string" && g.sessions.size <= MAX_SESSIONS_SHOWN) g.sessions.add(any.sessionName);
      if (typeof any.encodedMessage === "string" && !g.encodedMessage) g.encodedMessage = any.encodedMessage;
      if (any.dataEvent === true) g.dataEvent = true;
      if (any.accountId) g.accounts.add(text(any.accountId));
      if (cause === "service-control-policy" || cause === "resource-control-policy") {
        // "|" inside a value would shift the fields when the key is split again: replaced.
        const k = [policyIdOf(policyArn) ?? "unknown", textOrNull(any.accountId) ?? "?", action ?? "?"].map((x) => x.replace(/\|/g, "/")).join("|");
        this.scp.set(k, (this.scp.get(k) ?? 0) + 1);
      }
    } else if (any.kind === "sg-change") {
      this.sgCount++;
      if (this.sgChanges.length < 200) this.sgChanges.push(f);
    } else if (any.kind === "role-change") {
      this.roleChanges++;
      const name = text(any.eventName);
      this.roleEvents[name] = (this.roleEvents[name] ?? 0) + 1;
    }
  }

  /**
   * Add the totals of a summary built over input read after this one's: the result is the summary one pass over both
   * would have built (counts add; keyed groups, files and kept examples keep first-seen order and the same caps).
   * replay --workers builds one summary per file (or run of JSON lines) in the workers and merges them in input order.
   */
  merge(o: ReplaySummary): void {
    this.records += o.records;
    for (const f of o.files) this.files.add(f);
    for (const p of o.skipped) if (this.skipped.length < MAX_SKIPPED_KEPT) this.skipped.push(p);
    this.skippedCount += o.skippedCount;
    for (const e of o.internalErrors) if (this.internalErrors.length < MAX_SKIPPED_KEPT) this.internalErrors.push(e);
    this.internalCount += o.internalCount;
    this.fieldsIgnored += o.fieldsIgnored;
    this.denies += o.denies;
    this.suggestions += o.suggestions;
    addCounts(this.causes, o.causes);
    for (const [key, g] of o.deniesByKey) {
      const mine = this.deniesByKey.get(key);
      if (!mine) {
        this.deniesByKey.set(key, { ...g, accounts: new Set(g.accounts), sessions: new Set(g.sessions) });
        continue;
      }
      mine.count += g.count;
      // add() keeps a session while the group holds at most MAX_SESSIONS_SHOWN: the same rule, in the same order.
      for (const s of g.sessions) if (mine.sessions.size <= MAX_SESSIONS_SHOWN) mine.sessions.add(s);
      if (!mine.encodedMessage && g.encodedMessage) mine.encodedMessage = g.encodedMessage;
      if (g.dataEvent) mine.dataEvent = true;
      for (const a of g.accounts) mine.accounts.add(a);
    }
    for (const [k, n] of o.scp) this.scp.set(k, (this.scp.get(k) ?? 0) + n);
    for (const c of o.sgChanges) if (this.sgChanges.length < 200) this.sgChanges.push(c);
    this.sgCount += o.sgCount;
    this.roleChanges += o.roleChanges;
    addCounts(this.roleEvents, o.roleEvents);
    this.digests += o.digests;
    for (const [r, n] of Object.entries(o.unseenCounts)) this.unseenCounts[r] = (this.unseenCounts[r] ?? 0) + n;
  }

  /** Plain data for postMessage (Maps, Sets and prototype-less counters as entries); fromState rebuilds it. */
  toState(): SummaryState {
    return {
      records: this.records,
      files: [...this.files],
      skipped: this.skipped,
      skippedCount: this.skippedCount,
      internalErrors: this.internalErrors,
      internalCount: this.internalCount,
      fieldsIgnored: this.fieldsIgnored,
      denies: this.denies,
      suggestions: this.suggestions,
      causes: Object.entries(this.causes),
      deniesByKey: [...this.deniesByKey].map(([k, g]) => [k, { ...g, accounts: [...g.accounts], sessions: [...g.sessions] }]),
      scp: [...this.scp],
      sgChanges: this.sgChanges,
      sgCount: this.sgCount,
      roleChanges: this.roleChanges,
      roleEvents: Object.entries(this.roleEvents),
      digests: this.digests,
      unseenCounts: Object.entries(this.unseenCounts),
    };
  }

  static fromState(s: SummaryState): ReplaySummary {
    const r = new ReplaySummary();
    Object.assign(r, {
      records: s.records,
      files: new Set(s.files),
      skipped: s.skipped,
      skippedCount: s.skippedCount,
      internalErrors: s.internalErrors,
      internalCount: s.internalCount,
      fieldsIgnored: s.fieldsIgnored,
      denies: s.denies,
      suggestions: s.suggestions,
      deniesByKey: new Map(s.deniesByKey.map(([k, g]) => [k, { ...g, accounts: new Set(g.accounts), sessions: new Set(g.sessions) }])),
      scp: new Map(s.scp),
      sgChanges: s.sgChanges,
      sgCount: s.sgCount,
      roleChanges: s.roleChanges,
      digests: s.digests,
    });
    for (const [k, n] of s.causes) r.causes[k] = n;
    for (const [k, n] of s.roleEvents) r.roleEvents[k] = n;
    for (const [k, n] of s.unseenCounts) r.unseenCounts[k] = n;
    return r;
  }

  /** The `summary` line of --json. */
  toJSON(): Record<string, unknown> {
    return {
      kind: "summary",
      files: this.files.size,
      records: this.records,
      skipped: this.skippedCount,
      // Added fields: internal errors (bugs, not bad input) and fields of the wrong type that were ignored.
      internalErrors: this.internalCount,
      fieldsIgnored: this.fieldsIgnored,
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
        .sort((a, b) => b.count - a.count || compareText(a.policyId, b.policyId)),
      unseen: { ...this.unseenCounts },
    };
  }
}

/** A ReplaySummary as plain data (toState / fromState). */
export interface SummaryState {
  records: number;
  files: string[];
  skipped: ProblemItem[];
  skippedCount: number;
  internalErrors: InternalError[];
  internalCount: number;
  fieldsIgnored: number;
  denies: number;
  suggestions: number;
  causes: [string, number][];
  deniesByKey: [string, Omit<DenyGroup, "accounts" | "sessions"> & { accounts: string[]; sessions: string[] }][];
  scp: [string, number][];
  sgChanges: Finding[];
  sgCount: number;
  roleChanges: number;
  roleEvents: [string, number][];
  digests: number;
  unseenCounts: [string, number][];
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/** localeCompare for anything: non-strings compare as their text. */
function compareText(a: unknown, b: unknown): number {
  return text(a).localeCompare(text(b));
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => compareText(a, b)));
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
    for (const s of Array.isArray(p?.Statement) ? p.Statement : []) {
      if (!s || typeof s !== "object") continue;
      const actions: string[] = ([] as unknown[]).concat(s.Action).filter((a): a is string => typeof a === "string");
      const resources: string[] = ([] as unknown[]).concat(s.Resource).filter((r): r is string => typeof r === "string");
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
  lines.push(
    `trailwatch replay: ${s.records} records from ${s.files.size} files${s.skippedCount ? `, ${s.skippedCount} skipped` : ""}${s.internalCount ? `, ${s.internalCount} internal errors` : ""}${s.digests ? `; ${s.digests} CloudTrail digest files (integrity hashes, no events) counted` : ""}`,
  );
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
  for (const g of unfixable.sort((a, b) => compareText(a.cause, b.cause) || compareText(a.principalArn, b.principalArn))) {
    lines.push(`  ${g.principalArn}  ${g.action ?? "(unmapped action)"}${g.resource && g.resource !== "*" ? ` on ${g.resource}` : ""}  x${g.count}${g.dataEvent ? "  [data event]" : ""}`);
    lines.push(`    ${g.cause}${g.explicit === true ? " (explicit)" : g.explicit === false ? " (implicit)" : ""}: ${g.whyNot ?? "no identity-based Allow fixes this"}`);
    if (g.sensitive) lines.push(`    sensitive: ${g.sensitive.level}: ${g.sensitive.reason}`);
    denyDetails(lines, g, "    ");
  }

  const scp = (s.toJSON().scpDenies as { policyId: string; accountId: string; action: string; count: number }[]);
  if (scp.length) {
    lines.push("", "SCP / RCP denies by policy, account and action");
    for (const r of scp) lines.push(`  ${text(r.policyId).padEnd(14)} ${text(r.accountId)}  ${text(r.action)}  x${r.count}`);
  }

  lines.push("", `Security-group changes (${s.sgCount})`);
  if (s.sgCount === 0) lines.push("  none");
  for (const c of s.sgChanges as any[]) {
    lines.push(`  ${text(c.eventTime)}  ${text(c.groupId)} in ${text(c.accountId)} ${text(c.region)}  risk ${text(c.risk)}${c.openToWorld === true ? "  OPEN TO THE WORLD" : ""}`);
    for (const r of Array.isArray(c.rules) ? c.rules : []) {
      if (!r || typeof r !== "object") continue;
      const protocol = text(r.protocol);
      const ports = protocol === "all" ? "all traffic" : r.fromPort === null || r.fromPort === undefined ? `${protocol} all ports` : r.fromPort === r.toPort ? `${protocol} port ${text(r.fromPort)}` : `${protocol} ports ${text(r.fromPort)}-${text(r.toPort)}`;
      lines.push(`    ${textOrNull(r.ruleId) ?? "(no rule id)"}  ${textOrNull(c.direction) ?? "direction not stated"} ${ports} ${c.direction === "egress" ? "to" : "from"} ${text(r.source)}`);
    }
    if (c.principalArn) lines.push(`    by ${text(c.principalArn)}${typeof c.sessionName === "string" ? ` (session ${c.sessionName})` : ""}`);
    for (const why of Array.isArray(c.riskReasons) ? c.riskReasons : []) lines.push(`    risk: ${text(why)}`);
  }

  lines.push("", `Role changes (${s.roleChanges})`);
  for (const [e, n] of Object.entries(sortKeys(s.roleEvents))) lines.push(`  ${e}  x${n}`);

  if (s.skippedCount) {
    lines.push("", `Skipped input (${s.skippedCount})`);
    for (const p of s.skipped.slice(0, 20)) lines.push(`  ${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}`);
    if (s.skippedCount > 20) lines.push(`  ... and ${s.skippedCount - 20} more (stderr lists all)`);
  }

  if (s.internalCount) {
    lines.push("", `Internal errors (${s.internalCount}): bugs in trailwatch, not bad input; please report them`);
    for (const e of s.internalErrors.slice(0, 20)) lines.push(`  ${e.where}: ${e.message}`);
    if (s.internalCount > 20) lines.push(`  ... and ${s.internalCount - 20} more (stderr lists all)`);
  }

  const causes = Object.entries(sortKeys(s.causes))
    .map(([c, n]) => `${c} ${n}`)
    .join(", ");
  const unseen = Object.entries(s.unseenCounts).filter(([, n]) => n > 0);
  if (unseen.length)
    lines.push("", `Findings the deployed config would not have seen: ${unseen.map(([r, n]) => `${n} ${r}`).join(", ")} (replay reads every record; the bus gets only what the trail logs and the forwarders' regions)`);
  lines.push("", `Summary: ${s.records} records, ${s.denies} denies (${causes || "none"}), ${s.suggestions} with a suggested fix, ${s.sgCount} security-group changes, ${s.roleChanges} role changes, ${s.skippedCount} skipped${s.internalCount ? `, ${s.internalCount} internal errors` : ""}`);
  return lines.join("\n") + "\n";
}
