/**
 * Forwarder health against the organization's account list: the quiet check only knows forwarders that sent at least
 * one heartbeat, so an account whose stack instance never deployed (or a region it never reached) would never be
 * missed. The heartbeat function reads the accounts under the StackSet targets from Organizations
 * (ListAccountsForParent / ListOrganizationalUnitsForParent, JSON 1.1; callable by a delegated administrator:
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html) and counts every
 * expected account/region without a heartbeat with the quiet ones.
 */
import { expect } from "chai";
import * as http from "http";
import type { AddressInfo } from "net";
import { expectedAccounts, handleHeartbeat, neverHeard, type Beat, type HeartbeatStore, type OrganizationReader } from "../functions/heartbeat";
import { json, loadHandler, one, prodPlan } from "./planFixture";
import { createTable, startDynalite, useLocalAwsEnv } from "./localServices";
import { DEFAULT_REGIONS } from "../stacks/config";

const NOW = new Date("2026-11-23T12:00:00Z");
const OLD = "2026-01-01T00:00:00Z";

/** An organization: r-8x1f holds one account and ou-8x1f-aaaa1111, which holds two (one suspended) and a nested OU. */
const TREE: Record<string, { accounts: { Id: string; State: string; JoinedTimestamp: string }[]; ous: string[] }> = {
  "r-8x1f": { accounts: [{ Id: "111111111111", State: "ACTIVE", JoinedTimestamp: OLD }], ous: ["ou-8x1f-aaaa1111"] },
  "ou-8x1f-aaaa1111": {
    accounts: [
      { Id: "222222222222", State: "ACTIVE", JoinedTimestamp: OLD },
      { Id: "333333333333", State: "SUSPENDED", JoinedTimestamp: OLD },
    ],
    ous: ["ou-8x1f-bbbb2222"],
  },
  // Joined ten minutes ago: its stack instances may not exist yet.
  "ou-8x1f-bbbb2222": { accounts: [{ Id: "444444444444", State: "ACTIVE", JoinedTimestamp: "2026-11-23T11:50:00Z" }], ous: [] },
};

const reader: OrganizationReader = {
  async accountsFor(p) {
    return (TREE[p]?.accounts ?? []).map((a) => ({ id: a.Id, status: a.State, joined: new Date(a.JoinedTimestamp) }));
  },
  async ousFor(p) {
    return TREE[p]?.ous ?? [];
  },
};

function memoryStore(beats: Beat[]): HeartbeatStore {
  return { async record() {}, async all() { return beats; } };
}

describe("forwarder health against the organization's accounts", () => {
  it("expects the ACTIVE accounts under the targets (OUs recursively), joined before the grace period, plus the direct ones", async () => {
    expect(await expectedAccounts(reader, ["r-8x1f"], ["999999999999"], NOW, 60)).to.deep.equal(["111111111111", "222222222222", "999999999999"]);
    expect(await expectedAccounts(reader, ["ou-8x1f-bbbb2222"], [], NOW, 5)).to.deep.equal(["444444444444"]);
    expect(await expectedAccounts(reader, [], ["999999999999"], NOW, 60)).to.deep.equal(["999999999999"]);
  });

  it("reports every expected account/region that never sent a heartbeat", () => {
    const beats: Beat[] = [{ account: "111111111111", region: "eu-west-1", lastSeen: "2026-11-23T11:58:00Z" }];
    expect(neverHeard(beats, { accounts: ["111111111111", "222222222222"], regions: ["eu-west-1", "us-east-1"] }).map((b) => `${b.account}/${b.region}/${b.lastSeen}`)).to.deep.equal([
      "111111111111/us-east-1/never",
      "222222222222/eu-west-1/never",
      "222222222222/us-east-1/never",
    ]);
  });

  it("counts them with the quiet forwarders in the check's metric; an unreadable account list leaves the quiet check running", async () => {
    const lines: string[] = [];
    const beats: Beat[] = [
      { account: "111111111111", region: "eu-west-1", lastSeen: "2026-11-23T11:58:00Z" },
      { account: "111111111111", region: "us-east-1", lastSeen: "2026-11-23T10:00:00Z" },
    ];
    const tick = { source: "aws.events", "detail-type": "Scheduled Event", resources: ["arn:aws:events:eu-west-1:444455556666:rule/central-heartbeat-check"] };
    const expected = async () => ({ accounts: ["111111111111", "222222222222"], regions: ["eu-west-1", "us-east-1"] });
    const out = (await handleHeartbeat(tick, memoryStore(beats), { now: NOW, quietMinutes: 30, log: (l) => lines.push(l), expected })) as { quiet: Beat[] };
    expect(out.quiet.map((b) => `${b.account}/${b.region}`)).to.deep.equal(["111111111111/us-east-1", "222222222222/eu-west-1", "222222222222/us-east-1"]);
    const emf = JSON.parse(lines.at(-1)!);
    expect(emf.QuietForwarders).to.equal(3);
    expect(emf.quiet).to.include("222222222222/eu-west-1 (last never)");

    lines.length = 0;
    const failing = async () => {
      throw new Error("AccessDeniedException: not a delegated administrator");
    };
    const out2 = (await handleHeartbeat(tick, memoryStore(beats), { now: NOW, quietMinutes: 30, log: (l) => lines.push(l), expected: failing })) as { quiet: Beat[] };
    expect(out2.quiet.map((b) => `${b.account}/${b.region}`)).to.deep.equal(["111111111111/us-east-1"]);
    expect(JSON.parse(lines[0])).to.deep.include({ level: "ERROR", message: "could not read the expected forwarders" });
    expect(JSON.parse(lines[1]).QuietForwarders).to.equal(1);
  });
});

