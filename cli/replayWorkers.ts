/**
 * replay --workers n: files spread over n worker threads (node:worker_threads, one esbuild bundle of their code, see
 * workerEntry), results merged in input order so that stdout, stderr, the summary and the exit code are byte for
 * byte those of one thread. The main thread hands out files and writes the results; it replays none itself.
 *
 * - Split by file: a file (however large) is read by one thread; files go to whichever thread has room, at most
 *   IN_FLIGHT_PER_WORKER per worker thread, so work queued in a worker stays bounded.
 * - A worker posts back per batch (a one-document file, or a run of up to 1,000 JSON lines): the output it would
 *   have written and that batch's ReplaySummary (as plain data). The main thread writes and merges (ReplaySummary.merge)
 *   the batches of file i only once every file before i is done; batches of later files wait in memory meanwhile
 *   (their findings and messages, not their records: bounded by the files in flight).
 * - A reader failure in a worker ends the run after that file, as it does in one thread; a worker that dies is an
 *   internal error and ends the run the same way.
 */
import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";
import { ReplaySummary, type SummaryState } from "./report";
import { readInputBatches, type LogInput } from "./readLogs";
import { replayItems, reportInternal, type ReplayContext } from "./replayItems";
import type { ReplayArgs } from "./replay";
import type { DeployedCoverage } from "../functions/coverage";

/** A file (or an object fetched already, its bytes in `data`: s3Source.ts) and its place in the input. */
export interface FileTask extends LogInput {
  index: number;
}

/** Output as it was written: [0 = stdout | 1 = stderr, text], consecutive writes to one stream joined. */
export type OutputChunk = [0 | 1, string];

export interface BatchResult {
  index: number;
  output: OutputChunk[];
  summary: SummaryState;
  changes: number;
  /** The file's last batch. */
  done: boolean;
  /** The reader failed on this file: nothing after it is read (as with one thread). */
  aborted: boolean;
}

export const IN_FLIGHT_PER_WORKER = 2;

/**
 * Replay one file as one thread would, posting per batch what it printed and that batch's summary: what every
 * worker thread runs.
 */
export async function replayFileBatches(task: FileTask, args: ReplayArgs, coverage: DeployedCoverage, post: (r: BatchResult) => void): Promise<void> {
  let output: OutputChunk[] = [];
  const write = (stream: 0 | 1) => (s: string) => {
    const last = output[output.length - 1];
    if (last && last[0] === stream) last[1] += s;
    else output.push([stream, s]);
  };
  const ctx: ReplayContext = { args, coverage, summary: new ReplaySummary(), changes: 0, out: write(0), err: write(1) };
  const send = (done: boolean, aborted: boolean) => {
    post({ index: task.index, output, summary: ctx.summary.toState(), changes: ctx.changes, done, aborted });
    output = [];
    ctx.summary = new ReplaySummary();
    ctx.changes = 0;
  };
  let aborted = false;
  try {
    for await (const batch of readInputBatches(task)) {
      await replayItems(batch, ctx);
      send(false, false);
    }
  } catch (e) {
    // As in one thread: the reader failed, what was read is reported and the run stops here.
    reportInternal(ctx, "reading the input", e);
    aborted = true;
  }
  send(true, aborted);
}
const ENTRY = path.join(__dirname, "replayWorker.js");

let bundledEntry: string | undefined | null;

/**
 * The worker threads' entry as one JavaScript file: esbuild (a runtime dependency already, for the Lambda archives)
 * bundles replayWorkerThread.ts and the project modules it uses in about 0.1 s, so a thread starts in a fraction of a
 * second instead of registering ts-node and transpiling every module again (1 to 2 s per thread measured here,
 * which is what kept 2 threads slower than 1 on tens of megabytes). Packages stay external (resolved from this
 * checkout's node_modules: the file is written under node_modules/.cache), named by the content's hash so concurrent
 * runs share it safely; __dirname keeps meaning cli/ and source maps keep stack frames on the .ts files, so internal
 * errors read as in the main thread. Falls back to the ts-node entry when the folder is not writable.
 */
