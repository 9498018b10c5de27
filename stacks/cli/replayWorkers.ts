/**
 * replay --workers: files spread over worker threads (node:worker_threads, entry replayWorker.js), results merged in
 * input order so that stdout, stderr, the summary and the exit code are byte for byte those of one thread.
 *
 * - Split by file: a file (however large) is read by one worker; files go to whichever worker has room, at most
 *   IN_FLIGHT_PER_WORKER per worker, so work queued in a worker stays bounded.
 * - A worker posts back per batch (a one-document file, or a run of up to 1,000 JSON lines): the output it would
 *   have written and that batch's ReplaySummary (as plain data). The main thread writes and merges (ReplaySummary.merge)
 *   the batches of file i only once every file before i is done; batches of later files wait in memory meanwhile
 *   (their findings and messages, not their records: bounded by the files in flight).
 * - A reader failure in a worker ends the run after that file, as it does in one thread; a worker that dies is an
 *   internal error and ends the run the same way.
 */
import * as path from "path";
import { Worker } from "worker_threads";
import { ReplaySummary, type SummaryState } from "./report";
import { reportInternal, type ReplayContext } from "./replay";

export interface FileTask {
  index: number;
  file: string;
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
const ENTRY = path.join(__dirname, "replayWorker.js");

export async function replayWithWorkers(files: string[], workerCount: number, ctx: ReplayContext): Promise<void> {
  const pending = new Map<number, BatchResult[]>();
  let current = 0; // the file whose batches are written next
  let next = 0; // the next file to hand out
  let stopped = false;
  const workers: { worker: Worker; inFlight: number }[] = [];

  await new Promise<void>((resolve) => {
    const finish = () => {
      if (stopped) return;
      stopped = true;
      resolve();
    };
    const dispatch = (w: { worker: Worker; inFlight: number }) => {
      while (!stopped && w.inFlight < IN_FLIGHT_PER_WORKER && next < files.length) {
        const task: FileTask = { index: next, file: files[next] };
        next++;
        w.inFlight++;
        w.worker.postMessage(task);
      }
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
          current++;
          if (current >= files.length) return finish();
        }
      }
    };
    const failed = (e: unknown) => {
      if (stopped) return;
      // Everything before the lost file is written first, so the report holds what was read.
      reportInternal(ctx, "a replay worker thread", e);
      finish();
    };
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(ENTRY, { workerData: { args: ctx.args, coverage: ctx.coverage } });
      const w = { worker, inFlight: 0 };
      workers.push(w);
      worker.on("message", (r: BatchResult) => {
        if (stopped) return;
        const list = pending.get(r.index) ?? [];
        list.push(r);
        pending.set(r.index, list);
        if (r.done) {
          w.inFlight--;
          dispatch(w);
        }
        drain();
      });
      worker.on("error", failed);
      worker.on("exit", (code) => {
        if (!stopped) failed(new Error(`worker thread exited (code ${code}) before the run ended`));
      });
    }
    for (const w of workers) dispatch(w);
    if (files.length === 0) finish();
  });
  await Promise.all(workers.map((w) => w.worker.terminate()));
}
