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
import { CLOUDTRAIL_FIELDS, createTableDdl, duckdbColumns, recordFromRow, type Field } from "../functions/replay/athenaTable";
import { routeRecord } from "../functions/router";

const SINCE = "2000-01-01T00:00:00Z";
const UNTIL = "2100-01-01T00:00:00Z";
const T = "2024-05-01T10:00:00Z";

/** Records built to break a naive translation: case, missing fields, null, wrong types, strings for booleans. */
export function breakRecords(): { origin: string; record: Record<string, unknown> }[] {
  const base = { eventVersion: "1.09", eventTime: T, awsRegion: "eu-west-1", recipientAccountId: "111122223333", eventID: "b", userIdentity: { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/x", accountId: "111122223333" } };
  const deny = { ...base, eventSource: "s3.amazonaws.com", eventName: "GetObject", errorMessage: "Access Denied" };
  const sg = { ...base, eventSource: "ec2.amazonaws.com", eventName: "AuthorizeSecurityGroupIngress", requestParameters: { groupId: "sg-1", ipPermissions: { items: [{ ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] } }] } }, responseElements: { securityGroupRuleSet: { items: [{ securityGroupRuleId: "sgr-1", groupId: "sg-1", isEgress: false, ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }] } } };
  const list: [string, Record<string, unknown>][] = [
    ["deny exact", { ...deny, errorCode: "AccessDenied" }],
    ["deny prefix", { ...deny, errorCode: "AccessDeniedException" }],
    ["deny lower case (no match)", { ...deny, errorCode: "accessdenied" }],
    ["deny suffix", { ...deny, errorCode: "Client.UnauthorizedOperation" }],
    ["deny suffix wrong case (no match)", { ...deny, errorCode: "Client.unauthorizedoperation" }],
    ["deny suffix then more (no match)", { ...deny, errorCode: "UnauthorizedOperationX" }],
    ["deny % in code (no match)", { ...deny, errorCode: "Access%Denied" }],
    ["deny underscore code (no match)", { ...deny, errorCode: "AuthorizationErro_" }],
    ["deny exact other", { ...deny, errorCode: "AuthorizationError" }],
    ["deny vpce", { ...deny, errorCode: "VpceAccessDenied", eventType: "AwsVpceEvent", eventCategory: "NetworkActivity" }],
    ["deny console sign-in (no match)", { ...deny, errorCode: "AccessDenied", eventType: "AwsConsoleSignIn" }],
    ["deny service event (no match)", { ...deny, errorCode: "AccessDenied", eventType: "AwsServiceEvent" }],
    ["deny unknown eventType = API call", { ...deny, errorCode: "AccessDenied", eventType: "SomethingNew" }],
    ["deny no eventType = API call", { ...deny, errorCode: "AccessDenied", eventType: undefined }],
    ["deny code null (no match)", { ...deny, errorCode: null }],
    ["deny code empty (no match)", { ...deny, errorCode: "" }],
    ["deny no eventSource", { ...deny, errorCode: "AccessDenied", eventSource: undefined }],
    ["deny data event", { ...deny, errorCode: "AccessDenied", managementEvent: false, eventCategory: "Data", readOnly: true }],
    ["sg success", sg],
    ["sg with errorCode (no match)", { ...sg, errorCode: "InvalidPermission.Duplicate" }],
    ["sg errorCode null = absent", { ...sg, errorCode: null }],
    ["sg wrong source case (no match)", { ...sg, eventSource: "EC2.amazonaws.com" }],
    ["sg source without suffix (no match)", { ...sg, eventSource: "ec2" }],
    ["sg source suffix twice (no match)", { ...sg, eventSource: "ec2.amazonaws.com.amazonaws.com" }],
    ["sg event name wrong case (no match)", { ...sg, eventName: "authorizesecuritygroupingress" }],
    ["sg egress", { ...sg, eventName: "AuthorizeSecurityGroupEgress" }],
    ["sg modify", { ...sg, eventName: "ModifySecurityGroupRules" }],
    ["sg revoke (no match)", { ...sg, eventName: "RevokeSecurityGroupIngress" }],
    ["sg readOnly string FALSE", { ...sg, readOnly: "FALSE" }],
    ["sg requestParameters null", { ...sg, requestParameters: null }],
    ["role create", { ...base, eventSource: "iam.amazonaws.com", eventName: "CreateRole", requestParameters: { roleName: "r", assumeRolePolicyDocument: "{}" }, responseElements: { role: { arn: "arn:aws:iam::111122223333:role/r", roleName: "r" } } }],
    ["role denied (deny, not a change)", { ...base, eventSource: "iam.amazonaws.com", eventName: "CreateRole", errorCode: "AccessDenied", errorMessage: "User: x is not authorized to perform: iam:CreateRole" }],
    ["role other service (no match)", { ...base, eventSource: "sts.amazonaws.com", eventName: "CreateRole" }],
    ["resources array", { ...deny, errorCode: "AccessDenied", resources: [{ ARN: "arn:aws:s3:::b/k", type: "AWS::S3::Object" }, { accountId: "111122223333", type: "AWS::S3::Bucket" }] }],
    ["resources empty", { ...deny, errorCode: "AccessDenied", resources: [] }],
    ["no userIdentity", { ...deny, errorCode: "AccessDenied", userIdentity: undefined }],
    ["unicode message", { ...deny, errorCode: "AccessDenied", errorMessage: "Zugriff verweigert ß ǅ 🔒 'quoted' \\ back" }],
  ];
  return list.map(([origin, record]) => ({ origin: `break: ${origin}`, record: JSON.parse(JSON.stringify(record)) }));
}

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

/**
 * Records whose struct or list field (userIdentity, its objects, resources, tlsDetails) is not an object / list of
 * objects: CloudTrail never writes them, and a JSON reader with a schema cannot read them into the table (DuckDB
 * refuses the file; Athena's JsonSerDe fails the row). Replay's boundary reads them without that field. Kept out of
 * the table and counted (a known loss, docs/athena.md).
 */
export function unreadableByTable(record: Record<string, unknown>): string | null {
  const bad = (fields: readonly Field[], value: Record<string, unknown>, at: string): string | null => {
    for (const f of fields) {
      const v = value[f.name];
      if (v === undefined || v === null) continue;
      if (f.kind === "struct") {
        if (typeof v !== "object" || Array.isArray(v)) return `${at}${f.name} is not an object`;
        const inner = bad(f.fields, v as Record<string, unknown>, `${at}${f.name}.`);
        if (inner) return inner;
      } else if (f.kind === "array") {
        if (!Array.isArray(v) || v.some((e) => e !== null && (typeof e !== "object" || Array.isArray(e)))) return `${at}${f.name} is not a list of objects`;
      }
    }
    return null;
  };
  return bad(CLOUDTRAIL_FIELDS, record, "");
}

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

  it("reads every sample record but a few hand-edited Panther ones whose objects are strings", () => {
    const unreadable = all.filter((s) => unreadableByTable(s.record) !== null);
    expect(unreadable.every((s) => s.origin.startsWith("panther:")), unreadable.map((s) => s.origin).join("\n")).to.equal(true);
    expect(unreadable.length).to.be.lessThan(10);
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
