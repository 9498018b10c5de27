/**
 * Property: for any valid pattern over the fields and operators the translation supports, the SQL (run by DuckDB)
 * selects exactly the records the matcher matches, over records drawn to collide with the patterns' values (case,
 * LIKE metacharacters, backslashes, ß/SS, missing and null fields, strings for booleans, arrays of objects).
 */
import { expect } from "chai";
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { checkRecord, toEnvelope } from "../functions/cloudtrail";
import { compilePattern, validatePattern, type EventPattern } from "../functions/eventPattern";
import { conditionSql, patternCondition } from "../functions/replay/athenaSql";
import { duckdbColumns } from "../functions/replay/athenaTable";

const WORDS = ["AccessDenied", "accessdenied", "ACCESSDENIED", "AccessDeniedException", "Client.UnauthorizedOperation", "Access", "Operation", "A%B", "AxB", "A_B", "x\\y", "ß", "SS", "ss", "ec2.amazonaws.com", "EC2.amazonaws.com", "ec2", "aws.ec2", "iam.amazonaws.com", "Role", "AssumedRole", "IAMUser", "it's", ""];
const word = fc.constantFrom(...WORDS);
const WILDCARDS = ["*Denied", "Access*", "*", "A*B", "*\\**", "x\\\\y", "*%*", "*_*", "*.amazonaws.com", "*ss*", "*'*"];
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });

const record = fc.record({
  eventName: fc.constantFrom("GetObject", "AuthorizeSecurityGroupIngress", "CreateRole", "Role", "role"),
  eventTime: fc.constant("2024-05-01T10:00:00Z"),
  errorCode: maybe(fc.oneof(word, fc.constant(null))),
  errorMessage: maybe(fc.constantFrom("Access Denied", "not authorized by a service control policy", "x\\y", "it's")),
  eventSource: maybe(fc.constantFrom("ec2.amazonaws.com", "EC2.amazonaws.com", "iam.amazonaws.com", "ec2", "ec2.amazonaws.com.amazonaws.com", "")),
  eventType: maybe(fc.constantFrom("AwsApiCall", "AwsConsoleSignIn", "AwsVpceEvent", "AwsServiceEvent", "Other")),
  readOnly: maybe(fc.constantFrom<unknown>(true, false, "FALSE", "true", null)),
  managementEvent: maybe(fc.boolean()),
  recipientAccountId: maybe(fc.constantFrom("111122223333", "444455556666")),
  awsRegion: maybe(fc.constantFrom("us-east-1", "eu-west-1")),
  userIdentity: maybe(fc.record({ type: maybe(word), accountId: maybe(fc.constantFrom("111122223333", "999988887777")), sessionContext: maybe(fc.record({ sessionIssuer: maybe(fc.record({ type: maybe(word) }, { requiredKeys: [] })) }, { requiredKeys: [] })) }, { requiredKeys: [] })),
  resources: maybe(fc.array(fc.record({ ARN: maybe(word), type: maybe(word) }, { requiredKeys: [] }), { maxLength: 3 })),
}, { requiredKeys: ["eventName", "eventTime"] });

const stringMatcher = fc.oneof(
  word,
  word.map((w) => ({ prefix: w })),
  word.map((w) => ({ suffix: w })),
  word.map((w) => ({ "equals-ignore-case": w })),
  word.map((w) => ({ prefix: { "equals-ignore-case": w } })),
  word.map((w) => ({ suffix: { "equals-ignore-case": w } })),
  fc.constantFrom(...WILDCARDS).map((w) => ({ wildcard: w })),
  fc.boolean().map((b) => ({ exists: b })),
  fc.oneof(word, fc.array(word, { minLength: 1, maxLength: 3 })).map((w) => ({ "anything-but": w })),
  fc.constantFrom("prefix", "suffix", "equals-ignore-case").chain((op) => fc.oneof(word, fc.array(word, { minLength: 1, maxLength: 2 })).map((w) => ({ "anything-but": { [op]: w } }))),
  fc.constantFrom(...WILDCARDS).map((w) => ({ "anything-but": { wildcard: w } })),
  fc.constantFrom<unknown>(true, false, null, 5),
);
const boolMatcher = fc.oneof(fc.boolean(), fc.boolean().map((b) => ({ exists: b })), fc.constantFrom("false", "true"), fc.constant({ "anything-but": ["true"] }));
const matchers = (m: fc.Arbitrary<unknown>) => fc.array(m, { minLength: 1, maxLength: 3 });

