/**
 * replay's running totals and its human report. Memory is bounded by distinct findings (principal, action,
 * resource), not by the number of events read.
 */
import type { Finding } from "../../functions/router";
import { compactPolicy, permissionSetOf, policyIdOf } from "../../functions/deny/analyze";
import type { ProblemItem } from "./readLogs";
import { UNSEEN_REASONS } from "../../functions/coverage";

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
  /** Findings the deployed config would not have seen, by reason (functions/coverage.ts). */
  unseenCounts: Record<string, number> = Object.fromEntries(UNSEEN_REASONS.map((r) => [r, 0]));

  unseen(reason: string | null): void {
    if (reason) this.unseenCounts[reason] = (this.unseenCounts[reason] ?? 0) + 1;
  }

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
        g = { principalArn: principal, action: any.action, resource: any.resource, cause: any.cause, explicit: any.explicit, policyArn: any.policyArn ?? null, whyNot: any.whyNot ?? null, suggestion: any.suggestion, count: 0, accounts: new Set() };
        this.deniesByKey.set(key, g);
      }
      g.count++;
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
      scpDenies: [...this.scp.entries()]
        .map(([k, count]) => {
          const [policyId, accountId, action] = k.split("|");
          return { policyId, accountId, action, count };
        })
        .sort((a, b) => b.count - a.count || a.policyId.localeCompare(b.policyId)),
      unseen: { ...this.unseenCounts },
    };
  }
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
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
  return {
    Version: "2012-10-17",
    Statement: [...byActions.entries()].map(([acts, resources]) => ({ Effect: "Allow", Action: acts.split(","), Resource: resources })),
  };
}

function indent(text: string, n: number): string {
  return text
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");
}

export function formatReport(s: ReplaySummary): string {
  const lines: string[] = [];
  lines.push(`trailwatch replay: ${s.records} records from ${s.files.size} files${s.skippedCount ? `, ${s.skippedCount} skipped` : ""}`);
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
    for (const g of gs) lines.push(`    ${g.action} on ${g.resource}  x${g.count}  (${g.cause === "unknown" ? "the message gives no cause" : `${g.cause}${g.explicit === false ? ", implicit" : ""}`})`);
    lines.push("    suggested policy:");
    lines.push(indent(compactPolicy(mergeSuggestions(gs.map((g) => g.suggestion))), 6));
  }

  lines.push("", `Denies an Allow cannot fix (${unfixable.length} distinct)`);
  if (unfixable.length === 0) lines.push("  none");
  for (const g of unfixable.sort((a, b) => a.cause.localeCompare(b.cause) || a.principalArn.localeCompare(b.principalArn))) {
    lines.push(`  ${g.principalArn}  ${g.action ?? "(unmapped action)"}${g.resource && g.resource !== "*" ? ` on ${g.resource}` : ""}  x${g.count}`);
    lines.push(`    ${g.cause}${g.explicit === true ? " (explicit)" : g.explicit === false ? " (implicit)" : ""}: ${g.whyNot ?? "no identity-based Allow fixes this"}`);
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
    if (c.principalArn) lines.push(`    by ${c.principalArn}`);
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
  const unseen = Object.entries(s.unseenCounts).filter(([, n]) => n > 0);
  if (unseen.length)
    lines.push("", `Findings the deployed config would not have seen: ${unseen.map(([r, n]) => `${n} ${r}`).join(", ")} (replay reads every record; the bus gets only what the trail logs and the forwarders' regions)`);
  lines.push("", `Summary: ${s.records} records, ${s.denies} denies (${causes || "none"}), ${s.suggestions} with a suggested fix, ${s.sgCount} security-group changes, ${s.roleChanges} role changes, ${s.skippedCount} skipped`);
  return lines.join("\n") + "\n";
}
