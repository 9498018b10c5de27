/**
 * The deny message parser on 1 MB messages (the target: linear time, a 1 MB message in under 50 ms). Shapes: the ones
 * that made the old header regex quadratic (long text without spaces, "User" repeated), and long runs of each part
 * of the grammar. Median of `runs` parses each, after one warm-up.
 *
 *   npx ts-node --transpile-only bench/parse.bench.ts [--runs N]
 */
import { parseDenyMessage } from "../functions/deny/parseMessage";
import { option } from "./lib/common";

export interface ParseRow {
  input: string;
  bytes: number;
  medianMs: number;
}

const MB = 1 << 20;

/** The 1 MB inputs, by name. */
export function parseInputs(): Record<string, string> {
  const fill = (unit: string, prefix = "") => prefix + unit.repeat(Math.ceil((MB - prefix.length) / unit.length)).slice(0, MB - prefix.length);
  return {
    "no spaces": fill("x"),
    "User repeated": fill("User"),
    "User: + 1 MB principal": fill("a", "User: "),
    "header repeated": fill("User: a is not authorized to perform "),
    "1 MB resource": fill("b", "User: arn:aws:iam::111122223333:user/a is not authorized to perform: s3:GetObject on resource: "),
    "explicit deny + 1 MB type": fill("policy ", "User: u is not authorized to perform: s3:GetObject on resource: * with an explicit deny in a "),
    "because no + 1 MB type": fill("policy ", "User: u is not authorized to perform: s3:GetObject because no "),
    "EC2 encoded, 1 MB blob": fill("A", "You are not authorized to perform this operation. Encoded authorization failure message: "),
  };
}

export function benchParse(runs = 7): ParseRow[] {
  const rows: ParseRow[] = [];
  for (const [input, text] of Object.entries(parseInputs())) {
    parseDenyMessage(text);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      parseDenyMessage(text);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    rows.push({ input, bytes: text.length, medianMs: times[Math.floor(times.length / 2)] });
  }
  return rows;
}

export function parseTable(rows: ParseRow[]): string {
  return rows.map((r) => `  ${r.input.padEnd(28)} ${(r.bytes / MB).toFixed(1)} MB  ${r.medianMs.toFixed(1).padStart(7)} ms`).join("\n");
}

/** The target: every 1 MB message in under 50 ms. */
export function parseTarget(rows: ParseRow[]): string {
  const slow = rows.filter((r) => r.medianMs >= 50);
  return `deny message parse, 1 MB in < 50 ms: ${slow.length ? `MISSED by ${slow.map((r) => `${r.input} ${r.medianMs.toFixed(0)} ms`).join(", ")}` : `met (slowest ${Math.max(...rows.map((r) => r.medianMs)).toFixed(1)} ms)`}`;
}

if (require.main === module) {
  const rows = benchParse(option("--runs", 7));
  process.stdout.write(`${parseTable(rows)}\n${parseTarget(rows)}\n`);
}
