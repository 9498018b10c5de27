/**
 * `npm run replay -- --engine athena --since <instant> --until <instant> --database <db> --table <table> [--workgroup
 * <wg>] [--output-location s3://...] [--catalog <c>] [--account <id>]... [--region <r>]... [--json] [--strict]
 * [--stack <name>] [--trusted-cidr <cidr>]... [--print-sql] [--create-table --bucket s3://... --organization-id o-...
 * --table-since yyyy/MM/dd]`
 *
 * The filter pushed down: one SQL query (functions/replay/athenaSql.ts) over the organization trail's Athena table
 * selects exactly the records the replay patterns match, and the rows, rebuilt into records, go through the same
 * boundary (checkRecord) and the same analysis (replayItems) as a local replay: same findings, same `--json` lines, same
 * report, for the records selected. Counts (`records`, `files`) are those of the selected records: the query never
 * returns the others. docs/athena.md says what the table keeps and loses, costs and permissions.
 */
import { parseArgs, type ParseArgsConfig } from "util";
import { parseTime } from "./s3Source";
import { AthenaClient } from "@aws-sdk/client-athena";
import { checkRecord } from "../functions/cloudtrail";
import { replayQuery } from "../functions/replay/athenaSql";
import { createTableDdl, outputAlias, outputColumns, recordFromRow } from "../functions/replay/athenaTable";
import { DEFAULT_COVERAGE } from "../stacks/config";
import { runQuery, queryRows, type QueryOptions } from "./athenaClient";
import type { LogItem } from "./readLogs";
import { replayItems, reportInternal, type ReplayContext } from "./replayItems";
import { ReplaySummary, formatReport } from "./report";
import type { ReplayArgs } from "./replay";

export const ATHENA_USAGE =
  "usage: npm run replay -- --engine athena --since <time> --until <time> --database <db> --table <table> " +
  "[--workgroup <wg>] [--output-location s3://bucket/prefix/] [--catalog <catalog>] [--account <id>]... [--region <region>]... " +
  "[--json] [--strict] [--stack <name>] [--trusted-cidr <cidr>]... [--print-sql] " +
  "[--create-table --bucket s3://bucket[/prefix] --organization-id o-... --table-since yyyy/MM/dd (with --account and --region listing all)]";

export interface AthenaArgs extends ReplayArgs {
  since: string;
  until: string;
  database: string;
  table: string;
  workGroup?: string;
  outputLocation?: string;
  catalog?: string;
  accounts: string[];
  regions: string[];
  printSql: boolean;
  createTable?: { bucket: string; organizationId: string; since: string };
}

/** True when argv asks for the Athena engine: the hook replay.ts calls before its own parsing. */
export function isAthenaEngine(argv: string[]): boolean {
  const i = argv.indexOf("--engine");
  return i >= 0 && argv[i + 1] === "athena";
}

