/**
 * The replay query's WHERE clause, run by DuckDB over the shipped samples and over records built to break it, selects
 * exactly the records the patterns match (functions/eventPattern.ts's matcher on the record replay's boundary
 * reads), and the rows it returns rebuild records that give the same findings.
 *
 * Why DuckDB: it is an embedded engine (an npm package, no server, no JVM), its read_json takes an explicit column
 * schema, so it reads CloudTrail JSON into the same columns and types as the Athena table (STRING for booleans and
 * for nested JSON, structs, an array of structs), and its SQL has the constructs the query needs (LIKE ... ESCAPE,
 * lambdas over lists, CASE, coalesce). SQLite (via better-sqlite3) has no struct or list types and would test a
 * different query shape; running Trino itself needs a JVM and a server, not available here. The dialect differences
 * (regexp_like vs regexp_matches, any_match/cardinality vs list_filter/len, the JSON of an array of structs) are
 * rendered from one model (athenaSql.ts) and both strings are checked below.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { constructedRecords, pantherRecords, stratusRecords } from "./sharedData";
import { checkRecord, toEnvelope, type CloudTrailRecord } from "../functions/cloudtrail";
import { compilePattern, type EventPattern } from "../functions/eventPattern";
import { patternCondition, conditionSql, replayPatterns, replayQuery, replayWhere, UntranslatablePattern } from "../functions/replay/athenaSql";
import { createTableDdl, duckdbColumns, recordFromRow } from "../functions/replay/athenaTable";
import { routeRecord } from "../functions/router";
import { forwardedStreams } from "../components/forwarderTemplate";
import { T, breakRecords, unreadableByTable } from "./athenaRecords";

const SINCE = "2000-01-01T00:00:00Z";
const UNTIL = "2100-01-01T00:00:00Z";

/** Patterns beyond today's replay patterns, to exercise every translated operator against the matcher. */
const OPERATOR_PATTERNS: { name: string; pattern: EventPattern }[] = [
  { name: "wildcard", pattern: { detail: { errorMessage: [{ wildcard: "*not authorized*" }, { wildcard: "Access*Denied" }] } } },
  { name: "wildcard-escapes", pattern: { detail: { errorMessage: [{ wildcard: "*'quoted' \\\\ back" }] } } },
  { name: "ignore-case", pattern: { detail: { errorCode: [{ "equals-ignore-case": "accessdenied" }, { prefix: { "equals-ignore-case": "client." } }, { suffix: { "equals-ignore-case": "OPERATION" } }] } } },
  { name: "anything-but", pattern: { source: [{ "anything-but": ["aws.s3", "aws.ec2"] }], detail: { errorCode: [{ "anything-but": { prefix: "Access" } }] } } },
  { name: "anything-but-forms", pattern: { detail: { eventName: [{ "anything-but": { suffix: "Role" } }], eventSource: [{ "anything-but": { wildcard: "*s3*" } }], errorCode: [{ "anything-but": { "equals-ignore-case": ["accessdenied"] } }] } } },
  { name: "booleans", pattern: { detail: { readOnly: [false], managementEvent: [true] } } },
  { name: "boolean-anything-but", pattern: { detail: { readOnly: [{ "anything-but": ["true"] }], errorCode: [{ prefix: "Access" }] } } },
  { name: "boolean-exists", pattern: { detail: { readOnly: [{ exists: false }], eventCategory: [{ exists: true }] } } },
  { name: "string-never-bool", pattern: { detail: { readOnly: ["false", true], errorCode: [true, 5, null, "AccessDenied", { exists: false }] } } },
  { name: "nested", pattern: { account: [{ "anything-but": "111122223333" }], region: [{ prefix: "us-" }], detail: { userIdentity: { type: ["AssumedRole"], sessionContext: { sessionIssuer: { type: ["Role"] } } } } } },
  { name: "nested-absent", pattern: { detail: { userIdentity: { invokedBy: [{ exists: false }] }, errorCode: [{ exists: true }] } } },
  { name: "array-consistency", pattern: { detail: { resources: { type: ["AWS::S3::Object"], ARN: [{ prefix: "arn:aws:s3:::" }] } } } },
  { name: "array-absent", pattern: { detail: { resources: { ARN: [{ exists: false }] }, errorCode: [{ prefix: "Access" }] } } },
  { name: "or", pattern: { "detail-type": ["AWS API Call via CloudTrail"], detail: { $or: [{ errorCode: [{ exists: false }], eventName: [{ prefix: "Create" }] }, { errorCode: ["AccessDenied"] }] } } },
];