describe("the heartbeat function from the plan's archive, against Organizations and DynamoDB stubs", function () {
  this.timeout(300_000);
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let org: http.Server;
  const calls: { action: string; params: any }[] = [];

  before(async () => {
    ddb = await startDynalite();
    await createTable(ddb.client, "heartbeats", "pk");
    org = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const action = String(req.headers["x-amz-target"]).split(".")[1];
        const params = JSON.parse(body || "{}");
        calls.push({ action, params });
        res.setHeader("content-type", "application/x-amz-json-1.1");
        const node = TREE[params.ParentId] ?? { accounts: [], ous: [] };
        if (action === "ListAccountsForParent") return void res.end(JSON.stringify({ Accounts: node.accounts.map((a) => ({ ...a, JoinedTimestamp: Date.parse(a.JoinedTimestamp) / 1000 })) }));
        if (action === "ListOrganizationalUnitsForParent") return void res.end(JSON.stringify({ OrganizationalUnits: node.ous.map((Id) => ({ Id })) }));
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: "InvalidInputException", Message: action }));
      });
    });
    await new Promise<void>((r) => org.listen(0, "127.0.0.1", r));
    useLocalAwsEnv({ DYNAMODB: ddb.url, ORGANIZATIONS: `http://127.0.0.1:${(org.address() as AddressInfo).port}` });
  });
  after(async () => {
    await ddb?.close();
    org?.close();
  });

  it("may list accounts and OUs of this organization only, and misses every expected account/region that never beat", async () => {
    const plan = prodPlan();
    const fn = one(plan, "aws:lambda/function:Function", "central-heartbeat");
    const env = fn.inputs.environment.variables;
    expect(env.EXPECTED_TARGETS).to.equal("r-8x1f");
    expect(env.EXPECTED_DIRECT_ACCOUNTS).to.equal("111122223333");
    expect(env.EXPECTED_REGIONS.split(",")).to.deep.equal([...DEFAULT_REGIONS.aws].sort());
    const stmt = json(one(plan, "aws:iam/rolePolicy:RolePolicy", "central-heartbeat-policy").inputs.policy).Statement.find((s: any) => s.Sid === "ExpectedForwarders");
    expect(stmt.Action).to.deep.equal(["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"]);
    expect(stmt.Resource).to.deep.equal(["arn:aws:organizations::111122223333:root/o-7k2mq9x4ab/*", "arn:aws:organizations::111122223333:ou/o-7k2mq9x4ab/*"]);

    Object.assign(process.env, env, { HEARTBEAT_TABLE: "heartbeats", EXPECTED_REGIONS: "eu-west-1,us-east-1" });
    const handler = loadHandler(plan, "central-heartbeat");
    const beat = (account: string, region: string) => ({
      version: "0",
      id: "x",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account,
      time: new Date(Date.now() - 60_000).toISOString(),
      region,
      resources: [`arn:aws:events:${region}:${account}:rule/trailwatch-heartbeat`],
      detail: {},
    });
    for (const [a, r] of [["111111111111", "eu-west-1"], ["111111111111", "us-east-1"], ["111122223333", "eu-west-1"], ["111122223333", "us-east-1"], ["222222222222", "eu-west-1"]]) await handler(beat(a, r));
    // The EMF line goes to stdout raw (Text log format), not through console.log: capture both.
    const lines: string[] = [];
    const log = console.log;
    const write = process.stdout.write.bind(process.stdout);
    console.log = (l: string) => lines.push(String(l));
    (process.stdout as any).write = (chunk: any) => (lines.push(String(chunk)), true);
    let out: any;
    try {
      out = await handler({ source: "aws.events", "detail-type": "Scheduled Event", resources: ["arn:aws:events:eu-west-1:444455556666:rule/central-heartbeat-check"] });
    } finally {
      console.log = log;
      (process.stdout as any).write = write;
    }
    const missing = out.quiet.map((b: Beat) => `${b.account}/${b.region}/${b.lastSeen}`);
    expect(missing).to.include("222222222222/us-east-1/never");
    expect(missing.some((m: string) => m.startsWith("333333333333/"))).to.equal(false);
    expect(calls.filter((c) => c.action === "ListAccountsForParent").map((c) => c.params.ParentId)).to.deep.equal(["r-8x1f", "ou-8x1f-aaaa1111", "ou-8x1f-bbbb2222"]);
    expect(lines.some((l) => l.includes('"QuietForwarders"'))).to.equal(true);
  });
});
