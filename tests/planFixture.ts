/**
 * Runs `npm run plan`'s code in a child process (the Pulumi runtime is global: one program per process) and
 * loads what it wrote. Graph tests share one plan of the prod stack per test run.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..");

export interface Resource {
  type: string;
  name: string;
  parent: string | null;
  provider: string | null;
  /** URNs it waits for (explicit dependsOn and input sources). */
  dependsOn: string[];
  urn: string;
  inputs: any;
}

export interface PlanRun {
  status: number | null;
  stdout: string;
  stderr: string;
  dir: string;
  resources: Resource[];
}

export function runPlan(args: string[], dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-plan-"))): PlanRun {
  const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "cli/plan.ts", ...args, "--out", dir], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 300_000,
  });
  const file = path.join(dir, "resources.json");
  const resources = r.status === 0 && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Resource[]) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, dir, resources };
}

/**
 * Runs a program file of tests/fixtures (components used directly, on the mock runtime through cli/mockRuntime.ts) in
 * a child process, as runPlan does for the stacks: the Pulumi runtime is global, one program per process. The
 * program prints its result as JSON on its last stdout line.
 */
export function runMockProgram<T>(file: string): T {
  const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", file], { cwd: ROOT, encoding: "utf8", timeout: 280_000, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${file} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as T;
}

/** Every file under `dir`, as `/`-separated paths relative to `base`. */
export function filesUnder(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, base) : [path.relative(base, p).split(path.sep).join("/")];
  });
}

let prod: PlanRun | undefined;
/** The prod stack's plan, computed once per test run. */
export function prodPlan(): PlanRun {
  if (!prod) {
    prod = runPlan(["--stack", "prod"]);
    if (prod.status !== 0) throw new Error(`plan failed (${prod.status}):\n${prod.stderr}`);
  }
  return prod;
}

/** Resources of one type, optionally filtered by name. */
export function ofType(plan: PlanRun, type: string, name?: string | RegExp): Resource[] {
  return plan.resources.filter(
    (r) => r.type === type && (name === undefined || (typeof name === "string" ? r.name === name : name.test(r.name))),
  );
}

/** Exactly one resource of a type (and name): fails with what there was otherwise. */
export function one(plan: PlanRun, type: string, name?: string | RegExp): Resource {
  const found = ofType(plan, type, name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  return found[0];
}

/** Inputs that are JSON documents (policies, patterns) parsed. */
export function json(value: unknown): any {
  return typeof value === "string" ? JSON.parse(value) : value;
}

/**
 * A function's handler from the plan's archive, loaded fresh: the archive's modules keep per-container state (Slack
 * clients, the Bolt app) that must not leak from one test suite's stubs into the next, as a warm Lambda would keep it.
 */
export function loadHandler(plan: PlanRun, fn: string): (event: unknown, context?: unknown) => Promise<any> {
  const dir = path.join(plan.dir, "functions", fn) + path.sep;
  for (const key of Object.keys(require.cache)) if (key.startsWith(dir)) delete require.cache[key];
  return require(path.join(dir, "__index.js")).handler;
}
