/**
 * What `npm run preflight` and `npm run verify` share: a check is a named question with one or more findings (pass,
 * warn or fail, each fail or warn with the exact fix); the report is a checklist a person reads top to bottom, or one
 * JSON document for CI. Exit codes: 0 nothing failed, 1 a check failed (or the config is invalid), 2 the run could not
 * start (bad arguments, no credentials, credentials for the wrong account): one clear line on stderr.
 * Pure: no AWS here, so the rendering and the exit codes are tested without a stub.
 */
import { parseArgs } from "node:util";

export type Status = "pass" | "warn" | "fail";

export interface Finding {
  status: Status;
  /** What was found, with where (account, region, resource). */
  message: string;
  /** The exact action that fixes it (a command, a config key); fails and warns always carry one. */
  fix?: string;
}

export interface Check<C> {
  id: string;
  title: string;
  run(ctx: C): Promise<Finding[]>;
}

export interface CheckResult {
  id: string;
  title: string;
  status: Status;
  findings: Finding[];
}

export interface Report {
  command: "preflight" | "verify";
  stack: string;
  ok: boolean;
  summary: Record<Status, number>;
  checks: CheckResult[];
  /** Seconds the run took. */
  seconds: number;
}

/** The run cannot start: one line, exit 2. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartError";
  }
}

export const pass = (message: string): Finding => ({ status: "pass", message });
export const warn = (message: string, fix: string): Finding => ({ status: "warn", message, fix });
export const fail = (message: string, fix: string): Finding => ({ status: "fail", message, fix });

const RANK: Record<Status, number> = { pass: 0, warn: 1, fail: 2 };
export function worst(findings: Finding[]): Status {
  return findings.reduce<Status>((w, f) => (RANK[f.status] > RANK[w] ? f.status : w), "pass");
}

/**
 * Run every check (concurrently: each check's AWS calls share the context's bounded limiter). A check that throws
 * is a fail naming the error, never a crash, unless the error is a StartError (credentials gone mid-run).
 */
export async function runChecks<C>(checks: Check<C>[], ctx: C): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (c) => {
      let findings: Finding[];
      try {
        findings = await c.run(ctx);
      } catch (err) {
        if (err instanceof StartError) throw err;
        findings = [fail(`could not check: ${describeError(err)}`, fixForError(err))];
      }
      if (findings.length === 0) findings = [pass("nothing to check")];
      return { id: c.id, title: c.title, status: worst(findings), findings };
    }),
  );
}

export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; Code?: string };
  const name = e?.name && e.name !== "Error" ? `${e.name}: ` : "";
  return `${name}${e?.message ?? String(err)}`;
}

/** A permission error says which permission to add; anything else says to look at the message. */
export function fixForError(err: unknown): string {
  const name = (err as { name?: string })?.name ?? "";
  if (/AccessDenied|Unauthorized|NotAuthorized/i.test(name))
    return "grant the calling role the read permission named in the message (README, Preflight and verify: permissions), then run again";
  return "fix the cause in the message and run again";
}

export function buildReport(command: Report["command"], stack: string, checks: CheckResult[], startedAt: number): Report {
  const summary: Record<Status, number> = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return { command, stack, ok: summary.fail === 0, summary, checks, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
}

export function exitCode(report: Report): number {
  return report.ok ? 0 : 1;
}

const LABEL: Record<Status, string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };
/** Findings shown per check in the human report; --json has them all. */
export const SHOWN_PER_CHECK = 25;

/**
 * The checklist: one line per check in order, then under a check that is not a plain pass, its fails and warns, each
 * with its fix. Passing findings of a check that also failed are counted, not listed.
 */
export function formatReport(r: Report, header: string): string {
  const lines: string[] = [header, ""];
  for (const c of r.checks) {
    const problems = c.findings.filter((f) => f.status !== "pass");
    const passes = c.findings.length - problems.length;
    const lead = problems.length === 0 ? c.findings.map((f) => f.message).join("; ") : `${problems.length} problem${problems.length === 1 ? "" : "s"}${passes > 0 ? `, ${passes} ok` : ""}`;
    lines.push(`[${LABEL[c.status]}] ${c.title}: ${lead}`);
    for (const f of problems.slice(0, SHOWN_PER_CHECK)) {
      lines.push(`       ${LABEL[f.status].toLowerCase()}: ${f.message}`);
      if (f.fix) lines.push(`         fix: ${f.fix}`);
    }
    if (problems.length > SHOWN_PER_CHECK) lines.push(`       ... and ${problems.length - SHOWN_PER_CHECK} more (--json lists every one)`);
  }
  lines.push("", `${r.command}: ${r.summary.pass} passed, ${r.summary.warn} warning${r.summary.warn === 1 ? "" : "s"}, ${r.summary.fail} failed (${r.seconds} s)`);
  return lines.join("\n") + "\n";
}

// ---- arguments ---------------------------------------------------------------------------------------------------

export interface CommonArgs {
  stack: string;
  json: boolean;
  /** Stack config file; default Pulumi.<stack>.yaml in the project folder. */
  config?: string;
  /** `pulumi stack output --json` saved to a file (verify reads names it cannot derive from config). */
  outputs?: string;
  /** Most AWS calls in flight at once. */
  concurrency: number;
  probe?: string;
  probeRegion?: string;
}

/** Parse `--stack <name> [--json] [--config <file>] ...` with node:util parseArgs; throws StartError with the usage. */
export function parseCommonArgs(argv: string[], usage: string, extra: { probe?: boolean } = {}): CommonArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string" },
        json: { type: "boolean", default: false },
        config: { type: "string" },
        outputs: { type: "string" },
        concurrency: { type: "string" },
        help: { type: "boolean", short: "h" },
        ...(extra.probe ? { probe: { type: "string" }, "probe-region": { type: "string" } } : {}),
      },
    }));
  } catch (err) {
    throw new StartError(`${(err as Error).message}\n${usage}`);
  }
  if (values.help) throw new StartError(usage);
  const stack = values.stack as string | undefined;
  if (!stack) throw new StartError(`--stack is required\n${usage}`);
  if (!/^[\w.-]+$/.test(stack)) throw new StartError(`--stack "${stack}" is not a stack name`);
  const concurrency = values.concurrency === undefined ? 16 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100) throw new StartError(`--concurrency expects a whole number from 1 to 100, found "${values.concurrency}"`);
  const probe = values.probe as string | undefined;
  if (probe !== undefined && !/^\d{12}$/.test(probe)) throw new StartError(`--probe expects a 12-digit account id, found "${probe}"`);
  return {
    stack,
    json: values.json === true,
    config: values.config as string | undefined,
    outputs: values.outputs as string | undefined,
    concurrency,
    probe,
    probeRegion: values["probe-region"] as string | undefined,
  };
}

// ---- concurrency -------------------------------------------------------------------------------------------------

/** At most `n` tasks at once; FIFO. */
export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(readonly n: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finished task hands its slot straight to the next waiter, so no newcomer can slip in between.
    if (this.active >= this.n) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Every (account, region) pair, in a stable order. */
export function pairs(accounts: string[], regions: string[]): { account: string; region: string }[] {
  return accounts.flatMap((account) => regions.map((region) => ({ account, region })));
}
