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
import { parseArgs, type ParseArgsConfig } from "util";
import { listLogFiles, readLogFileBatches } from "./readLogs";
import { replayWithWorkers } from "./replayWorkers";
import { replayItems, reportInternal, type ReplayContext } from "./replayItems";
import { ReplaySummary, formatReport } from "./report";
import type { DeployedCoverage } from "../functions/coverage";
import { DEFAULT_COVERAGE, deployedCoverage, parseStackConfig } from "../stacks/config";
import { readStackConfig } from "./mockRuntime";
import { replayS3, type ReplayIo } from "./replayS3";
import { S3SourceError, isS3Url, parseRange, parseTrailUrl } from "./s3Source";

const USAGE =
  "usage: npm run replay -- [paths... | s3://bucket/[prefix/]AWSLogs/... --since <time> [--until <time>]] [--json] [--changes] [--strict] [--stack <name>] [--trusted-cidr <cidr>]... [--workers <n>] [--s3-concurrency <n>] [--quiet]";
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
  /** s3:// sources: the delivery-time range, ISO times once parseReplayArgs checked them (s3Source.ts parseRange). */
  since?: string;
  until?: string;
  /** s3:// sources: concurrent ListObjectsV2 and GetObject requests (each bounded by this); unset = S3_CONCURRENCY. */
  s3Concurrency?: number;
  /** No progress on stderr. */
  quiet?: boolean;
}

/**
 * The flags, for node:util parseArgs (tokens, not strict: the messages below are ours, and a public interface). A
 * new flag is one entry here and one in FLAG_VALUES (or BOOLEAN_FLAGS); a new source or engine checks its flags in
 * `checkSources` and reads them from ReplayArgs in `replay`.
 */
