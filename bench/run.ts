/**
 * `npm run bench [-- --full] [-- --only functions,replay,plan,parse]`: Lambda archives and cold starts, replay
 * throughput and memory, plan time and memory, and the deny message parse, one after the other, each table printed,
 * everything written to bench/results.json (with the machine and the command). Flags are read with node:util
 * parseArgs (bench/lib/common.ts): an unknown flag stops the run.
 * A benchmark, not a test: CI does not run it. Quick mode (default) takes about 5 minutes on the 2-core machine.
 *
 *   --full              replay on a 1 GB corpus; plans for 10, 100 and 1,000 accounts in both modes (long: see README)
 *   --cold-runs N       cold starts per function and variant (default 7)
 *   --replay-runs K     replay and baseline runs (default 5)
 *   --corpus-mb N       replay corpus size in MB of JSON (default 48; 1024 with --full)
 *   --corpus-dir D      keep / reuse the replay corpus in D
 *   --workers-runs K    runs of the 1 vs N worker threads comparison (default 3); --workers n sets N (default: cores)
 *   --sizes 10,100      --modes direct,stackset     which plans
 *   --timeout-min M     give up on a plan after M minutes (default 10; 60 with --full)
 *   --out F             results file (default bench/results.json; bench/results-full.json with --full)
 *
 * The figures and how to read them: bench/README-performance.md.
 */
import * as fs from "fs";
import * as path from "path";
import { benchFunctions, functionsTable, type FunctionsResult } from "./functions.bench";
import { benchReplay, benchWorkers, replayTable, workersTable, type ReplayResult, type WorkersResult } from "./replay.bench";
import { benchPlan, planList, planTable, type PlanRow } from "./plan.bench";
import { benchParse, parseTable, parseTarget } from "./parse.bench";
import { flag, machine, mkTemp, option, stringOption, writeSection } from "./lib/common";

/** The performance targets (bench/README-performance.md), per benchmark, each "met" or "MISSED" with the figures behind it. */
function targets(f?: FunctionsResult, r?: ReplayResult, p?: PlanRow[], w?: WorkersResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (f) {
    const over5 = f.functions.filter((x) => x.plan.zippedBytes > 5e6).map((x) => x.name);
    const over2x = f.functions.filter((x) => x.esbuild && x.plan.zippedBytes > 2 * x.esbuild.zippedBytes).map((x) => x.name);
    const slow = f.functions.filter((x) => x.esbuild && x.plan.coldMedianMs > 1.5 * x.esbuild.coldMedianMs).map((x) => x.name);
    out.functions = [
      `archive <= 5 MB zipped: ${over5.length ? `MISSED by ${over5.length}/${f.functions.length} (${over5.join(", ")})` : "met"}`,
      `archive within 2x of esbuild (zipped): ${over2x.length ? `MISSED by ${over2x.length}/${f.functions.length}` : "met"}`,
      `cold start within 1.5x of esbuild: ${slow.length ? `MISSED by ${slow.length}/${f.functions.length} (${slow.join(", ")})` : "met"}`,
    ];
  }
  if (r) {
    const growth = r.replay.peakRssBytes / r.replay.quarterPeakRssBytes;
    const baseGrowth = r.baseline.peakRssBytes / r.baseline.quarterPeakRssBytes;
    // On a small corpus the heap has not settled (the bare baseline "grows" too): judge from 512 MB of input up.
    const verdict = r.corpus.jsonBytes < 512e6 ? "not judged below 512 MB of input (run --full)" : growth <= 1.25 ? "met" : "MISSED";
    out.replay = [
      `replay >= 60% of the parse-only baseline: ${r.throughputRatio >= 0.6 ? "met" : "MISSED"} (${(100 * r.throughputRatio).toFixed(0)}%)`,
      `replay memory flat as input grows (peak RSS, all vs 1/4 of the files, <= 1.25x): ${verdict} (replay ${growth.toFixed(2)}x, baseline ${baseGrowth.toFixed(2)}x)`,
    ];
  }
  if (w)
    out.replayWorkers = [
      `replay with ${w.workers} worker threads >= 1.7x one on 2 cores (whole CLI, same corpus): ${w.speedup >= 1.7 ? "met" : "MISSED"} (${w.speedup.toFixed(2)}x on ${w.cores} cores); output byte-identical: ${w.identical ? "yes" : "NO"}`,
    ];
  if (p) {
    out.plan = [];
    const ss = p.filter((x) => x.mode === "stackset" && x.ok);
    if (ss.length > 1) out.plan.push(`StackSet-mode plan size independent of account count: ${ss.every((x) => x.resources === ss[0].resources) ? "met" : "MISSED"}`);
    const failed = p.filter((x) => !x.ok);
    if (failed.length) out.plan.push(`plans that did not finish: ${failed.map((x) => `${x.mode} ${x.accounts} (${x.failure})`).join(", ")}`);
  }
  return out;
}

