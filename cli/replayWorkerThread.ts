/**
 * One replay worker thread: replays the files the main thread sends, one at a time in the order received, with the
 * same code as a single-threaded replay (replayItems), and posts back per batch (a file, or a run of JSON lines)
 * what it would have printed (stdout and stderr, in order) and the summary of that batch. The main thread merges
 * the batches in input order (replayWorkers.ts).
 */
import { parentPort, workerData } from "worker_threads";
import { replayFileBatches, type FileTask } from "./replayWorkers";
import type { ReplayArgs } from "./replay";
import type { DeployedCoverage } from "../functions/coverage";

const { args, coverage } = workerData as { args: ReplayArgs; coverage: DeployedCoverage };
const port = parentPort!;

let queue = Promise.resolve();
port.on("message", (task: FileTask) => {
  queue = queue.then(() => replayFileBatches(task, args, coverage, (r) => port.postMessage(r)));
});
