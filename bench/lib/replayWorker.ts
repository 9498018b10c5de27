/**
 * One replay measurement in a fresh process (so that its peak RSS is its own): the full `replay --json` pipeline,
 * or the bare baseline that only reads, gunzips and JSON.parses the same files, one file at a time as readLogs does.
 *
 *   node <replayWorker compiled by esbuild> (or ts-node bench/lib/replayWorker.ts) <replay|baseline> <resultFile> <files...|@listFile>
 *
 * Writes { seconds, records, findings, outBytes, rssBeforeBytes } to <resultFile>; the parent adds the peak RSS.
 */
import * as fs from "fs";
import { gunzip } from "../../cli/readLogs";
import { replay } from "../../cli/replay";

export interface WorkerResult {
  mode: "replay" | "baseline";
  seconds: number;
  records: number;
  findings: number;
  outBytes: number;
  rssBeforeBytes: number;
}

function baseline(files: string[]): number {
  let records = 0;
  for (const f of files) {
    const raw = fs.readFileSync(f);
    // The same inflate as replay's (output buffer sized from the gzip trailer), so the ratio is replay's own work.
    const doc = JSON.parse((f.endsWith(".gz") ? gunzip(raw) : raw).toString("utf8")) as { Records?: unknown[] };
    records += doc.Records?.length ?? 0;
  }
  return records;
}

async function main(): Promise<void> {
  const [mode, resultFile, ...rest] = process.argv.slice(2);
  const files = rest.length === 1 && rest[0].startsWith("@") ? fs.readFileSync(rest[0].slice(1), "utf8").split("\n").filter(Boolean) : rest;
  if ((mode !== "replay" && mode !== "baseline") || !resultFile || files.length === 0) throw new Error("usage: replayWorker.ts <replay|baseline> <resultFile> <files...|@listFile>");
  const rssBeforeBytes = process.memoryUsage().rss;
  let records = 0;
  let findings = 0;
  let outBytes = 0;
  const t0 = process.hrtime.bigint();
  if (mode === "baseline") records = baseline(files);
  else {
    let summary = "";
    await replay(
      // One thread: this measures replay's own per-record work against the baseline (worker threads: benchWorkers).
      { paths: files, json: true, trustedCidrs: [], workers: 1 },
      (s) => {
        outBytes += s.length;
        if (s.startsWith('{"kind":"summary"')) summary = s;
        else findings++;
      },
      () => undefined,
    );
    try {
      records = (JSON.parse(summary) as { records?: number }).records ?? 0;
    } catch {
      records = -1;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const result: WorkerResult = { mode, seconds, records, findings, outBytes, rssBeforeBytes };
  fs.writeFileSync(resultFile, JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
