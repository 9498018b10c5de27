/**
 * `npm run replay -- s3://... --since <time> [--until <time>]`: the S3 source (s3Source.ts) fed to the same replay
 * as local files: in this thread (replayItems) or over worker threads (replayTasksWithWorkers), the objects in key
 * order, so stdout (findings, --json lines, the summary) is what a local replay of the same files prints. The main
 * thread does all the S3 requests (bounded), the worker threads inflate, parse and analyse. Progress on stderr
 * (progress.ts) unless --quiet.
 */
import * as os from "os";
import type { S3Client } from "@aws-sdk/client-s3";
import { readInputBatches } from "./readLogs";
import { replayItems, type ReplayContext } from "./replayItems";
import { replayTasksWithWorkers, type FileTask } from "./replayWorkers";
import { Progress } from "./progress";
import { S3_CONCURRENCY, openS3Source, parseTrailUrl, s3Client } from "./s3Source";

/** What the terminal and the tests bring: whether stderr is a terminal, an S3 client to use. */
export interface ReplayIo {
  stderrIsTTY?: boolean;
  columns?: number;
  /** Plain progress lines: one per this many ms at most (default 10 s). */
  progressIntervalMs?: number;
  s3Client?: S3Client;
}

export interface S3WorkerChoice {
  /** --workers, if given. */
  requested: number | undefined;
  /** Unset --workers: one worker per core once this many bytes were listed, as for local files (replay.ts). */
  autoMinBytes: number;
}

/** Replay the s3:// sources of `ctx.args` (checked by parseReplayArgs) into ctx. S3SourceError: the run stops (exit 2). */
export async function replayS3(ctx: ReplayContext, workers: S3WorkerChoice, io: ReplayIo = {}): Promise<void> {
  const { args } = ctx;
  const scopes = args.paths.map(parseTrailUrl);
  const range = { since: new Date(args.since!), until: new Date(args.until!) };
  const err = ctx.err;
  const progress = args.quiet ? null : new Progress(err, { tty: !!io.stderrIsTTY, intervalMs: io.progressIntervalMs, columns: io.columns });
  if (progress) ctx.err = (s) => progress.write(s);
  let listed = 0;
  let listingEnded = false;
  // Ours to close at the end: its kept-alive sockets would hold the process open after the run.
  const client = io.s3Client ?? s3Client();
  const source = openS3Source(scopes, range, {
    client,
    concurrency: args.s3Concurrency ?? S3_CONCURRENCY,
    listed: (size) => {
      listed++;
      progress?.listedObject(size);
    },
    listingDone: () => {
      listingEnded = true;
      progress?.listingDone();
    },
  });
  try {
    // Unset --workers: read ahead until the input is known to be worth the workers' start (or ends first).
    const head: (FileTask & { size: number })[] = [];
    let ended = false;
    let threads = workers.requested ?? 1;
    let failed: { error: unknown } | null = null;
    if (workers.requested === undefined) {
      let bytes = 0;
      try {
        while (bytes < workers.autoMinBytes) {
          const n = await source.tasks.next();
          if (n.done) {
            ended = true;
            break;
          }
          head.push(n.value);
          bytes += n.value.size;
        }
      } catch (e) {
        // Access denied (or the like) while reading ahead: what was read before it is replayed first.
        failed = { error: e };
        ended = true;
      }
      if (!ended && head.length > 1) threads = os.availableParallelism();
    }
    async function* all() {
      yield* head;
      if (failed) throw failed.error;
      if (!ended) yield* source.tasks;
    }
    if (threads > 1) {
      const sizes = new Map<number, number>();
      async function* sized() {
        for await (const t of all()) {
          sizes.set(t.index, t.size);
          yield t;
        }
      }
      await replayTasksWithWorkers(sized(), threads, ctx, (i) => {
        progress?.objectDone(sizes.get(i) ?? 0);
        sizes.delete(i);
      });
    } else
      for await (const task of all()) {
        for await (const batch of readInputBatches(task)) await replayItems(batch, ctx);
        progress?.objectDone(task.size);
      }
  } finally {
    const { listRequests, getRequests } = source.reader.stats;
    progress?.end(`; ${listRequests} LIST and ${getRequests} GET requests`);
    ctx.err = err;
    if (!io.s3Client) client.destroy();
    if (listed === 0 && listingEnded)
      err(`replay: no CloudTrail log files delivered from ${range.since.toISOString()} to ${range.until.toISOString()} under ${scopes.map((s) => s.url).join(", ")}\n`);
  }
}
