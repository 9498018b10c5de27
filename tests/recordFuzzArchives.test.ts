/**
 * Never crash, never drop, as deployed: mutated real CloudTrail records (tests/fuzz/mutations.ts) through
 * every Lambda that takes a CloudTrail record, exactly as `npm run plan` packs it (its __index.js and bundle), against
 * dynalite, a Secrets Manager stub and a Slack API stub on 127.0.0.1. That the record boundary works in the TypeScript
 * modules says little about the archives: the closure serializer decides what ends up in them.
 */
import { expect } from "chai";
import fc from "fast-check";
import { one, loadHandler, prodPlan } from "./planFixture";
import { createTable, startAwsQueryStub, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { allRecords } from "./sharedData";
import { checkRecord } from "../functions/cloudtrail";
import { analyzeDeny } from "../functions/deny/analyze";
import { jsonText, mutate, mutation, type Json } from "./fuzz/mutations";
import { KNOWN_FAILING } from "./fuzz/knownFailing";

const BOT_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:fuzz-bot";
type Handler = (event: unknown) => Promise<any>;

describe("every Lambda that takes a CloudTrail record, from the plan's archives, survives mutated records", function () {
  this.timeout(180_000);
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startSlackStub>>;
  let aws: Awaited<ReturnType<typeof startAwsQueryStub>>;
  const handlers: Record<string, Handler> = {};
  const FUNCTIONS = ["deny-advisor-processor", "deny-advisor-roles", "scp-watch-counter", "scp-watch-windows", "sg-bot-detect"];

  // The records these functions care about (denies, security-group, role and Organizations events), mutated, seeded.
  const pool = allRecords()
    .map((r) => r.record)
    .filter((r) => /^AccessDenied|UnauthorizedOperation$/.test(r.errorCode ?? "") || ["ec2.amazonaws.com", "iam.amazonaws.com", "organizations.amazonaws.com"].includes(r.eventSource ?? ""));
  const mutated: Json[] = fc.sample(fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 })), { seed: 2019, numRuns: 60 }).map(([i, ms]) => mutate(pool[i % pool.length] as Json, ms));

  /** Records whose deny analysis fails inside the deny analysis (KNOWN_FAILING): left out here, listed by the property test. */
  const known = new Set<number>();

  before(async () => {
    const plan = prodPlan();
    ddb = await startDynalite();
    secrets = await startSecretsStub({ [BOT_SECRET_ID]: "xoxb-test-token" });
    slack = await startSlackStub();
    aws = await startAwsQueryStub({});
    for (const t of ["findings", "roles", "scp-windows", "reviews"]) await createTable(ddb.client, t, t === "roles" ? "roleArn" : "pk");
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url, STS: aws.url, SNS: aws.url, ORGANIZATIONS: aws.url, EC2: aws.url });
    for (const fn of FUNCTIONS) Object.assign(process.env, one(plan, "aws:lambda/function:Function", fn).inputs.environment.variables);
    Object.assign(process.env, { FINDINGS_TABLE: "findings", ROLES_TABLE: "roles", SCP_WATCH_TABLE: "scp-windows", REVIEW_TABLE: "reviews", SLACK_BOT_TOKEN_SECRET: BOT_SECRET_ID, SLACK_API_URL: slack.apiUrl });
    for (const fn of FUNCTIONS) handlers[fn] = loadHandler(plan, fn);
    for (let i = 0; i < mutated.length; i++) {
      const c = checkRecord(mutated[i]);
      if (!c.ok) continue;
      try {
        await analyzeDeny(c.record);
      } catch (e) {
        if (!KNOWN_FAILING.some((k) => k.matches(e as Error))) throw e;
        known.add(i);
      }
    }
  });
  after(async () => {
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), aws?.close()]);
  });

  /** Run with console.log and stdout captured (the handlers log JSON lines and EMF): what they wrote, parsed. */
  async function captured<T>(f: () => Promise<T>): Promise<{ result: T; logs: any[] }> {
    const logs: any[] = [];
    const log = console.log;
    const write = process.stdout.write.bind(process.stdout);
    const keep = (s: string) => s.split("\n").filter((l) => l.trim()).forEach((l) => logs.push(JSON.parse(l)));
    console.log = (...a: unknown[]) => keep(a.map(String).join(" "));
    (process.stdout as any).write = (chunk: unknown) => (keep(String(chunk)), true);
    try {
      return { result: await f(), logs };
    } finally {
      console.log = log;
      (process.stdout as any).write = write;
    }
  }

  it("the deny processor fails only what is no record (bad input, kept for the dead-letter queue), and logs no internal error", async () => {
    const ids = mutated.map((_, i) => `m${i}`);
    const records = mutated.map((m, i) => ({ messageId: ids[i], body: jsonText({ version: "0", id: ids[i], "detail-type": "AWS API Call via CloudTrail", source: "aws.x", account: "1", time: "", region: "", resources: [], detail: m }) })).filter((_, i) => !known.has(i));
    const { result, logs } = await captured(() => handlers["deny-advisor-processor"]({ Records: records }));
    const notRecords = records.filter((r) => !checkRecord(JSON.parse(r.body)).ok).map((r) => r.messageId);
    // The sample holds both: records with fields to ignore, and values that are no record at all.
    expect(notRecords.length).to.be.greaterThan(0);
    expect(mutated.filter((m) => { const c = checkRecord(m); return c.ok && c.ignored.length > 0; }).length).to.be.greaterThan(10);
    expect(logs.filter((l) => l.level === "ERROR" && /internal error/.test(l.message))).to.deep.equal([]);
    expect(result.batchItemFailures.map((f: { itemIdentifier: string }) => f.itemIdentifier).sort()).to.deep.equal(notRecords.sort());
    expect(logs.filter((l) => l.level === "WARN" && /^bad input/.test(l.message)).map((l) => l.messageId).sort()).to.deep.equal(notRecords.sort());
  });

  for (const fn of ["deny-advisor-roles", "scp-watch-counter", "scp-watch-windows", "sg-bot-detect"])
    it(`${fn} takes every mutated record without throwing (a throw is a retried, then failed, invocation)`, async () => {
      for (let i = 0; i < mutated.length; i++) {
        if (known.has(i) && fn === "scp-watch-counter") continue;
        const event = { version: "0", id: `e${i}`, "detail-type": "AWS API Call via CloudTrail", source: "aws.x", account: "1", time: "", region: "", resources: [], detail: mutated[i] };
        try {
          await captured(() => handlers[fn](event));
        } catch (e) {
          throw new Error(`${fn} on mutated record ${i}: ${(e as Error).stack}`);
        }
      }
    });
});
