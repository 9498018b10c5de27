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
 * `--workers <n>` spreads the files over n threads, this one and n-1 worker threads (default: one per core when the
 * input is large enough; 1 = everything in this thread); stdout, stderr and the exit code are byte for byte those of one.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { listLogFiles, readLogFileBatches } from "./readLogs";
import { replayWithWorkers } from "./replayWorkers";
import { replayItems, reportInternal, type ReplayContext } from "./replayItems";
import { ReplaySummary, formatReport } from "./report";
import type { DeployedCoverage } from "../functions/coverage";
import { DEFAULT_COVERAGE, deployedCoverage, parseStackConfig } from "../stacks/config";
import { readStackConfig } from "./mockRuntime";

const USAGE = "usage: npm run replay -- [paths...] [--json] [--changes] [--strict] [--stack <name>] [--trusted-cidr <cidr>]... [--workers <n>]";
export { describeInternalError, replayItems, reportInternal, type ReplayContext } from "./replayItems";

export const SAMPLES = path.resolve(__dirname, "../samples/cloudtrail");

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
  /** Threads to spread files over, this one included (1 = all in this thread); unset = one per core for inputs worth it (workerCount). */
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
  const root = path.resolve(__dirname, "..");
  const parsed = parseStackConfig(readStackConfig(root, path.join(root, `Pulumi.${stack}.yaml`)).config);
  if (!parsed.ok) throw new Error(`--stack ${stack}: invalid stack config:\n  - ${parsed.problems.join("\n  - ")}`);
  return deployedCoverage(parsed.config);
}

// --engine athena: one SQL query over the organization trail's Athena table instead of files (cli/athena.ts parses its
// own options and replays the rows through replayItems). Loaded only when asked for.
const athenaEngine = require.main === module && (require("./athena") as typeof import("./athena")).isAthenaEngine(process.argv.slice(2));
if (athenaEngine) (require("./athena") as typeof import("./athena")).athenaMain(process.argv.slice(2), stackCoverage);

if (require.main === module && !athenaEngine) {
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
