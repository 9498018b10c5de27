/**
 * Replay throughput and memory, against a bare baseline that only reads, gunzips and JSON-parses the same files.
 *
 *   npx ts-node --transpile-only bench/replay.bench.ts [--corpus-mb N | --full] [--runs K] [--corpus-dir D] [--json F]
 *   npx ts-node --transpile-only bench/replay.bench.ts --jsonl [--records N] [--runs K]      (the earlier JSON-lines bench)
 *   npx ts-node --transpile-only bench/replay.bench.ts --workers-only [--corpus-mb N] [--runs K] [--workers n]   (1 vs n worker threads)
 *
 * Corpus: CloudTrail S3 log files as CloudTrail delivers them (`{"Records":[...]}`, gzipped, under
 * AWSLogs/<org>/<account>/CloudTrail/<region>/yyyy/mm/dd/), built from the shipped real records (Stratus Red Team
 * detonations and Panther rule tests, samples/cloudtrail, or TRAILWATCH_SHARED_DATA) with fresh event ids,
 * times and recipient accounts. The mix is drawn per record: 1.5% denies, 0.1% security-group changes, 0.2% IAM
 * role changes, the rest records that produce no finding (each base record classified by routeRecord, the
 * function replay itself uses). N MB of uncompressed JSON (default 48; --full = 1024, the 1 GB target).
 *
 * Each run is a fresh plain-node process (bench/lib/replayWorker.ts, compiled with esbuild), so the peak RSS
 * (getrusage) is that run's own; baseline
 * and replay runs alternate; medians of K runs (default 3). A further pair of runs on the first quarter of the
 * files shows whether memory grows with the input. The machines are shared and noisy: the ratio to the baseline
 * measured in the same run is the number to compare between commits, not the absolute rate.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import * as zlib from "zlib";
import { listLogFiles, readLogs } from "../cli/readLogs";
import { replay, SAMPLES } from "../cli/replay";
import { routeRecord } from "../functions/router";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import { ROOT, SHARED_CLOUDTRAIL, flag, fmtMB, fmtX, machine, median, mkTemp, option, runNode, stringOption, table, writeSection } from "./lib/common";
import type { WorkerResult } from "./lib/replayWorker";

const WORKER = path.join(__dirname, "lib/replayWorker.ts");

// ---- the corpus ----------------------------------------------------------------------------------------------------

export const MIX = { deny: 0.015, sg: 0.001, role: 0.002 };

interface Pools {
  deny: CloudTrailRecord[];
  sg: CloudTrailRecord[];
  role: CloudTrailRecord[];
  other: CloudTrailRecord[];
  source: string[];
}

/** The shipped records, sorted by what replay makes of them. */
async function loadPools(): Promise<Pools> {
  const shared = [path.join(SHARED_CLOUDTRAIL, "stratus-red-team/detonation-logs"), path.join(SHARED_CLOUDTRAIL, "panther-analysis")];
  const source = shared.every((p) => fs.existsSync(p)) ? shared : [SAMPLES];
  const pools: Pools = { deny: [], sg: [], role: [], other: [], source };
  for await (const item of readLogs(source)) {
    if (item.kind !== "record") continue;
    const findings = await routeRecord(item.record, { trustedCidrs: [] }).catch(() => null);
    if (!findings) continue; // a record the pipeline cannot handle would be a skipped line, not part of the mix
    const kinds = new Set(findings.map((f) => f.kind));
    if (kinds.has("deny")) pools.deny.push(item.record);
    else if (kinds.has("sg-change")) pools.sg.push(item.record);
    else if (kinds.has("role-change")) pools.role.push(item.record);
    else if (kinds.size === 0 && !item.record.errorCode) pools.other.push(item.record);
  }
  for (const k of ["deny", "sg", "role", "other"] as const) if (pools[k].length === 0) throw new Error(`no ${k} records in ${source.join(", ")}`);
  return pools;
}