function workerEntry(): string {
  if (bundledEntry !== undefined) return bundledEntry ?? ENTRY;
  try {
    const esbuild = require("esbuild") as typeof import("esbuild");
    const root = path.resolve(__dirname, "..");
    const out = esbuild.buildSync({
      entryPoints: [path.join(__dirname, "replayWorkerThread.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      packages: "external",
      sourcemap: "inline",
      define: { __dirname: JSON.stringify(__dirname) },
      banner: { js: "process.setSourceMapsEnabled(true);" },
      write: false,
      logLevel: "silent",
      absWorkingDir: root,
    }).outputFiles[0];
    const dir = path.join(root, "node_modules", ".cache", "trailwatch");
    const file = path.join(dir, `replay-worker-${require("crypto").createHash("sha256").update(out.contents).digest("hex").slice(0, 16)}.js`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, out.contents);
      fs.renameSync(tmp, file);
    }
    bundledEntry = file;
  } catch {
    bundledEntry = null;
  }
  return bundledEntry ?? ENTRY;
}

export async function replayWithWorkers(files: string[], workerCount: number, ctx: ReplayContext): Promise<void> {
  await replayTasksWithWorkers(
    files.map((file, index) => ({ index, file })),
    workerCount,
    ctx,
  );
}

/**
 * replayWithWorkers for tasks that come as they come (s3Source.ts: objects listed and fetched while earlier ones are
 * replayed): task i must have index i. A task is handed out only when a thread has room, so the source is read no
 * faster than replay goes (memory stays bounded). `onDone(i)` is called once task i's output is written. An error
 * from the source ends the run after what was handed out before it is written, and is thrown.
 */
export async function replayTasksWithWorkers(tasks: Iterable<FileTask> | AsyncIterable<FileTask>, workerCount: number, ctx: ReplayContext, onDone?: (index: number) => void): Promise<void> {
  const pending = new Map<number, BatchResult[]>();
  let current = 0; // the file whose batches are written next
  let total = Infinity; // known once the source ran out
  let stopped = false;
  let sourceFailed: { error: unknown } | null = null;
  interface Lane {
    inFlight: number;
    /** Files handed out and not done at most: IN_FLIGHT_PER_WORKER. */
    limit: number;
    send(task: FileTask): void;
  }
  const workers: { worker: Worker; inFlight: number }[] = [];
  const lanes: Lane[] = [];

  await new Promise<void>((resolve) => {
    let wake: (() => void) | null = null;
    const wakePump = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const finish = () => {
      if (stopped) return;
      stopped = true;
      wakePump();
      resolve();
    };
    // One loop hands out the tasks in order, each to the first thread with room.
    const pump = async () => {
      let handedOut = 0;
      try {
        for await (const task of tasks) {
          let lane = lanes.find((w) => w.inFlight < w.limit);
          while (!lane && !stopped) {
            await new Promise<void>((r) => (wake = r));
            lane = lanes.find((w) => w.inFlight < w.limit);
          }
          if (stopped || !lane) break;
          lane.inFlight++;
          handedOut++;
          lane.send(task);
        }
        if (stopped) return;
        total = handedOut;
        if (current >= total) finish();
      } catch (e) {
        // What was handed out before is written first (drain), then the run ends with the source's error.
        sourceFailed = { error: e };
        total = handedOut;
        if (current >= total) finish();
      }
    };
    const received = (w: Lane, r: BatchResult) => {
      if (stopped) return;
      const list = pending.get(r.index) ?? [];
      list.push(r);
      pending.set(r.index, list);
      if (r.done) {
        w.inFlight--;
        wakePump();
      }
      drain();
    };
    const apply = (r: BatchResult): boolean => {
      for (const [stream, text] of r.output) (stream === 0 ? ctx.out : ctx.err)(text);
      ctx.summary.merge(ReplaySummary.fromState(r.summary));
      ctx.changes += r.changes;
      return r.aborted;
    };
    const drain = () => {
      while (!stopped) {
        const batches = pending.get(current);
        if (!batches || batches.length === 0) break;
        const r = batches.shift()!;
        if (apply(r)) return finish();
        if (r.done) {
          pending.delete(current);
          onDone?.(current);
          current++;
          if (current >= total) return finish();
        }
      }
    };
    const failed = (e: unknown) => {
      if (stopped) return;
      // Everything before the lost file is written first, so the report holds what was read.
      reportInternal(ctx, "a replay worker thread", e);
      finish();
    };
    // `workerCount` worker threads do the replay; the main thread hands out files and writes results in order. It used
    // to replay files too, but then workers waited on it for their results to be taken (measured on 2 cores, 400 MB:
    // 2 threads 1.14x to 1.37x of one with the main thread working, 1.55x with it coordinating only).
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(workerEntry(), { workerData: { args: ctx.args, coverage: ctx.coverage } });
      const w: Lane & { worker: Worker } = { worker, inFlight: 0, limit: IN_FLIGHT_PER_WORKER, send: (task) => worker.postMessage(task) };
      workers.push(w);
      lanes.push(w);
      worker.on("message", (r: BatchResult) => received(w, r));
      worker.on("error", failed);
      worker.on("exit", (code) => {
        if (!stopped) failed(new Error(`worker thread exited (code ${code}) before the run ended`));
      });
    }
    void pump();
  });
  await Promise.all(workers.map((w) => w.worker.terminate()));
  if (sourceFailed) throw (sourceFailed as { error: unknown }).error;
}
