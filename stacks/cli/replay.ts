/**
 * `npm run replay -- [paths...] [--json] [--changes] [--trusted-cidr <cidr>]...`
 *
 * Replays CloudTrail logs offline through the same patterns, matcher and functions the deployed pipeline runs.
 * With no path it reads the sample logs the project ships (samples/cloudtrail). Human report by default; `--json`
 * prints one JSON object per line (`deny`, `sg-change`, `role-change`, then one `summary`), the format DESIGN.md
 * fixes: a public interface, extend it, never break it. Bad input is reported (file and line, the field at fault): a
 * value that is no record is skipped, a field of the wrong type is ignored and the record read without it. An error in
 * our own code on a record is an internal error: a bug, printed as such, counted apart (`internalErrors`), the run goes
 * on; the exit code says so only with `--strict`.
 * `--changes` adds what the change feed would send: a `change` line per change record (JSON), or its one-line
 * summary (human), and a change count; without it the output is exactly as before.
 * `--workers <n>` spreads the files over n worker threads (default: one per core when the input is large enough;
 * 1 = everything in this thread); the output, stdout and stderr, is byte for byte that of one worker.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { listLogFiles, readLogFileBatches, type LogItem } from "./readLogs";
import { replayWithWorkers } from "./replayWorkers";
import { mayProduceFindings, routeRecord, type Finding } from "../../functions/router";
import { ReplaySummary, formatReport } from "./report";
import { isChange, summarize, toChangeRecord } from "../../functions/changeFeed";
import { unseenBecause, type DeployedCoverage } from "../../functions/coverage";
import { DEFAULT_COVERAGE, deployedCoverage, parseStackConfig } from "../config";
import { readStackConfig } from "./mockRuntime";

const USAGE = "usage: npm run replay -- [paths...] [--json] [--changes] [--strict] [--stack <name>] [--trusted-cidr <cidr>]... [--workers <n>]";
export const SAMPLES = path.resolve(__dirname, "../../samples/cloudtrail");

export interface ReplayArgs {
  paths: string[];
  json: boolean;
  trustedCidrs: string[];
  /** Also print the change feed's change records (environment "unknown": replay has no account map). */
  changes?: boolean;
  /** Exit non-zero (3) when an internal error (a bug, not bad input) happened on any record. */
  strict?: boolean;
  /** Stack whose config (Pulumi.<stack>.yaml) says what the deployed pipeline sees; unset = the defaults. */
  stack?: string;
  /** Worker threads to spread files over (1 = all in this thread); unset = one per core for inputs worth it (workerCount). */
  workers?: number;
}

export function parseReplayArgs(argv: string[]): ReplayArgs {
  const args: ReplayArgs = { paths: [], json: false, trustedCidrs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--changes") args.changes = true;
    else if (a === "--strict") args.strict = true;
    else if (a === "--stack") {
      const v = argv[++i];
      if (!v || !/^[\w.-]+$/.test(v)) throw new Error(`--stack needs a stack name such as prod, found ${v ?? "nothing"}\n${USAGE}`);
      args.stack = v;
    }
    else if (a === "--workers") {
      const v = argv[++i];
      if (!v || !/^\d{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 256) throw new Error(`--workers needs a number of worker threads from 1 to 256, found ${v ?? "nothing"}\n${USAGE}`);
      args.workers = Number(v);
    }
    else if (a === "--trusted-cidr") {
      const v = argv[++i];
      if (!v || !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(v)) throw new Error(`--trusted-cidr needs a CIDR such as 10.0.0.0/8, found ${v ?? "nothing"}\n${USAGE}`);
      args.trustedCidrs.push(v);
    } else if (a === "--help" || a === "-h") throw new Error(USAGE);
    else if (a.startsWith("--")) throw new Error(`unknown option "${a}"\n${USAGE}`);
    else args.paths.push(a);
  }
  if (args.paths.length === 0) args.paths.push(SAMPLES);
  return args;
}

/** Where an item is, for messages: `file:line` for JSON lines, `file record <n>` for one-document files. */
function whereOf(item: { file: string; line: number | null; index?: number }): string {
  return item.line ? `${item.file}:${item.line}` : item.index !== undefined ? `${item.file} record ${item.index}` : item.file;
}

/** An error in our own code, for the report: its message and the first frame in this project (relative path). */
export function describeInternalError(e: unknown): string {
  const err = e instanceof Error ? e : new Error(typeof e === "string" ? e : "non-Error thrown");
  const root = path.resolve(__dirname, "../..") + path.sep;
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

/**
 * How many worker threads when --workers is not given: one per core (os.availableParallelism), at most one per file,
 * and none below AUTO_WORKERS_MIN_BYTES of input on disk, where starting the workers (each loads the TypeScript
 * through ts-node, about a second) costs more than it saves.
 */
export const AUTO_WORKERS_MIN_BYTES = 16 * 1024 * 1024;
export function workerCount(requested: number | undefined, files: string[]): number {
  if (requested !== undefined) return Math.max(1, Math.min(requested, files.length));
  if (files.length < 2) return 1;
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += fs.statSync(f).size;
    } catch {
      // Gone since the listing: the reader reports it.
    }
    if (bytes >= AUTO_WORKERS_MIN_BYTES) return Math.max(1, Math.min(os.availableParallelism(), files.length));
  }
  return 1;
}

/** Run a replay, writing to `out` (stdout) and `err` (stderr). Returns the exit code. */
export async function replay(args: ReplayArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const summary = new ReplaySummary();
  const coverage = args.stack ? stackCoverage(args.stack) : DEFAULT_COVERAGE;
  const ctx: ReplayContext = { args, coverage, summary, changes: 0, out, err };
  try {
    const { files, problems } = listLogFiles(args.paths);
    if (problems.length > 0) await replayItems(problems, ctx);
    const workers = workerCount(args.workers, files);
    if (workers > 1) await replayWithWorkers(files, workers, ctx);
    // A file (or a run of JSON lines) at a time: a record that produces nothing then costs no await at all.
    else for (const file of files) for await (const batch of readLogFileBatches(file)) await replayItems(batch, ctx);
  } catch (e) {
    // The reader itself failed: report what was read so far rather than nothing.
    reportInternal(ctx, "reading the input", e);
  }
  const changes = ctx.changes;
  if (args.json) out(JSON.stringify(args.changes ? { ...summary.toJSON(), changes } : summary.toJSON()) + "\n");
  else out(formatReport(summary) + (args.changes ? `Change feed: ${changes} changes\n` : ""));
  const nothingRead = summary.records === 0 && summary.skipped.length > 0;
  if (nothingRead) return 1;
  return args.strict && summary.internalCount > 0 ? 3 : 0;
}

/** The coverage Pulumi.<stack>.yaml deploys; its problems are bad arguments. */
export function stackCoverage(stack: string): DeployedCoverage {
  const root = path.resolve(__dirname, "../..");
  const parsed = parseStackConfig(readStackConfig(root, path.join(root, `Pulumi.${stack}.yaml`)).config);
  if (!parsed.ok) throw new Error(`--stack ${stack}: invalid stack config:\n  - ${parsed.problems.join("\n  - ")}`);
  return deployedCoverage(parsed.config);
}

if (require.main === module) {
  let args: ReplayArgs;
  try {
    args = parseReplayArgs(process.argv.slice(2));
    if (args.stack) stackCoverage(args.stack); // a missing or invalid stack config is a bad argument (exit 2)
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  replay(
    args,
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  ).then(
    // exitCode, not exit(): exit() can cut off stdout that is still flushing into a pipe.
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`replay: failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