/** At most `n` of an object's keys: a pattern ANDing every field would select almost nothing. */
const atMost = (n: number) => (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).slice(0, n));
const detail = fc.record(
  {
    errorCode: matchers(stringMatcher),
    errorMessage: matchers(stringMatcher),
    eventSource: matchers(stringMatcher),
    eventName: matchers(stringMatcher),
    readOnly: matchers(boolMatcher),
    managementEvent: matchers(boolMatcher),
    userIdentity: fc.record({ type: matchers(stringMatcher), sessionContext: fc.record({ sessionIssuer: fc.record({ type: matchers(stringMatcher) }) }) }, { requiredKeys: [] }),
    resources: fc.record({ ARN: matchers(stringMatcher), type: matchers(stringMatcher) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
).map(atMost(2));
const pattern = fc
  .record(
    {
      "detail-type": matchers(fc.oneof(fc.constantFrom("AWS API Call via CloudTrail", "AWS Network Activity Event via CloudTrail", "AWS Console Sign In via CloudTrail"), stringMatcher)),
      source: matchers(fc.oneof(fc.constantFrom("aws.ec2", "aws.iam", "aws.", "aws.EC2"), stringMatcher)),
      account: matchers(fc.oneof(fc.constantFrom("111122223333", "999988887777", ""), stringMatcher)),
      detail: fc.oneof(detail, fc.tuple(detail, detail).map(([a, b]) => ({ $or: [a, b] }))),
    },
    { requiredKeys: [] },
  )
  .map((p) => ({ ...atMost(1)(Object.fromEntries(Object.entries(p).filter(([k]) => k !== "detail"))), ...(p.detail ? { detail: p.detail } : {}) }))
  // Empty objects are not patterns (validatePattern refuses them): drop them before validating.
  .map((p) => JSON.parse(JSON.stringify(p, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0 ? undefined : v))) ?? {});

describe("replay --engine athena: any pattern, any record (fast-check, DuckDB)", function () {
  this.timeout(180_000);
  let conn: DuckDBConnection;
  const records = fc.sample(record, { numRuns: 400, seed: 22 }) as Record<string, unknown>[];

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "athena-prop-"));
    const file = path.join(dir, "records.jsonl");
    fs.writeFileSync(file, records.map((r, i) => JSON.stringify({ ...r, _idx: i })).join("\n") + "\n");
    conn = await (await DuckDBInstance.create(":memory:")).connect();
    await conn.run(`CREATE VIEW t AS SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = ${duckdbColumns().replace(/^\{/, "{'_idx': 'INTEGER', ")})`);
  });

  it("selects exactly the records the matcher matches", async () => {
    let tried = 0;
    let nonTrivial = 0;
    await fc.assert(
      fc.asyncProperty(pattern, async (p) => {
        fc.pre(Object.keys(p).length > 0 && validatePattern(p).length === 0);
        tried++;
        const test = compilePattern(p as EventPattern);
        const want = records.map((r, i) => {
          const c = checkRecord(r);
          return c.ok && test(toEnvelope(c.record)) ? i : -1;
        }).filter((i) => i >= 0);
        const sql = conditionSql(patternCondition(p as EventPattern), "duckdb");
        const got = (await conn.runAndReadAll(`SELECT _idx FROM t WHERE ${sql} ORDER BY _idx`)).getRows().map((r) => Number(r[0]));
        if (want.length > 0 && want.length < records.length) nonTrivial++;
        expect(got, `${JSON.stringify(p)}\n${sql}`).to.deep.equal(want);
      }),
      { numRuns: 300, seed: 2222 },
    );
    // The property can fail: most patterns tried select some records and leave out others.
    expect(tried).to.be.greaterThan(150);
    expect(nonTrivial).to.be.greaterThan(tried / 4);
  });
});
