/**
 * `npm run replay -- --engine athena` against a local Athena stub (aws-sdk-client-mock at the SDK boundary). The stub
 * checks each request against the Athena API reference (StartQueryExecution, GetQueryExecution, GetQueryResults,
 * StopQueryExecution) and refuses what Athena would refuse; it serves, for the exact Trino query the engine sends, the
 * rows DuckDB returns for the same query in its dialect over the samples. The engine's output must then be byte for
 * byte a local replay's of the same records.
 * https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html
 * https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mockClient } from "aws-sdk-client-mock";
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type Row,
} from "@aws-sdk/client-athena";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { athenaReplay, parseAthenaArgs, scanCost, type AthenaArgs } from "../cli/athena";
import { runQuery, queryRows } from "../cli/athenaClient";
import { replay, parseReplayArgs, stackCoverage } from "../cli/replay";
import { replayQuery } from "../functions/replay/athenaSql";
import { createTableDdl, duckdbColumns, outputAlias, outputColumns } from "../functions/replay/athenaTable";
import { constructedRecords, pantherRecords, stratusRecords } from "./sharedData";
import { breakRecords, unreadableByTable } from "./athenaRecords";
import { ROOT } from "./planFixture";

const SINCE = "2000-01-01T00:00:00Z";
const UNTIL = "2100-01-01T00:00:00Z";
const BASE = ["--engine", "athena", "--since", SINCE, "--until", UNTIL, "--database", "security", "--table", "org_trail", "--workgroup", "trailwatch", "--output-location", "s3://athena-results-111122223333/replay/"];

class AthenaApiError extends Error {
  constructor(
    readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request rules of the Athena API reference the engine relies on: the stub refuses the rest, as Athena would. */
function checkStart(input: Record<string, any>): void {
  const bad = (m: string) => {
    throw new AthenaApiError("InvalidRequestException", m);
  };
  if (typeof input.QueryString !== "string" || input.QueryString.length < 1 || Buffer.byteLength(input.QueryString) > 262144) bad("QueryString: 1 to 262144");
  if (typeof input.ClientRequestToken !== "string" || input.ClientRequestToken.length < 32 || input.ClientRequestToken.length > 128) bad("ClientRequestToken: 32 to 128 characters");
  if (input.WorkGroup !== undefined && !/^[a-zA-Z0-9._-]{1,128}$/.test(input.WorkGroup)) bad("WorkGroup pattern");
  if (input.QueryExecutionContext && Object.keys(input.QueryExecutionContext).some((k) => !["Database", "Catalog"].includes(k))) bad("QueryExecutionContext keys");
  if (input.ResultConfiguration?.OutputLocation !== undefined && !/^s3:\/\//.test(input.ResultConfiguration.OutputLocation)) bad("OutputLocation must be s3://");
  const allowed = ["QueryString", "ClientRequestToken", "QueryExecutionContext", "ResultConfiguration", "WorkGroup", "ExecutionParameters", "ResultReuseConfiguration"];
  const extra = Object.keys(input).filter((k) => !allowed.includes(k));
  if (extra.length > 0) bad(`unknown members ${extra}`);
}
const ID = /^[a-zA-Z0-9-]{1,128}$/;

interface Stub {
  athena: ReturnType<typeof mockClient>;
  client: AthenaClient;
  queries: string[];
  sleeps: number[];
}

/** States to go through per query, and the rows to serve for a SELECT (header first), 40 per page to exercise NextToken. */
function stub(rowsFor: (sql: string) => Promise<(string | null)[][]>, states: string[] = ["QUEUED", "RUNNING", "SUCCEEDED"], status: Record<string, unknown> = {}): Stub {
  const client = new AthenaClient({ region: "us-east-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
  const athena = mockClient(client);
  const queries: string[] = [];
  const polls = new Map<string, number>();
  const results = new Map<string, Row[]>();
  athena.on(StartQueryExecutionCommand).callsFake(async (input) => {
    checkStart(input);
    queries.push(input.QueryString);
    const id = `q-${queries.length}-0000-0000`;
    const rows = /^SELECT/.test(input.QueryString) ? await rowsFor(input.QueryString) : [];
    const header = rows.length > 0 || /^SELECT/.test(input.QueryString) ? [{ Data: outputColumns().map((_, i) => ({ VarCharValue: outputAlias(i) })) }] : [];
    results.set(id, [...header, ...rows.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) }))]);
    return { QueryExecutionId: id };
  });
  athena.on(GetQueryExecutionCommand).callsFake((input) => {
    if (!ID.test(input.QueryExecutionId ?? "") || !results.has(input.QueryExecutionId)) throw new AthenaApiError("InvalidRequestException", "QueryExecution not found");
    const n = polls.get(input.QueryExecutionId) ?? 0;
    polls.set(input.QueryExecutionId, n + 1);
    const state = states[Math.min(n, states.length - 1)];
    return { QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: state, ...(state === "SUCCEEDED" ? {} : status) }, Statistics: { DataScannedInBytes: 3 * 1024 ** 3 } } };
  });
  athena.on(GetQueryResultsCommand).callsFake((input) => {
    if (!results.has(input.QueryExecutionId)) throw new AthenaApiError("InvalidRequestException", "QueryExecution not found");
    if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 1000)) throw new AthenaApiError("InvalidRequestException", "MaxResults: 1 to 1000");
    const all = results.get(input.QueryExecutionId)!;
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const end = Math.min(start + Math.min(40, input.MaxResults ?? 1000), all.length);
    return { ResultSet: { Rows: all.slice(start, end) }, ...(end < all.length ? { NextToken: String(end) } : {}) };
  });
  athena.on(StopQueryExecutionCommand).callsFake((input) => {
    if (!results.has(input.QueryExecutionId)) throw new AthenaApiError("InvalidRequestException", "QueryExecution not found");
    return {};
  });
  return { athena, client, queries, sleeps: [] };
}