const ATHENA_FLAGS = {
  engine: { type: "string" },
  json: { type: "boolean" },
  strict: { type: "boolean" },
  "print-sql": { type: "boolean" },
  "create-table": { type: "boolean" },
  since: { type: "string" },
  until: { type: "string" },
  database: { type: "string" },
  table: { type: "string" },
  workgroup: { type: "string" },
  "output-location": { type: "string" },
  catalog: { type: "string" },
  account: { type: "string", multiple: true },
  region: { type: "string", multiple: true },
  bucket: { type: "string" },
  "organization-id": { type: "string" },
  "table-since": { type: "string" },
  stack: { type: "string" },
  "trusted-cidr": { type: "string", multiple: true },
  changes: { type: "boolean" },
  workers: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export function parseAthenaArgs(argv: string[]): AthenaArgs {
  const a: Partial<AthenaArgs> & { accounts: string[]; regions: string[]; trustedCidrs: string[] } = { paths: [], json: false, trustedCidrs: [], accounts: [], regions: [], printSql: false };
  let create = false;
  let bucket: string | undefined;
  let orgId: string | undefined;
  let tableSince: string | undefined;
  // node:util parseArgs (tokens, not strict: the messages are ours). A value-taking flag followed by another flag has
  // no value ("--since --until ..." names what --since needs), as before.
  const { tokens } = parseArgs({ args: argv, options: ATHENA_FLAGS, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind === "option-terminator") continue;
    if (t.kind === "positional") throw new Error(`--engine athena reads the Athena table, not paths (found "${t.value}")\n${ATHENA_USAGE}`);
    const f = t.rawName;
    const value = (what: string) => {
      const v = t.value;
      if (v === undefined || v.startsWith("--")) throw new Error(`${f} needs ${what}, found ${v ?? "nothing"}\n${ATHENA_USAGE}`);
      return v;
    };
    switch (f) {
      case "--engine": {
        const v = value("an engine (athena)");
        if (v !== "athena") throw new Error(`--engine: expected athena, found ${v}\n${ATHENA_USAGE}`);
        break;
      }
      case "--json": a.json = true; break;
      case "--strict": a.strict = true; break;
      case "--print-sql": a.printSql = true; break;
      case "--create-table": create = true; break;
      case "--since": a.since = value("a time such as 2026-01-01, 2026-01-01T06:30Z or 36h"); break;
      case "--until": a.until = value("a time such as 2026-02-01, 2026-02-01T06:30Z or now"); break;
      case "--database": a.database = value("a Glue database name"); break;
      case "--table": a.table = value("a table name"); break;
      case "--workgroup": a.workGroup = value("an Athena workgroup"); break;
      case "--output-location": a.outputLocation = value("s3://bucket/prefix/"); break;
      case "--catalog": a.catalog = value("a data catalog name"); break;
      case "--account": a.accounts.push(value("a 12-digit account id")); break;
      case "--region": a.regions.push(value("a region such as us-east-1")); break;
      case "--bucket": bucket = value("s3://bucket[/prefix]"); break;
      case "--organization-id": orgId = value("o-xxxxxxxxxx"); break;
      case "--table-since": tableSince = value("yyyy/MM/dd"); break;
      case "--stack": {
        const v = value("a stack name such as prod");
        if (!/^[\w.-]+$/.test(v)) throw new Error(`--stack needs a stack name such as prod, found ${v}\n${ATHENA_USAGE}`);
        a.stack = v;
        break;
      }
      case "--trusted-cidr": {
        const v = value("a CIDR such as 10.0.0.0/8");
        if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(v)) throw new Error(`--trusted-cidr needs a CIDR such as 10.0.0.0/8, found ${v}\n${ATHENA_USAGE}`);
        a.trustedCidrs.push(v);
        break;
      }
      case "--changes":
        // The change feed needs every write call, not what the replay patterns select: a query for it would scan and
        // return most of the trail. Replay those from files (or S3) instead.
        throw new Error(`--changes is not available with --engine athena (the change feed needs every write call, not the replay patterns' records)\n${ATHENA_USAGE}`);
      case "--workers":
        throw new Error(`--workers is not available with --engine athena (Athena runs the query; the few rows it returns are replayed in one thread)\n${ATHENA_USAGE}`);
      case "--help":
      case "-h":
        throw new Error(ATHENA_USAGE);
      default:
        throw new Error(f.startsWith("--") ? `unknown option "${f}" with --engine athena\n${ATHENA_USAGE}` : `--engine athena reads the Athena table, not paths (found "${argv[t.index]}")\n${ATHENA_USAGE}`);
    }
  }
  const missing = (["since", "until", "database", "table"] as const).filter((k) => !a[k]).map((k) => `--${k}`);
  if (missing.length > 0) throw new Error(`--engine athena needs ${missing.join(", ")}\n${ATHENA_USAGE}`);
  // The same times as an s3:// replay (a UTC day, an ISO time with its zone, now, or an age such as 36h), as the
  // yyyy-MM-ddTHH:mm:ssZ instants eventTime is written in.
  const now = new Date();
  const instant = (flag: string, v: string) => parseTime(flag, v, now).toISOString().replace(/\.\d{3}Z$/, "Z");
  a.since = instant("--since", a.since!);
  a.until = instant("--until", a.until!);
  if (create) {
    const need = [!bucket && "--bucket", !orgId && "--organization-id", !tableSince && "--table-since", a.accounts.length === 0 && "--account", a.regions.length === 0 && "--region"].filter(Boolean);
    if (need.length > 0) throw new Error(`--create-table needs ${need.join(", ")} (the projection lists every account and region)\n${ATHENA_USAGE}`);
    a.createTable = { bucket: bucket!, organizationId: orgId!, since: tableSince! };
  } else if (bucket || orgId || tableSince) throw new Error(`--bucket, --organization-id and --table-since go with --create-table\n${ATHENA_USAGE}`);
  return a as AthenaArgs;
}

