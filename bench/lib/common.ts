/**
 * Shared by the benchmarks: flags, statistics, child processes with their peak memory, tables, and the
 * machine description that goes into bench/results.json.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "node:util";

export const ROOT = path.resolve(__dirname, "../..");
/** Real CloudTrail records: the samples the repo ships (TRAILWATCH_SHARED_DATA may point at another copy). */
export const SHARED_CLOUDTRAIL = process.env.TRAILWATCH_SHARED_DATA ?? path.resolve(ROOT, "samples/cloudtrail");
const MAXRSS_HOOK = path.join(__dirname, "maxrss.js");
const TS_NODE = path.join(ROOT, "node_modules/ts-node/dist/bin.js");

/**
 * Every flag of `npm run bench` (bench/run.ts) and of the benchmarks run alone (`ts-node bench/<name>.bench.ts`), read
 * with node:util parseArgs: a misspelt flag or a flag without its value stops the run instead of being ignored.
 */
const BENCH_OPTIONS = {
  full: { type: "boolean" },
  keep: { type: "boolean" },
  jsonl: { type: "boolean" },
  "workers-only": { type: "boolean" },
  only: { type: "string" },
  out: { type: "string" },
  json: { type: "string" },
  "corpus-dir": { type: "string" },
  sizes: { type: "string" },
  modes: { type: "string" },
  "cold-runs": { type: "string" },
  "replay-runs": { type: "string" },
  "corpus-mb": { type: "string" },
  "workers-runs": { type: "string" },
  workers: { type: "string" },
  "timeout-min": { type: "string" },
  runs: { type: "string" },
  records: { type: "string" },
} as const;

function benchValues(argv: string[]): Record<string, string | boolean | undefined> {
  return parseArgs({ args: argv, options: BENCH_OPTIONS, strict: true, allowPositionals: false }).values;
}

/** `--name` was given (a boolean flag, or an option with its value). */
export function flag(name: string, argv = process.argv.slice(2)): boolean {
  return benchValues(argv)[name.replace(/^--/, "")] !== undefined;
}

export function option(name: string, fallback: number, argv = process.argv.slice(2)): number {
  const raw = benchValues(argv)[name.replace(/^--/, "")];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(v)) throw new Error(`${name} needs a number, found ${raw}`);
  return v;
}

export function stringOption(name: string, argv = process.argv.slice(2)): string | undefined {
  const raw = benchValues(argv)[name.replace(/^--/, "")];
  return typeof raw === "string" ? raw : undefined;
}

/** The median (for an even count, the mean of the two middle values). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const mb = (bytes: number) => bytes / 1e6;
export const fmtMB = (bytes: number, digits = 1) => `${mb(bytes).toFixed(digits)} MB`;
export const fmtMs = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : "-");
export const fmtX = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "-");

/** A plain-text table: first row is the header; numbers are right-aligned. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => (c > 0 && /^[-\d.,]+( \w+|x|%)?$/.test(v) ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /**
   * Peak resident set size of the child (bytes), from its own process.resourceUsage() at exit; if it died first,
   * the kernel's VmHWM sampled every second (Linux), else null.
   */
  peakRss: number | null;
  timedOut: boolean;
}

/**
 * Run `node --require maxrss.js args...` in the project root, capturing output, wall time and peak RSS.
 * With `ts: true` the script runs under ts-node --transpile-only.
 */
export function runNode(
  args: string[],
  opts: { ts?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number; inherit?: boolean; nodeArgs?: string[] } = {},
): Promise<ChildResult> {
  const rssFile = path.join(os.tmpdir(), `trailwatch-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const argv = [...(opts.nodeArgs ?? []), "--require", MAXRSS_HOOK, ...(opts.ts ? [TS_NODE, "--transpile-only"] : []), ...args];
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: ROOT,
      env: { ...(opts.env ?? process.env), TRAILWATCH_BENCH_RSS_FILE: rssFile },
      stdio: ["ignore", opts.inherit ? "inherit" : "pipe", opts.inherit ? "inherit" : "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    // Linux: the kernel's high-water mark, sampled, for a child that dies before its exit hook (out of memory).
    let hwm: number | null = null;
    const sampler = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) hwm = Number(m[1]) * 1024;
      } catch {
        /* not Linux, or already gone */
      }
    }, 1000);
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : undefined;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      clearInterval(sampler);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      let peakRss: number | null = null;
      try {
        peakRss = Number(fs.readFileSync(rssFile, "utf8")) * 1024;
        fs.rmSync(rssFile, { force: true });
      } catch {
        peakRss = hwm; // killed before its exit hook ran: the last sampled high-water mark
      }
      resolve({ code, signal, stdout, stderr, wallMs, peakRss, timedOut });
    });
  });
}

/** What the figures were measured on: the doc's machine kind plus what this process sees. */
export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    kind: "node (/work/.library/env/machines/node.md: 2 cores, 24 GiB)",
    cpuModel: cpus[0]?.model ?? "unknown",
    cpuCount: cpus.length,
    cpuMHz: cpus[0]?.speed ?? null,
    totalMemGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** Merge one benchmark's section into the JSON results file. */
export function writeSection(file: string, section: string, data: unknown): void {
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    /* new file */
  }
  doc[section] = data;
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
}

/**
 * Scratch space: RAM-backed /dev/shm when there is one (TRAILWATCH_BENCH_TMP overrides). A plan writes ~60,000
 * files of archives; on this machine's virtual disk deleting one plan's output alone took 14 s, and that disk is
 * shared with whatever else runs, so it is kept out of the figures.
 */
export function scratchRoot(): string {
  const want = process.env.TRAILWATCH_BENCH_TMP;
  if (want) return want;
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    if (fs.statfsSync("/dev/shm").bavail * fs.statfsSync("/dev/shm").bsize > 4e9) return "/dev/shm";
  } catch {
    /* no tmpfs */
  }
  return os.tmpdir();
}

export function mkTemp(prefix: string): string {
  return fs.mkdtempSync(path.join(scratchRoot(), `trailwatch-${prefix}-`));
}

/** Sum of file sizes under a folder (apparent bytes, what Lambda's 250 MB unzipped limit counts) and file count. */
export function folderSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        bytes += fs.statSync(p).size;
        files++;
      }
    }
  };
  walk(dir);
  return { bytes, files };
}