async function loadTable(conn: DuckDBConnection, records: Record<string, unknown>[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "athena-sql-"));
  const file = path.join(dir, "records.jsonl");
  fs.writeFileSync(file, records.map((r, i) => JSON.stringify({ ...r, _idx: i })).join("\n") + "\n");
  const columns = duckdbColumns().replace(/^\{/, "{'_idx': 'INTEGER', ");
  // The partition columns as the organization trail's folders give them: the account and region that recorded the
  // event, the event's day (delivery may be a later day; the query allows one day of margin).
  await conn.run(`CREATE OR REPLACE VIEW cloudtrail AS SELECT *, recipientAccountId AS account, awsRegion AS region, replace(substr(eventTime, 1, 10), '-', '/') AS "timestamp"
    FROM read_json('${file}', format = 'newline_delimited', columns = ${columns})`);
  return file;
}

/** What replay's matcher says, on the record replay's boundary reads (and only inside the time range). */
function reference(patterns: { pattern: EventPattern }[], record: Record<string, unknown>, timed = true): boolean {
  const c = checkRecord(record);
  if (!c.ok) return false;
  const t = c.record.eventTime;
  if (timed && (typeof t !== "string" || t < SINCE || t >= UNTIL)) return false;
  const env = toEnvelope(c.record);
  return patterns.some((p) => compilePattern(p.pattern)(env));
}

describe("replay --engine athena: the SQL selects what the patterns match (DuckDB over the samples)", function () {
  this.timeout(120_000);
  let conn: DuckDBConnection;
  const all = [...stratusRecords(), ...pantherRecords(), ...constructedRecords(), ...breakRecords()] as { origin: string; record: Record<string, unknown> }[];
  const sources = all.filter((s) => unreadableByTable(s.record) === null);
  const records = sources.map((s) => s.record);

  it("reads every sample record but one hand-edited Panther record whose resources are strings", () => {
    const unreadable = all.filter((s) => unreadableByTable(s.record) !== null);
    // A hand-edited Panther test whose resources list holds a Python-printed string (docs/athena.md says so).
    expect(unreadable.map((s) => s.origin)).to.deep.equal(['panther:109 rules/aws_cloudtrail_rules/aws_ec2_many_passwors_read_attempts.yml "Unrelated Event"']);
  });

  before(async () => {
    conn = await (await DuckDBInstance.create(":memory:")).connect();
    await loadTable(conn, records);
  });

  async function selected(where: string): Promise<number[]> {
    const r = await conn.runAndReadAll(`SELECT _idx FROM cloudtrail WHERE ${where} ORDER BY _idx`);
    return r.getRows().map((row) => Number(row[0]));
  }

  const describeMismatch = (got: number[], want: number[]) => {
    const g = new Set(got);
    const w = new Set(want);
    return [...want.filter((i) => !g.has(i)).map((i) => `missing ${sources[i].origin}`), ...got.filter((i) => !w.has(i)).map((i) => `extra ${sources[i].origin}`)].join("\n");
  };

  it("the replay patterns: the same records as the matcher, sample and constructed", async () => {
    const want = records.map((r, i) => (reference(replayPatterns(), r) ? i : -1)).filter((i) => i >= 0);
    const got = await selected(replayWhere({ table: "cloudtrail", since: SINCE, until: UNTIL }, "duckdb"));
    expect(describeMismatch(got, want)).to.equal("");
    // The test can fail: it selects some records and leaves out most.
    expect(want.length).to.be.greaterThan(50);
    expect(want.length).to.be.lessThan(records.length / 2);
  });

  for (const p of replayPatterns().concat(OPERATOR_PATTERNS)) {
    it(`pattern ${p.name}: the same records as the matcher`, async () => {
      const want = records.map((r, i) => (reference([p], r, false) ? i : -1)).filter((i) => i >= 0);
      const got = await selected(conditionSql(patternCondition(p.pattern, p.name), "duckdb"));
      expect(describeMismatch(got, want)).to.equal("");
      expect(want.length, "the pattern matches some records").to.be.greaterThan(0);
    });
  }

  it("the time range, accounts and regions narrow the selection as the matcher plus those filters would", async () => {
    const since = "2024-05-01T00:00:00Z";
    const until = "2024-05-02T00:00:00Z";
    const where = replayWhere({ table: "cloudtrail", since, until, accounts: ["111122223333"], regions: ["eu-west-1"] }, "duckdb");
    const want = records
      .map((r, i) => {
        const c = checkRecord(r);
        const t = c.ok ? c.record.eventTime : undefined;
        return c.ok && typeof t === "string" && t >= since && t < until && c.record.recipientAccountId === "111122223333" && c.record.awsRegion === "eu-west-1" && reference(replayPatterns(), r) ? i : -1;
      })
      .filter((i) => i >= 0);
    expect(describeMismatch(await selected(where), want)).to.equal("");
    expect(want.length).to.be.greaterThan(10);
  });

  it("rows rebuild records that give the same findings as the records themselves", async () => {
    const sql = replayQuery({ table: "cloudtrail", since: SINCE, until: UNTIL }, "duckdb");
    const rows = (await conn.runAndReadAll(sql)).getRows().map((row) => row.map((v) => (v === null ? null : String(v))));
    const originals = records.filter((r) => reference(replayPatterns(), r)).map((r) => checkRecord(r)).map((c) => (c.ok ? c.record : null));
    expect(rows.length).to.equal(originals.length);
    const byId = new Map<string, CloudTrailRecord[]>();
    for (const o of originals) if (o) byId.set(`${o.eventTime}|${o.eventID}|${o.eventName}|${o.errorCode}`, [...(byId.get(`${o.eventTime}|${o.eventID}|${o.eventName}|${o.errorCode}`) ?? []), o]);
    let compared = 0;
    for (const row of rows) {
      const rebuilt = checkRecord(recordFromRow(row));
      expect(rebuilt.ok).to.equal(true);
      if (!rebuilt.ok) continue;
      const r = rebuilt.record;
      const candidates = byId.get(`${r.eventTime}|${r.eventID}|${r.eventName}|${r.errorCode}`) ?? [];
      const got = JSON.stringify(await routeRecord(r, { trustedCidrs: [] }));
      const want = await Promise.all(candidates.map(async (o) => JSON.stringify(await routeRecord(o, { trustedCidrs: [] }))));
      expect(want, `findings of ${r.eventID} ${r.eventName}`).to.include(got);
      compared++;
    }
    expect(compared).to.equal(rows.length);
  });

  it("ORDER BY gives the rows in eventTime, eventID order", async () => {
    const sql = replayQuery({ table: "cloudtrail", since: SINCE, until: UNTIL }, "duckdb");
    const rows = (await conn.runAndReadAll(sql)).getRows().map((row) => recordFromRow(row.map((v) => (v === null ? null : String(v)))));
    const keys = rows.map((r) => `${r.eventTime}`);
    expect(keys).to.deep.equal([...keys].sort());
  });
});

