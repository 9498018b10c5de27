/**
 * Replaying items (what readLogFileBatches yields) into a summary and output: the part of `npm run replay` that runs
 * in every worker thread too. Kept apart from replay.ts so that a worker loads only what replaying needs, not the
 * CLI's stack-config reading (Pulumi), which makes each worker start about twice as fast.
 */
import * as path from "path";
import type { LogItem } from "./readLogs";
import { mayProduceFindings, routeRecord, type Finding } from "../functions/router";
import { ReplaySummary } from "./report";
import { isChange, summarize, toChangeRecord } from "../functions/changeFeed";
import { unseenBecause, type DeployedCoverage } from "../functions/coverage";
import type { ReplayArgs } from "./replay";

/** Where an item is, for messages: `file:line` for JSON lines, `file record <n>` for one-document files. */
function whereOf(item: { file: string; line: number | null; index?: number }): string {
  return item.line ? `${item.file}:${item.line}` : item.index !== undefined ? `${item.file} record ${item.index}` : item.file;
}

/** An error in our own code, for the report: its message and the first frame in this project (relative path). */
export function describeInternalError(e: unknown): string {
  const err = e instanceof Error ? e : new Error(typeof e === "string" ? e : "non-Error thrown");
  const root = path.resolve(__dirname, "..") + path.sep;
  const frame = (err.stack ?? "")
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith("at ") && l.includes(root) && !l.includes(`${path.sep}node_modules${path.sep}`));
  return `${err.name}: ${err.message.split(root).join("")}${frame ? ` (${frame.split(root).join("")})` : ""}`;
}

/**
 * What replaying items needs and adds to: the running summary and change count, where output goes. One per run with
 * one worker; in each worker thread, one per file or run of JSON lines, merged in input order (replayWorkers.ts).
 */
export interface ReplayContext {
  args: ReplayArgs;
  coverage: DeployedCoverage;
  summary: ReplaySummary;
  changes: number;
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Report an internal error (a bug in trailwatch, not bad input): counted in the summary, told on stderr. */
export function reportInternal(ctx: ReplayContext, where: string, e: unknown): void {
  const what = describeInternalError(e);
  ctx.summary.internal({ where, message: what });
  ctx.err(`replay: internal error at ${where} (a bug in trailwatch, not bad input: please report it): ${what}\n`);
}

/** Replay one batch of items (readLogFileBatches) into the context, in order. */
export async function replayItems(batch: LogItem[], ctx: ReplayContext): Promise<void> {
  const { args, coverage, summary, out, err } = ctx;
  for (const item of batch) {
    if (item.kind === "digest") {
      summary.digests++;
      continue;
    }
    if (item.kind === "problem") {
      summary.skip(item);
      err(`replay: skipped ${item.file}${item.line ? `:${item.line}` : ""}: ${item.message}\n`);
      continue;
    }
    summary.records++;
    summary.files.add(item.file);
    if (item.ignored.length > 0) for (const p of item.ignored) {
      summary.fieldsIgnored++;
      err(`replay: ${whereOf(item)}: ignored ${p.field}: ${p.problem}\n`);
    }
    // Output is written only once the record went through whole: a record with an internal error adds nothing.
    const lines: string[] = [];
    try {
      // Most records can produce no finding: tell them apart cheaply before the full (async) routing.
      const routed = mayProduceFindings(item.record);
      if (!routed && !args.changes) continue;
      // Whether the deployed config would have seen each finding: a data event, a network activity event or a region
      // without a forwarder never reaches the bus (fields added to the public JSON, counted apart in the summary).
      const findings: Finding[] = (routed ? await routeRecord(item.record, { trustedCidrs: args.trustedCidrs }) : []).map((found) => {
        const why = unseenBecause(item.record, (found as { kind: string }).kind, coverage);
        return { ...found, seen: why === null, unseenBecause: why } as unknown as Finding;
      });
      if (args.json) for (const f of findings) lines.push(JSON.stringify(f) + "\n");
      let change: string | null = null;
      if (args.changes && isChange(item.record)) {
        const c = toChangeRecord(item.record, { accounts: {} });
        change = args.json ? JSON.stringify(c) + "\n" : `change  ${summarize(c)}\n`;
      }
      for (const f of findings) {
        summary.add(f);
        summary.unseen((f as unknown as { unseenBecause: string | null }).unseenBecause);
      }
      if (change !== null) {
        ctx.changes++;
        lines.push(change);
      }
    } catch (e) {
      // A record our functions cannot handle is a bug to report, not a reason to stop the run.
      reportInternal(ctx, whereOf(item), e);
      continue;
    }
    for (const l of lines) out(l);
  }
}

