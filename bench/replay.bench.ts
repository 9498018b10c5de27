/**
 * `npm run bench`: replay throughput and memory on a large JSON-lines log built from the shipped samples
 * (records repeated with fresh event ids), against a baseline in the same process: reading and JSON-parsing the
 * same file line by line and nothing else. Medians of several runs; the machines are shared and noisy, so the
 * ratio to the baseline is the number to compare between commits, not the absolute rate.
 *
 *   npm run bench -- [--records N] [--runs K]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { readLogs } from "../stacks/cli/readLogs";
import { replay, SAMPLES } from "../stacks/cli/replay";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function buildLog(file: string, n: number): Promise<void> {
  const base: unknown[] = [];
  for await (const item of readLogs([SAMPLES])) if (item.kind === "record") base.push(item.record);
  const out = fs.createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const r = { ...(base[i % base.length] as object), eventID: `bench-${i}` };
    if (!out.write(JSON.stringify(r) + "\n")) await new Promise<void>((res) => out.once("drain", () => res()));
  }
  await new Promise<void>((res) => out.end(() => res()));
}

async function baseline(file: string): Promise<number> {
  let n = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line) JSON.parse(line), n++;
  return n;
}

async function main(): Promise<void> {
  const records = arg("--records", 200_000);
  const runs = arg("--runs", 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-bench-"));
  const file = path.join(dir, "cloudtrail.jsonl");
  await buildLog(file, records);
  const mb = fs.statSync(file).size / 1e6;
  console.log(`replay bench: ${records} records, ${mb.toFixed(0)} MB JSON lines, ${runs} runs each, node ${process.version}`);

  const base: number[] = [];
  const full: number[] = [];
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < runs; i++) {
    let t = process.hrtime.bigint();
    await baseline(file);
    base.push(Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    await replay({ paths: [file], json: true, trustedCidrs: [] }, () => undefined, () => undefined);
    full.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  clearInterval(rssTimer);
  const mb_s = (s: number) => (mb / s).toFixed(1);
  const rec_s = (s: number) => Math.round(records / s).toLocaleString("en");
  console.log(`baseline (read + JSON.parse): median ${median(base).toFixed(2)} s  ${rec_s(median(base))} records/s  ${mb_s(median(base))} MB/s`);
  console.log(`replay --json (full pipeline): median ${median(full).toFixed(2)} s  ${rec_s(median(full))} records/s  ${mb_s(median(full))} MB/s`);
  console.log(`ratio replay / baseline: ${(median(full) / median(base)).toFixed(2)}x`);
  console.log(`peak RSS ${(peakRss / 1e6).toFixed(0)} MB (${((peakRss - rssBefore) / 1e6).toFixed(0)} MB above the start) for a ${mb.toFixed(0)} MB input`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