/** A small deterministic PRNG (mulberry32): the same corpus for the same size, run after run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Corpus {
  dir: string;
  files: string[];
  records: number;
  /** Uncompressed JSON bytes, and bytes on disk (gzip). */
  jsonBytes: number;
  gzBytes: number;
  mix: { deny: number; sg: number; role: number; other: number };
  source: string[];
}

export async function buildCorpus(dir: string, targetBytes: number): Promise<Corpus> {
  // Not a log file name (readLogs takes *.json): `npm run replay -- <dir>` reads the corpus and nothing else.
  const manifest = path.join(dir, "corpus.manifest");
  if (fs.existsSync(manifest)) {
    const c = JSON.parse(fs.readFileSync(manifest, "utf8")) as Corpus;
    if (c.jsonBytes >= targetBytes * 0.98 && c.jsonBytes <= targetBytes * 1.1) return c;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const pools = await loadPools();
  const rand = prng(20261120);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join("");
  const accounts = Array.from({ length: 24 }, (_, i) => String(210000000000 + i * 104729));
  const regions = ["eu-west-1", "eu-central-1", "us-east-1"];
  const corpus: Corpus = { dir, files: [], records: 0, jsonBytes: 0, gzBytes: 0, mix: { deny: 0, sg: 0, role: 0, other: 0 }, source: pools.source };
  let minute = 0;
  while (corpus.jsonBytes < targetBytes) {
    const account = pick(accounts);
    const region = pick(regions);
    const start = Date.UTC(2026, 10, 1) + minute * 60_000;
    minute += 5;
    const stamp = new Date(start).toISOString().replace(/[-:]/g, "").slice(0, 13) + "Z"; // 20261101T0005Z
    const day = new Date(start).toISOString().slice(0, 10).replace(/-/g, "/");
    const n = 100 + Math.floor(rand() * 1400);
    const records: CloudTrailRecord[] = [];
    for (let i = 0; i < n; i++) {
      const r = rand();
      const kind = r < MIX.deny ? "deny" : r < MIX.deny + MIX.sg ? "sg" : r < MIX.deny + MIX.sg + MIX.role ? "role" : "other";
      corpus.mix[kind]++;
      const eventID = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
      const eventTime = new Date(start + Math.floor(rand() * 300_000)).toISOString().replace(/\.\d{3}Z$/, "Z");
      records.push({ ...pick(pools[kind]), eventID, eventTime, recipientAccountId: account });
    }
    const json = Buffer.from(JSON.stringify({ Records: records }));
    const gz = zlib.gzipSync(json, { level: 6 });
    const rel = path.join("AWSLogs/o-7k2mq9x4ab", account, "CloudTrail", region, day, `${account}_CloudTrail_${region}_${stamp}_${hex(16)}.json.gz`);
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, gz);
    corpus.records += n;
    corpus.jsonBytes += json.length;
    corpus.gzBytes += gz.length;
  }
  // Replay reads folders in sorted order: measure the files in the same order.
  corpus.files = listLogFiles([dir]).files;
  fs.writeFileSync(`${manifest}.part`, JSON.stringify(corpus));
  fs.renameSync(`${manifest}.part`, manifest);
  return corpus;
}

// ---- measurement ---------------------------------------------------------------------------------------------------

interface Run extends WorkerResult {
  peakRssBytes: number;
}

/**
 * The worker compiled once with esbuild (packages left as require()s, found through NODE_PATH): its processes then
 * hold replay's own memory, not ts-node's and the TypeScript compiler's (about 100 MB), and start in a blink.
 */
async function compileWorker(scratch: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  const outfile = path.join(scratch, "replayWorker.js");
  await esbuild.build({ entryPoints: [WORKER], outfile, bundle: true, packages: "external", platform: "node", target: "node20", format: "cjs", logLevel: "silent",
    // Bundled, replay.ts's `require.main === module` would be true and run the CLI too.
    define: { "require.main": "undefined" },
  });
  return outfile;
}

