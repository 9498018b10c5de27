/**
 * One replay worker thread: replays the files the main thread sends, one at a time in the order received, with the
 * same code as a single-threaded replay (replayItems), and posts back per batch (a file, or a run of JSON lines)
 * what it would have printed (stdout and stderr, in order) and the summary of that batch. The main thread merges
 * the batches in input order (replayWorkers.ts).
 */
import { parentPort, workerData } from "worker_threads";
import { readLogFileBatches } from "./readLogs";
import { replayItems, reportInternal, type ReplayArgs, type ReplayContext } from "./replay";
import { ReplaySummary } from "./report";
import type { DeployedCoverage } from "../../functions/coverage";
import type { FileTask, BatchResult, OutputChunk } from "./replayWorkers";

const { args, coverage } = workerData as { args: ReplayArgs; coverage: DeployedCoverage };
const port = parentPort!;

async function replayFile(task: FileTask): Promise<void> {
  let output: OutputChunk[] = [];
  const write = (stream: 0 | 1) => (s: string) => {
    const last = output[output.length - 1];
    if (last && last[0] === stream) last[1] += s;
    else output.push([stream, s]);
  };
  const ctx: ReplayContext = { args, coverage, summary: new ReplaySummary(), changes: 0, out: write(0), err: write(1) };
  const post = (done: boolean, aborted: boolean) => {
    const msg: BatchResult = { index: task.index, output, summary: ctx.summary.toState(), changes: ctx.changes, done, aborted };
    port.postMessage(msg);
    output = [];
    ctx.summary = new ReplaySummary();
    ctx.changes = 0;
  };
  let aborted = false;
  try {
    for await (const batch of readLogFileBatches(task.file)) {
      await replayItems(batch, ctx);
      post(false, false);
    }
  } catch (e) {
    // As in one thread: the reader failed, what was read is reported and the run stops here.
    reportInternal(ctx, "reading the input", e);
    aborted = true;
  }
  post(true, aborted);
}

let queue = Promise.resolve();
port.on("message", (task: FileTask) => {
  queue = queue.then(() => replayFile(task));
});