/**
 * Bytes scanned as a list-price estimate: $5 per TB, rounded up to the megabyte, at least 10 MB per query
 * (https://aws.amazon.com/athena/pricing/). DDL (--create-table) is not billed.
 */
export function scanCost(bytes: number): string {
  const mb = 1024 * 1024;
  const billed = Math.max(Math.ceil(bytes / mb) * mb, 10 * mb);
  return `$${((billed / 1024 ** 4) * 5).toFixed(4)}`;
}

export interface AthenaDeps {
  client?: AthenaClient;
  query?: Partial<QueryOptions>;
  /** The stack's coverage (replay.ts's stackCoverage), when --stack is given. */
  coverageOf?: (stack: string) => ReplayContext["coverage"];
}

/** Run a replay through Athena, writing to `out` and `err` exactly as replay() does. Returns the exit code. */
export async function athenaReplay(args: AthenaArgs, out: (s: string) => void, err: (s: string) => void, deps: AthenaDeps = {}): Promise<number> {
  const sql = replayQuery({ database: args.database, table: args.table, since: args.since, until: args.until, accounts: args.accounts, regions: args.regions }, "trino");
  if (args.printSql) {
    if (args.createTable) out(createTableDdl({ database: args.database, table: args.table, ...args.createTable, accounts: args.accounts, regions: args.regions }) + ";\n\n");
    out(sql + ";\n");
    return 0;
  }
  const client = deps.client ?? new AthenaClient({});
  const opts: QueryOptions = { workGroup: args.workGroup, outputLocation: args.outputLocation, database: args.database, catalog: args.catalog, ...deps.query };
  if (args.createTable) {
    const ddl = createTableDdl({ database: args.database, table: args.table, ...args.createTable, accounts: args.accounts, regions: args.regions });
    const made = await runQuery(client, ddl, opts);
    err(`athena: table ${args.database}.${args.table} created (or already there): query ${made.QueryExecutionId}\n`);
  }
  const summary = new ReplaySummary();
  const coverage = args.stack && deps.coverageOf ? deps.coverageOf(args.stack) : DEFAULT_COVERAGE;
  const ctx: ReplayContext = { args, coverage, summary, changes: 0, out, err };
  const exec = await runQuery(client, sql, opts);
  const id = exec.QueryExecutionId;
  const scanned = exec.Statistics?.DataScannedInBytes ?? 0;
  err(`athena: query ${id} scanned ${(scanned / 1024 ** 2).toFixed(1)} MB (about ${scanCost(scanned)} at list price)\n`);
  const file = `athena:${id}`;
  const columns = outputColumns();
  const header = columns.map((_, i) => outputAlias(i));
  let index = 0;
  try {
    for await (const rows of queryRows(client, id, header)) {
      const batch: LogItem[] = rows.map((row) => {
        const i = index++;
        // The same boundary as a file's records: a row that is no record (no eventName) is reported, not analysed.
        const check = checkRecord(recordFromRow(row, columns));
        return check.ok ? { kind: "record", record: check.record, file, line: null, index: i, ignored: check.ignored } : { kind: "problem", file: `${file} row ${i + 1}`, line: null, message: check.problem };
      });
      await replayItems(batch, ctx);
    }
  } catch (e) {
    // Same as a local replay whose reader failed: report what was read so far rather than nothing.
    reportInternal(ctx, "reading the Athena results", e);
  }
  // As replay() in replay.ts writes it (no --changes here).
  if (args.json) out(JSON.stringify(summary.toJSON()) + "\n");
  else out(formatReport(summary));
  if (summary.records === 0 && summary.skipped.length > 0) return 1;
  return args.strict && summary.internalCount > 0 ? 3 : 0;
}

/** The CLI entry: replay.ts calls this for `--engine athena`. */
export function athenaMain(argv: string[], coverageOf: (stack: string) => ReplayContext["coverage"]): void {
  let args: AthenaArgs;
  try {
    args = parseAthenaArgs(argv);
    if (args.stack) coverageOf(args.stack);
    // Validate the query's arguments now: a bad time range is a bad argument (exit 2), not a failed run.
    replayQuery({ database: args.database, table: args.table, since: args.since, until: args.until, accounts: args.accounts, regions: args.regions }, "trino");
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  athenaReplay(args, (s) => process.stdout.write(s), (s) => process.stderr.write(s), { coverageOf }).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`replay: ${(e as Error).message ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