describe("replay --engine athena against an Athena stub", function () {
  this.timeout(120_000);
  let conn: DuckDBConnection;
  let dir: string;
  const sources = [...stratusRecords(), ...pantherRecords(), ...constructedRecords(), ...breakRecords()].filter((s) => unreadableByTable(s.record as Record<string, unknown>) === null);
  const records = sources.map((s) => s.record as Record<string, unknown>);
  /** _idx of the records served, in the order served. */
  let served: number[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "athena-replay-"));
    const file = path.join(dir, "table.jsonl");
    fs.writeFileSync(file, records.map((r, i) => JSON.stringify({ ...r, _idx: i })).join("\n") + "\n");
    conn = await (await DuckDBInstance.create(":memory:")).connect();
    await conn.run(`CREATE VIEW org_trail AS SELECT *, recipientAccountId AS account, awsRegion AS region, replace(substr(eventTime, 1, 10), '-', '/') AS "timestamp"
      FROM read_json('${file}', format = 'newline_delimited', columns = ${duckdbColumns().replace(/^\{/, "{'_idx': 'INTEGER', ")})`);
  });

  /** The stub's rows for the engine's exact Trino query: the same query in DuckDB's dialect (plus _idx, to know which records). */
  const rowsFor = (args: AthenaArgs) => async (sql: string) => {
    const o = { database: args.database, table: args.table, since: args.since, until: args.until, accounts: args.accounts, regions: args.regions };
    expect(sql).to.equal(replayQuery(o, "trino"));
    const duck = replayQuery({ ...o, database: undefined }, "duckdb").replace(/^SELECT\n/, "SELECT _idx,\n").replace(/ORDER BY "eventtime", "eventid"$/, `ORDER BY "eventtime", "eventid", _idx`);
    const rows = (await conn.runAndReadAll(duck)).getRows();
    served = rows.map((r) => Number(r[0]));
    return rows.map((r) => r.slice(1).map((v) => (v === null ? null : String(v))));
  };

  async function engine(argv: string[], s?: Stub): Promise<{ code: number; out: string; err: string; stub: Stub }> {
    const args = parseAthenaArgs(argv);
    const st = s ?? stub(rowsFor(args));
    let out = "";
    let err = "";
    const code = await athenaReplay(args, (x) => (out += x), (x) => (err += x), { client: st.client, query: { sleep: async (ms) => void st.sleeps.push(ms) } });
    return { code, out, err, stub: st };
  }

  async function local(argv: string[]): Promise<{ code: number; out: string }> {
    const file = path.join(dir, "selected.jsonl");
    fs.writeFileSync(file, served.map((i) => JSON.stringify(records[i])).join("\n") + "\n");
    let out = "";
    const code = await replay(parseReplayArgs([file, ...argv]), (x) => (out += x), () => undefined);
    return { code, out };
  }

  it("--json: byte for byte a local replay of the records the query selected", async () => {
    const a = await engine([...BASE, "--json"]);
    expect(a.code).to.equal(0);
    expect(served.length).to.be.greaterThan(50);
    const l = await local(["--json"]);
    expect(a.out).to.equal(l.out);
    expect(a.out.trim().split("\n").filter((x) => JSON.parse(x).kind === "deny").length).to.be.greaterThan(40);
    expect(a.err).to.match(/^athena: query q-1-0000-0000 scanned 3072\.0 MB \(about \$0\.0146 at list price\)\n/);
  });

  it("--stack: the deployed coverage marks findings as a local replay with --stack does", async () => {
    const args = parseAthenaArgs([...BASE, "--json", "--stack", "prod"]);
    const st = stub(rowsFor(args));
    let out = "";
    const code = await athenaReplay(args, (x) => (out += x), () => undefined, { client: st.client, query: { sleep: async () => undefined }, coverageOf: stackCoverage });
    expect(code).to.equal(0);
    expect(out).to.equal((await local(["--json", "--stack", "prod"])).out);
    expect(out).to.contain('"unseenBecause":"data-event"');
  });

  it("the human report: the same text as a local replay of those records", async () => {
    const a = await engine([...BASE, "--trusted-cidr", "10.0.0.0/8"]);
    const l = await local(["--trusted-cidr", "10.0.0.0/8"]);
    expect(a.out).to.equal(l.out);
    expect(a.out).to.contain("Denies with a least-privilege fix");
  });

  it("sends one StartQueryExecution with the workgroup, output location, database and an idempotency token; polls with backoff; pages GetQueryResults", async () => {
    const a = await engine([...BASE, "--catalog", "AwsDataCatalog", "--json"]);
    const start = a.stub.athena.commandCalls(StartQueryExecutionCommand);
    expect(start).to.have.length(1);
    const input = start[0].args[0].input;
    expect(input.WorkGroup).to.equal("trailwatch");
    expect(input.ResultConfiguration).to.deep.equal({ OutputLocation: "s3://athena-results-111122223333/replay/" });
    expect(input.QueryExecutionContext).to.deep.equal({ Database: "security", Catalog: "AwsDataCatalog" });
    expect(input.ClientRequestToken).to.match(/^trailwatch-replay-[0-9a-f-]{36}$/);
    expect(a.stub.athena.commandCalls(GetQueryExecutionCommand)).to.have.length(3);
    expect(a.stub.sleeps).to.deep.equal([500, 1000]);
    const pages = a.stub.athena.commandCalls(GetQueryResultsCommand);
    expect(pages.length).to.equal(Math.ceil((served.length + 1) / 40));
    expect(pages.every((p) => p.args[0].input.MaxResults === 1000)).to.equal(true);
    expect(pages.slice(1).map((p) => p.args[0].input.NextToken)).to.deep.equal(pages.slice(1).map((_, i) => String((i + 1) * 40)));
  });

  it("backoff doubles up to 5 s; past the deadline the query is stopped and the error says so", async () => {
    const s = stub(async () => [], ["QUEUED", "RUNNING"]);
    const sleeps: number[] = [];
    let now = 0;
    const realNow = Date.now;
    Date.now = () => realNow() + now;
    try {
      const err = await runQuery(s.client, "SELECT 1", { sleep: async (ms) => void (sleeps.push(ms), (now += ms)), timeoutMs: 60_000 }).catch((e) => e);
      expect(err.message).to.match(/^Athena query q-1-0000-0000 still RUNNING after 60 s: stopped$/);
    } finally {
      Date.now = realNow;
    }
    expect(sleeps.slice(0, 6)).to.deep.equal([500, 1000, 2000, 4000, 5000, 5000]);
    expect(s.athena.commandCalls(StopQueryExecutionCommand)[0].args[0].input).to.deep.equal({ QueryExecutionId: "q-1-0000-0000" });
  });

  it("FAILED: the reason, its category and what to check", async () => {
    const s = stub(async () => [], ["RUNNING", "FAILED"], { StateChangeReason: "Access Denied (Service: Amazon S3; Status Code: 403)", AthenaError: { ErrorCategory: 2, ErrorType: 1005 } });
    const err = await runQuery(s.client, "SELECT 1", { sleep: async () => undefined }).catch((e) => e);
    expect(err.message).to.equal(
      "Athena query q-1-0000-0000 FAILED (a user error: the query, the table or permissions): Access Denied (Service: Amazon S3; Status Code: 403): check S3 read on the trail bucket, S3 write on the output location, Glue read on the table, and kms:Decrypt on the trail's key (docs/athena.md)",
    );
    expect(err.state).to.equal("FAILED");
  });

  it("CANCELLED: says who can cancel", async () => {
    const s = stub(async () => [], ["CANCELLED"], { StateChangeReason: "Query exhausted the per-query data usage limit" });
    const err = await runQuery(s.client, "SELECT 1", { sleep: async () => undefined }).catch((e) => e);
    expect(err.message).to.match(/^Athena query q-1-0000-0000 CANCELLED: Query exhausted the per-query data usage limit: cancelled by someone, or by the workgroup's per-query data usage limit$/);
  });

  it("permissions: an AccessDeniedException on StartQueryExecution names the action and the other grants", async () => {
    const s = stub(async () => []);
    s.athena.on(StartQueryExecutionCommand).rejects(new AthenaApiError("AccessDeniedException", "User: arn:aws:iam::111122223333:user/x is not authorized to perform: athena:StartQueryExecution"));
    const err = await runQuery(s.client, "SELECT 1", {}).catch((e) => e);
    expect(err.message).to.match(/^Athena StartQueryExecution: AccessDeniedException: User: .* not authorized .*: the caller needs athena:StartQueryExecution on the workgroup \(and Glue read/);
  });

  it("refuses, without calling Athena, what the API reference refuses", async () => {
    const s = stub(async () => []);
    const err = await runQuery(s.client, "SELECT 1", { workGroup: "bad name!", outputLocation: "/tmp/x" }).catch((e) => e);
    expect(err.message).to.equal('Athena: workgroup: letters, digits, . _ - (1 to 128), found "bad name!"; output location: expected s3://bucket/prefix/, found "/tmp/x"');
    expect(s.athena.calls()).to.have.length(0);
  });

  it("queryRows: NULL is a Datum without VarCharValue, '' stays '', and a header row is dropped only when it is the header", async () => {
    const client = new AthenaClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    const m = mockClient(client);
    m.on(GetQueryResultsCommand).resolves({ ResultSet: { Rows: [{ Data: [{ VarCharValue: "c0" }, { VarCharValue: "c1" }] }, { Data: [{}, { VarCharValue: "" }] }] } });
    const pages: (string | null)[][][] = [];
    for await (const p of queryRows(client, "q-1", ["c0", "c1"])) pages.push(p);
    expect(pages).to.deep.equal([[[null, ""]]]);
    const again: (string | null)[][][] = [];
    for await (const p of queryRows(client, "q-1", ["x", "y"])) again.push(p);
    expect(again[0]).to.have.length(2);
  });

  it("--create-table runs the DDL first, then the query", async () => {
    const argv = [...BASE, "--create-table", "--bucket", "s3://org-trail", "--organization-id", "o-abcdefghij", "--table-since", "2025/01/01", "--account", "111122223333", "--region", "us-east-1", "--json"];
    const a = await engine(argv);
    expect(a.stub.queries).to.have.length(2);
    expect(a.stub.queries[0]).to.equal(createTableDdl({ database: "security", table: "org_trail", bucket: "s3://org-trail", organizationId: "o-abcdefghij", accounts: ["111122223333"], regions: ["us-east-1"], since: "2025/01/01" }));
    expect(a.stub.queries[1]).to.match(/^SELECT/);
    expect(a.err).to.match(/^athena: table security\.org_trail created \(or already there\): query q-1-0000-0000\n/);
  });

  it("--print-sql prints the query and calls nothing", async () => {
    const s = stub(async () => []);
    const a = await engine([...BASE, "--print-sql"], s);
    expect(a.code).to.equal(0);
    expect(a.out).to.match(/^SELECT\n/).and.match(/FROM "security"\."org_trail"\nWHERE "timestamp" BETWEEN '1999\/12\/31' AND '2100\/01\/02'/);
    expect(s.athena.calls()).to.have.length(0);
  });

  it("options: clear errors for what is missing or does not fit", () => {
    expect(() => parseAthenaArgs(["--engine", "athena"])).to.throw(/^--engine athena needs --since, --until, --database, --table\n/);
    expect(() => parseAthenaArgs([...BASE, "--changes"])).to.throw(/^--changes is not available with --engine athena/);
    expect(() => parseAthenaArgs([...BASE, "--workers", "2"])).to.throw(/^--workers is not available with --engine athena/);
    expect(() => parseAthenaArgs([...BASE, "logs/"])).to.throw(/^--engine athena reads the Athena table, not paths \(found "logs\/"\)/);
    expect(() => parseAthenaArgs([...BASE, "--create-table"])).to.throw(/^--create-table needs --bucket, --organization-id, --table-since, --account, --region/);
    expect(() => parseAthenaArgs([...BASE, "--since"])).to.throw(/^--since needs a time such as 2026-01-01, 2026-01-01T06:30Z or 36h, found nothing/);
    // The same time syntax as an s3:// replay: a day, a zoned time or an age, as the instants eventTime is written in.
    const days = parseAthenaArgs(["--engine", "athena", "--since", "2026-01-01", "--until", "2026-01-02T06:30+02:00", "--database", "d", "--table", "t"]);
    expect([days.since, days.until]).to.deep.equal(["2026-01-01T00:00:00Z", "2026-01-02T04:30:00Z"]);
    expect(() => parseAthenaArgs(["--engine", "athena", "--since", "2026-01-01T00:00", "--until", "now", "--database", "d", "--table", "t"])).to.throw(/add the time zone/);
    expect(parseAthenaArgs([...BASE, "--account", "111122223333", "--region", "eu-west-1"]).accounts).to.deep.equal(["111122223333"]);
  });

  it("cost at list price: $5 per TB scanned, 10 MB minimum", () => {
    expect(scanCost(0)).to.equal(scanCost(10 * 1024 * 1024));
    expect(scanCost(1024 ** 4)).to.equal("$5.0000");
  });

  it("npm run replay hands --engine athena over (exit 2 on a missing argument, the SQL with --print-sql); without it, replay is unchanged", () => {
    const ts = path.join(ROOT, "node_modules/.bin/ts-node");
    const bad = spawnSync(ts, ["--transpile-only", "cli/replay.ts", "--engine", "athena", "--since", "2026-01-01"], { cwd: ROOT, encoding: "utf8" });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/^--engine athena needs --until, --database, --table\n/);
    const sql = spawnSync(ts, ["--transpile-only", "cli/replay.ts", ...BASE, "--print-sql"], { cwd: ROOT, encoding: "utf8" });
    expect(sql.status, sql.stderr).to.equal(0);
    expect(sql.stdout).to.match(/^SELECT\n/);
  });
});