async function measure(worker: string, mode: "replay" | "baseline", files: string[], scratch: string): Promise<Run> {
  const list = path.join(scratch, `files-${files.length}.txt`);
  if (!fs.existsSync(list)) fs.writeFileSync(list, files.join("\n"));
  const resultFile = path.join(scratch, `result-${mode}-${Date.now()}.json`);
  const env = { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") };
  const r = await runNode([worker, mode, resultFile, `@${list}`], { env, timeoutMs: 60 * 60_000 });
  if (r.code !== 0 || !fs.existsSync(resultFile)) throw new Error(`replay worker (${mode}) failed (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
  const out = JSON.parse(fs.readFileSync(resultFile, "utf8")) as WorkerResult;
  fs.rmSync(resultFile);
  return { ...out, peakRssBytes: r.peakRss ?? NaN };
}

export interface ModeSummary {
  runs: Run[];
  medianSeconds: number;
  eventsPerSecond: number;
  jsonBytesPerSecond: number;
  peakRssBytes: number;
  /** Peak RSS of one run over the first quarter of the files. */
  quarterPeakRssBytes: number;
}

export interface ReplayResult {
  corpus: Omit<Corpus, "files" | "dir"> & { files: number; quarterFiles: number; quarterJsonBytes: number };
  baseline: ModeSummary;
  replay: ModeSummary;
  /** Replay throughput as a share of the baseline's (target: >= 0.6). */
  throughputRatio: number;
  findings: number;
}

export async function benchReplay(opts: { corpusBytes: number; runs: number; corpusDir?: string; log?: (s: string) => void }): Promise<ReplayResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const scratch = mkTemp("bench-replay");
  const dir = opts.corpusDir ? path.resolve(opts.corpusDir) : path.join(scratch, "corpus");
  try {
    let t = Date.now();
    log(`replay: building a ${fmtMB(opts.corpusBytes, 0)} corpus of .json.gz CloudTrail files in ${dir} ...`);
    const corpus = await buildCorpus(dir, opts.corpusBytes);
    log(`replay: ${corpus.files.length} files, ${corpus.records.toLocaleString("en")} records, ${fmtMB(corpus.jsonBytes, 0)} JSON (${fmtMB(corpus.gzBytes, 0)} gzipped) in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    const quarter = corpus.files.slice(0, Math.max(1, Math.round(corpus.files.length / 4)));
    const quarterJsonBytes = corpus.jsonBytes * (quarter.length / corpus.files.length); // estimate, for the label only
    const worker = await compileWorker(scratch);
    const runs: Record<"baseline" | "replay", Run[]> = { baseline: [], replay: [] };
    t = Date.now();
    for (let i = 0; i < opts.runs; i++) {
      const order: ("baseline" | "replay")[] = i % 2 === 0 ? ["baseline", "replay"] : ["replay", "baseline"];
      for (const m of order) runs[m].push(await measure(worker, m, corpus.files, scratch));
    }
    const qBase = await measure(worker, "baseline", quarter, scratch);
    const qReplay = await measure(worker, "replay", quarter, scratch);
    log(`replay: ${opts.runs} runs each + 1 on a quarter of the files in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    const summarize = (rs: Run[], q: Run): ModeSummary => {
      const s = median(rs.map((r) => r.seconds));
      return {
        runs: rs,
        medianSeconds: s,
        eventsPerSecond: corpus.records / s,
        jsonBytesPerSecond: corpus.jsonBytes / s,
        peakRssBytes: median(rs.map((r) => r.peakRssBytes)),
        quarterPeakRssBytes: q.peakRssBytes,
      };
    };
    const baseline = summarize(runs.baseline, qBase);
    const rep = summarize(runs.replay, qReplay);
    for (const r of runs.replay)
      if (r.records !== corpus.records) throw new Error(`replay read ${r.records} records, the corpus has ${corpus.records}`);
    const { files, dir: _dir, ...rest } = corpus;
    return {
      corpus: { ...rest, files: files.length, quarterFiles: quarter.length, quarterJsonBytes },
      baseline,
      replay: rep,
      throughputRatio: baseline.medianSeconds / rep.medianSeconds,
      findings: runs.replay[0].findings,
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export function replayTable(r: ReplayResult): string {
  const c = r.corpus;
  const row = (name: string, m: ModeSummary) => [
    name,
    `${m.medianSeconds.toFixed(2)} s`,
    Math.round(m.eventsPerSecond).toLocaleString("en"),
    `${(m.jsonBytesPerSecond / 1e6).toFixed(1)} MB/s`,
    fmtMB(m.peakRssBytes, 0),
    fmtMB(m.quarterPeakRssBytes, 0),
  ];
  const pct = (n: number) => `${((100 * n) / c.records).toFixed(2)}%`;
  return [
    table([
      ["", "median time", "events/s", "JSON MB/s", "peak RSS", "peak RSS, 1/4 input"],
      row("baseline (read + gunzip + JSON.parse)", r.baseline),
      row("replay --json (full pipeline)", r.replay),
    ]),
    `replay throughput / baseline: ${fmtX(r.throughputRatio)} (target >= 0.60x: ${r.throughputRatio >= 0.6 ? "ok" : "MISSED"}); ` +
      `peak RSS growth from 1/4 to all of the input: replay ${fmtMB(r.replay.peakRssBytes - r.replay.quarterPeakRssBytes, 0)}, baseline ${fmtMB(r.baseline.peakRssBytes - r.baseline.quarterPeakRssBytes, 0)}`,
    `corpus: ${c.files} .json.gz files, ${c.records.toLocaleString("en")} records, ${fmtMB(c.jsonBytes, 0)} JSON / ${fmtMB(c.gzBytes, 0)} gzipped; ` +
      `mix ${pct(c.mix.deny)} denies, ${pct(c.mix.sg)} SG changes, ${pct(c.mix.role)} role changes; ${r.findings.toLocaleString("en")} findings printed; median of ${r.baseline.runs.length} runs each`,
  ].join("\n");
}

// ---- worker threads: 1 vs N workers on the same corpus --------------------------------------------------------------

export interface WorkersResult {
  corpus: { files: number; records: number; jsonBytes: number; gzBytes: number };
  workers: number;
  cores: number;
  /** Wall time of the whole CLI process (`ts-node --transpile-only cli/replay.ts --json --workers k <corpus>`). */
  oneSeconds: number[];
  manySeconds: number[];
  /** median(1 worker) / median(N workers): the speed-up (target >= 1.7 on 2 cores). */
  speedup: number;
  /** The N-worker stdout was byte-identical to the 1-worker stdout in every run. */
  identical: boolean;
}

/**
 * The replay CLI as users run it, with 1 and with N worker threads (default: one per core) on the same corpus,
 * alternating, medians of K runs. Wall time of the whole process, ts-node start-up and the workers' own start-up
 * (each registers ts-node) included: that is what a user waits for. The stdout of both must be byte-identical.
 */
export async function benchWorkers(opts: { corpusBytes: number; runs: number; workers?: number; corpusDir?: string; log?: (s: string) => void }): Promise<WorkersResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const scratch = mkTemp("bench-workers");
  const dir = opts.corpusDir ? path.resolve(opts.corpusDir) : path.join(scratch, "corpus");
  const cores = os.availableParallelism();
  const n = opts.workers ?? cores;
  try {
    log(`workers: building (or reusing) a ${fmtMB(opts.corpusBytes, 0)} corpus in ${dir} ...`);
    const corpus = await buildCorpus(dir, opts.corpusBytes);
    const cli = path.join(ROOT, "cli/replay.ts");
    const once = async (k: number) => {
      const r = await runNode([cli, "--json", "--workers", String(k), dir], { ts: true, timeoutMs: 60 * 60_000 });
      if (r.code !== 0) throw new Error(`replay --workers ${k} failed (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
      return { seconds: r.wallMs / 1000, stdout: r.stdout };
    };
    const oneSeconds: number[] = [];
    const manySeconds: number[] = [];
    let identical = true;
    for (let i = 0; i < opts.runs; i++) {
      const order = i % 2 === 0 ? [1, n] : [n, 1];
      const outs: Record<number, string> = {};
      for (const k of order) {
        const r = await once(k);
        (k === 1 ? oneSeconds : manySeconds).push(r.seconds);
        outs[k] = r.stdout;
      }
      if (outs[1] !== outs[n]) identical = false;
      log(`workers: run ${i + 1}/${opts.runs}: 1 worker ${oneSeconds[i].toFixed(2)} s, ${n} workers ${manySeconds[i].toFixed(2)} s`);
    }
    return {
      corpus: { files: corpus.files.length, records: corpus.records, jsonBytes: corpus.jsonBytes, gzBytes: corpus.gzBytes },
      workers: n,
      cores,
      oneSeconds,
      manySeconds,
      speedup: median(oneSeconds) / median(manySeconds),
      identical,
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export function workersTable(w: WorkersResult): string {
  const row = (name: string, xs: number[]) => [name, `${median(xs).toFixed(2)} s`, Math.round(w.corpus.records / median(xs)).toLocaleString("en"), `${(w.corpus.jsonBytes / 1e6 / median(xs)).toFixed(1)} MB/s`];
  return [
    table([
      ["", "median wall time (whole CLI)", "events/s", "JSON MB/s"],
      row("replay --json --workers 1", w.oneSeconds),
      row(`replay --json --workers ${w.workers}`, w.manySeconds),
    ]),
    `workers: ${w.workers} vs 1 on ${w.cores} cores: ${fmtX(w.speedup)} (target >= 1.70x on 2 cores: ${w.speedup >= 1.7 ? "met" : "MISSED"}); ` +
      `stdout byte-identical: ${w.identical ? "yes" : "NO"}; corpus ${w.corpus.files} .json.gz files, ${w.corpus.records.toLocaleString("en")} records, ` +
      `${fmtMB(w.corpus.jsonBytes, 0)} JSON; median of ${w.oneSeconds.length} runs each`,
  ].join("\n");
}

// ---- the earlier JSON-lines benchmark (--jsonl), unchanged ---------------------------------------------------------

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

async function jsonLinesBaseline(file: string): Promise<number> {
  let n = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line) JSON.parse(line), n++;
  return n;
}

async function jsonLines(records: number, runs: number): Promise<void> {
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
    await jsonLinesBaseline(file);
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

// ---- CLI -----------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (flag("--jsonl") || flag("--records")) return jsonLines(option("--records", 200_000), option("--runs", 5));
  if (flag("--workers-only")) {
    const w = await benchWorkers({ corpusBytes: option("--corpus-mb", 48) * 1e6, runs: option("--runs", 3), workers: flag("--workers") ? option("--workers", 2) : undefined, corpusDir: stringOption("--corpus-dir") });
    process.stdout.write(`\nReplay with worker threads (node ${process.version})\n${workersTable(w)}\n`);
    return;
  }
  const corpusMb = flag("--full") ? 1024 : option("--corpus-mb", 48);
  const result = await benchReplay({ corpusBytes: corpusMb * 1e6, runs: option("--runs", 3), corpusDir: stringOption("--corpus-dir") });
  process.stdout.write(`\nReplay throughput (node ${process.version})\n${replayTable(result)}\n`);
  const json = stringOption("--json");
  if (json) writeSection(json, "replay", { machine: machine(), ...result });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