const FLAGS = {
  json: { type: "boolean" },
  changes: { type: "boolean" },
  strict: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  stack: { type: "string" },
  workers: { type: "string" },
  "trusted-cidr": { type: "string", multiple: true },
  since: { type: "string" },
  until: { type: "string" },
  "s3-concurrency": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const BOOLEAN_FLAGS: Record<string, (args: ReplayArgs) => void> = {
  json: (a) => (a.json = true),
  changes: (a) => (a.changes = true),
  strict: (a) => (a.strict = true),
  quiet: (a) => (a.quiet = true),
};

/** Each flag that takes a value: check it (the message names the flag, what it needs and what was found) and set it. */
const FLAG_VALUES: Record<string, (args: ReplayArgs, v: string | undefined) => void> = {
  stack: (a, v) => {
    if (!v || !/^[\w.-]+$/.test(v)) throw new Error(`--stack needs a stack name such as prod, found ${v ?? "nothing"}\n${USAGE}`);
    a.stack = v;
  },
  workers: (a, v) => {
    if (!v || !/^\d{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 256) throw new Error(`--workers needs a number of worker threads from 1 to 256, found ${v ?? "nothing"}\n${USAGE}`);
    a.workers = Number(v);
  },
  "trusted-cidr": (a, v) => {
    if (!v || !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(v)) throw new Error(`--trusted-cidr needs a CIDR such as 10.0.0.0/8, found ${v ?? "nothing"}\n${USAGE}`);
    a.trustedCidrs.push(v);
  },
  since: (a, v) => {
    if (!v) throw new Error(`--since needs a time such as 2026-11-01, 2026-11-01T06:00Z or 36h (ago), found nothing\n${USAGE}`);
    a.since = v;
  },
  until: (a, v) => {
    if (!v) throw new Error(`--until needs a time such as 2026-11-02, 2026-11-01T18:00Z or 1h (ago), found nothing\n${USAGE}`);
    a.until = v;
  },
  "s3-concurrency": (a, v) => {
    if (!v || !/^\d{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 256) throw new Error(`--s3-concurrency needs a number of concurrent S3 requests from 1 to 256, found ${v ?? "nothing"}\n${USAGE}`);
    a.s3Concurrency = Number(v);
  },
};

export function parseReplayArgs(argv: string[]): ReplayArgs {
  const args: ReplayArgs = { paths: [], json: false, trustedCidrs: [] };
  const { tokens } = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: false, tokens: true });
  const seen = new Set<number>();
  for (const t of tokens) {
    if (t.kind === "positional") args.paths.push(t.value);
    else if (t.kind === "option-terminator") continue; // everything after `--` is a path
    else if (t.rawName.startsWith("--")) {
      if (t.name === "help") throw new Error(USAGE);
      // Own keys only: "--constructor" is no flag.
      const flag = Object.hasOwn(BOOLEAN_FLAGS, t.name) ? BOOLEAN_FLAGS[t.name] : undefined;
      const takesValue = Object.hasOwn(FLAG_VALUES, t.name) ? FLAG_VALUES[t.name] : undefined;
      if (flag && t.value === undefined) flag(args);
      else if (flag) throw new Error(`${t.rawName} takes no value, found ${t.value}\n${USAGE}`);
      else if (takesValue) takesValue(args, t.value);
      else throw new Error(`unknown option "${t.rawName}${t.inlineValue ? `=${t.value}` : ""}"\n${USAGE}`);
    } else if (t.name === "help") throw new Error(USAGE);
    // A single dash is no flag of ours but -h: the argument is a path, as it always was (once, for -xy).
    else if (!seen.has(t.index)) {
      seen.add(t.index);
      args.paths.push(argv[t.index]);
    }
  }
  if (args.paths.length === 0) args.paths.push(SAMPLES);
  checkSources(args);
  return args;
}

/**
 * Which source the paths name, checked before anything is read (a bad one is a bad argument, exit 2): local files
 * and folders, or s3:// URLs of a trail's logs with a time range (s3Source.ts), whose times are fixed here (an age
 * such as 36h counts from now) as ISO strings. A new source adds its check here and its branch in `replay`.
 */
function checkSources(args: ReplayArgs): void {
  const s3 = args.paths.filter(isS3Url);
  try {
    if (s3.length === 0) {
      const s3Only = (["since", "until", "s3Concurrency"] as const).find((k) => args[k] !== undefined);
      if (s3Only) throw new S3SourceError(`--${s3Only === "s3Concurrency" ? "s3-concurrency" : s3Only} applies to s3:// sources only (log files as CloudTrail delivered them to S3), and no s3:// URL was given`);
      return;
    }
    if (s3.length < args.paths.length) throw new S3SourceError(`s3:// URLs and local paths cannot be mixed in one run (found ${args.paths.find((p) => !isS3Url(p))} beside ${s3[0]})`);
    for (const url of s3) parseTrailUrl(url);
    const range = parseRange(args.since, args.until, new Date());
    args.since = range.since.toISOString();
    args.until = range.until.toISOString();
  } catch (e) {
    if (e instanceof S3SourceError) throw new Error(`${e.message}\n${USAGE}`);
    throw e;
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

/**
 * Run a replay, writing to `out` (stdout) and `err` (stderr). Returns the exit code: 0, 1 when nothing could be read,
 * 2 when the source stopped the run (S3 access denied: what was read before is reported), 3 with --strict after an
 * internal error. Sources: local files (listLogFiles), s3:// (replayS3); each feeds items to replayItems in input
 * order, in this thread or through replayTasksWithWorkers, so the analysis and output are one.
 */
export async function replay(args: ReplayArgs, out: (s: string) => void, err: (s: string) => void, io: ReplayIo = {}): Promise<number> {
  const summary = new ReplaySummary();
  const coverage = args.stack ? stackCoverage(args.stack) : DEFAULT_COVERAGE;
  const ctx: ReplayContext = { args, coverage, summary, changes: 0, out, err };
  let sourceStopped = false;
  try {
    if (args.paths.some(isS3Url)) await replayS3(ctx, { requested: args.workers, autoMinBytes: AUTO_WORKERS_MIN_BYTES }, io);
    else await replayLocal(ctx);
  } catch (e) {
    // The source stopped the run (S3 access denied, ...): said plainly; what was read before is reported.
    if (e instanceof S3SourceError) {
      sourceStopped = true;
      err(`replay: ${e.message}\n`);
    }
    // The reader itself failed: report what was read so far rather than nothing.
    else reportInternal(ctx, "reading the input", e);
  }
  const changes = ctx.changes;
  if (args.json) out(JSON.stringify(args.changes ? { ...summary.toJSON(), changes } : summary.toJSON()) + "\n");
  else out(formatReport(summary) + (args.changes ? `Change feed: ${changes} changes\n` : ""));
  if (sourceStopped) return 2;
  const nothingRead = summary.records === 0 && summary.skipped.length > 0;
  if (nothingRead) return 1;
  return args.strict && summary.internalCount > 0 ? 3 : 0;
}

/** Local files and folders (or the samples). */
async function replayLocal(ctx: ReplayContext): Promise<void> {
  const { args } = ctx;
  const { files, problems } = listLogFiles(args.paths);
  if (problems.length > 0) await replayItems(problems, ctx);
  const workers = workerCount(args.workers, files);
  if (workers > 1) await replayWithWorkers(files, workers, ctx);
  // A file (or a run of JSON lines) at a time: a record that produces nothing then costs no await at all.
  else for (const file of files) for await (const batch of readLogFileBatches(file)) await replayItems(batch, ctx);
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
    { stderrIsTTY: process.stderr.isTTY === true, columns: process.stderr.columns },
  ).then(
    // exitCode, not exit(): exit() can cut off stdout that is still flushing into a pipe.
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`replay: failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