describe("replay --engine athena: the patterns", () => {
  it("are the ones the member forwarders deploy (the same objects), so the query selects what the deployed rules route", () => {
    const deployed = forwardedStreams({ changes: true }).map((s) => s.pattern);
    for (const p of replayPatterns()) expect(deployed, p.name).to.include(p.pattern);
  });
});

describe("replay --engine athena: the two dialects", () => {
  const where = (d: "trino" | "duckdb") => replayWhere({ table: "t", since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z", accounts: ["111122223333"], regions: ["us-east-1"] }, d);

  it("partitions: one day of margin on the day partition, exact eventtime bounds, accounts and regions", () => {
    for (const d of ["trino", "duckdb"] as const) {
      const w = where(d);
      expect(w).to.include(`"timestamp" BETWEEN '2025/12/31' AND '2026/02/02'`);
      expect(w).to.include(`"eventtime" >= '2026-01-01T00:00:00Z'`);
      expect(w).to.include(`"eventtime" < '2026-02-01T00:00:00Z'`);
      expect(w).to.include(`"account" IN ('111122223333')`);
      expect(w).to.include(`"region" IN ('us-east-1')`);
    }
  });

  it("differ only where the engines do: regexp and list functions, the JSON of resources", () => {
    const p = { detail: { errorCode: [{ "equals-ignore-case": "x" }], resources: { type: ["AWS::S3::Object"] } } };
    const trino = conditionSql(patternCondition(p), "trino");
    const duck = conditionSql(patternCondition(p), "duckdb");
    expect(trino).to.include("regexp_like(").and.include("any_match(").and.not.include("list_filter");
    expect(duck).to.include("regexp_matches(").and.include("list_filter(").and.not.include("any_match");
    expect(trino.replace("regexp_like", "regexp_matches").replace(/coalesce\(any_match\(([^,]+), e -> (.*)\), FALSE\)$/, "")).to.be.a("string");
    const tq = replayQuery({ table: "t", database: "db", since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z" }, "trino");
    expect(tq).to.include(`FROM "db"."t"`);
    expect(tq).to.include(`json_format(CAST(transform("resources", e -> MAP(ARRAY['ARN', 'accountId', 'type'], ARRAY[e."arn", e."accountid", e."type"])) AS JSON))`);
    expect(replayQuery({ table: "t", since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z" }, "duckdb")).to.include(`to_json("resources")`);
    // Everything else is the same text.
    const strip = (s: string) => s.replace(/regexp_(like|matches)/g, "RE");
    expect(strip(conditionSql(patternCondition({ detail: { errorCode: [{ "equals-ignore-case": "x" }] } }), "trino"))).to.equal(strip(conditionSql(patternCondition({ detail: { errorCode: [{ "equals-ignore-case": "x" }] } }), "duckdb")));
  });

  it("refuses what it cannot translate, naming the path", () => {
    const bad: [EventPattern, RegExp][] = [
      [{ detail: { requestParameters: { groupId: ["sg-1"] } } }, /pattern\.detail\.requestParameters: .*JSON text/],
      [{ detail: { errorCode: [{ numeric: [">", 1] }] } }, /pattern\.detail\.errorCode: the numeric operator/],
      [{ detail: { sourceIPAddress: [{ cidr: "10.0.0.0/8" }] } }, /pattern\.detail\.sourceIPAddress: the cidr operator/],
      [{ detail: { somethingNew: ["x"] } }, /pattern\.detail\.somethingNew: the CloudTrail table has no column/],
      [{ detail: { eventname: ["x"] } }, /pattern\.detail\.eventname: the CloudTrail table has no column/],
      [{ detail: { userIdentity: ["x"] } }, /userIdentity: userIdentity is an object/],
      [{ resources: ["arn:x"] }, /pattern\.resources: the envelope field resources is not translated/],
      [{ detail: { errorCode: [] } } as unknown as EventPattern, /not a valid event pattern/],
    ];
    for (const [p, re] of bad) expect(() => patternCondition(p), JSON.stringify(p)).to.throw(UntranslatablePattern, re);
  });

  it("refuses a bad time range, account or region", () => {
    expect(() => replayWhere({ table: "t", since: "2026-01-01", until: "2026-02-01T00:00:00Z" }, "trino")).to.throw(/since: expected yyyy-MM-ddTHH:mm:ssZ, found "2026-01-01"/);
    expect(() => replayWhere({ table: "t", since: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z" }, "trino")).to.throw(/is not before until/);
    expect(() => replayWhere({ table: "t", since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z", accounts: ["1234"] }, "trino")).to.throw(/accounts: expected 12-digit ids, found \["1234"\]/);
  });

  it("the DDL: partition projection on account, region and day over the organization's prefix", () => {
    const ddl = createTableDdl({ database: "security", table: "org_trail", bucket: "s3://org-trail-logs", organizationId: "o-abcdefghij", accounts: ["111122223333", "444455556666"], regions: ["us-east-1", "eu-west-1"], since: "2025/01/01" });
    expect(ddl).to.include("LOCATION 's3://org-trail-logs/AWSLogs/o-abcdefghij/'");
    expect(ddl).to.include("'storage.location.template'='s3://org-trail-logs/AWSLogs/o-abcdefghij/${account}/CloudTrail/${region}/${timestamp}'");
    expect(ddl).to.include("'projection.account.values'='111122223333,444455556666'");
    expect(ddl).to.include("'projection.timestamp.range'='2025/01/01,NOW'");
    expect(ddl).to.include("'projection.timestamp.format'='yyyy/MM/dd'");
    expect(ddl).to.include("readonly STRING");
    expect(ddl).to.include("resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>");
    expect(ddl).to.include("ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'");
    expect(ddl).to.include("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'");
    expect(() => createTableDdl({ database: "security", table: "t", bucket: "bucket", organizationId: "o-1", accounts: [], regions: ["x"], since: "2025-01-01" })).to.throw(
      /bucket: expected s3:\/\/bucket.*organization id: expected o-.*accounts: expected 12-digit.*regions: expected.*since: expected yyyy\/MM\/dd/,
    );
  });
});