function readJson(file: string): Record<string, any> {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const full = flag("--full");
  const only = (stringOption("--only") ?? "functions,replay,plan,parse").split(",");
  const out = path.resolve(stringOption("--out") ?? path.join(__dirname, full ? "results-full.json" : "results.json"));
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
  // A run of all three starts the file afresh; --only merges its sections into what is there.
  if (only.length >= 3) fs.rmSync(out, { force: true });
  const run = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    mode: full ? "full" : "quick",
    sections: only,
    startedAt: new Date(started).toISOString(),
    machine: machine(),
  };

  let f: FunctionsResult | undefined;
  let r: ReplayResult | undefined;
  let w: WorkersResult | undefined;
  let p: PlanRow[] | undefined;
  const sections: string[] = [];
  if (only.includes("functions")) {
    f = await benchFunctions({ runs: option("--cold-runs", 7), log });
    writeSection(out, "functions", f);
    sections.push(`1. Lambda archives and cold starts\n${functionsTable(f)}`);
  }
  if (only.includes("replay")) {
    // One corpus for both replay measurements (1 vs N worker threads on the same corpus).
    const corpusDir = stringOption("--corpus-dir") ?? path.join(mkTemp("bench-corpus"), "corpus");
    try {
      r = await benchReplay({ corpusBytes: option("--corpus-mb", full ? 1024 : 48) * 1e6, runs: option("--replay-runs", 5), corpusDir, log });
      writeSection(out, "replay", r);
      sections.push(`2. replay throughput and memory\n${replayTable(r)}`);
      w = await benchWorkers({ corpusBytes: option("--corpus-mb", full ? 1024 : 48) * 1e6, runs: option("--workers-runs", 3), workers: flag("--workers") ? option("--workers", 2) : undefined, corpusDir, log });
      writeSection(out, "replayWorkers", w);
      sections.push(`2b. replay with worker threads\n${workersTable(w)}`);
    } finally {
      if (!stringOption("--corpus-dir")) fs.rmSync(path.dirname(corpusDir), { recursive: true, force: true });
    }
  }
  if (only.includes("plan")) {
    p = await benchPlan({ plans: planList(full), timeoutMs: option("--timeout-min", full ? 60 : 10) * 60_000, log });
    writeSection(out, "plan", p);
    sections.push(`3. plan time and memory\n${planTable(p)}`);
  }
  // The deny message parser is linear (a 1 MB message in under 50 ms).
  let parseGoal: Record<string, string[]> = {};
  if (only.includes("parse")) {
    const rows = benchParse();
    writeSection(out, "parse", rows);
    sections.push(`4. deny message parse, 1 MB messages (median of 7)\n${parseTable(rows)}`);
    parseGoal = { parse: [parseTarget(rows)] };
  }
  const goals = { ...(readJson(out).targets ?? {}), ...targets(f, r, p, w), ...parseGoal };
  writeSection(out, "targets", goals);
  const seconds = (Date.now() - started) / 1000;
  writeSection(out, "runs", [...(readJson(out).runs ?? []), { ...run, seconds }]);
  const m = machine();
  process.stdout.write(
    `\n==== trailwatch bench (${full ? "full" : "quick"} mode), ${m.cpuCount} x ${m.cpuModel}, node ${m.node}, ${seconds.toFixed(0)} s ====\n\n` +
      `${sections.join("\n\n")}\n\nTargets\n${Object.values({ ...targets(f, r, p, w), ...parseGoal }).flat().map((g) => `  - ${g}`).join("\n")}\n\nwritten ${path.relative(process.cwd(), out)}\n`,
  );
}

main().catch((e) => {
  if (String((e as { code?: string }).code).startsWith("ERR_PARSE_ARGS")) {
    // A flag misspelt or without its value (node:util parseArgs): the message and where the flags are listed.
    process.stderr.write(`bench: ${(e as Error).message}\nusage: npm run bench [-- --full] [--only functions,replay,plan,parse] [...]: the flags are listed at the top of bench/run.ts\n`);
    process.exitCode = 2;
    return;
  }
  console.error(e);
  process.exitCode = 1;
});
