/**
 * SCP rollout watch logic: policy denies from the SCP/RCP fixtures (real Stratus deny records with the catalogue's
 * message forms), the metric line, windows from Organizations policy events (built from the CloudTrail record shape
 * of organizations.amazonaws.com events: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_cloudtrail-integration.html),
 * digests and the threshold alert.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import {
  DETACH_ACTION,
  OTHER_ACTION,
  SCP_METRIC_NAMESPACE,
  alertMessage,
  boundedAction,
  digestMessage,
  metricLine,
  openingMessage,
  accountWindowId,
  policyChangeOf,
  policyDenyOf,
  type RolloutWindow,
} from "../functions/scp/watch";
import { matchesPattern } from "../functions/eventPattern";
import { orgPolicyChangePattern } from "../functions/patterns";
import { stratusRecords } from "./sharedData";
import { outboxHarness } from "./outboxServices";
import { prodPlan, one, json, loadHandler } from "./planFixture";
import { createTable, scanAll, startAwsQueryStub, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { toEnvelope } from "../functions/cloudtrail";
import { SIGNING_SECRET, buttonClick, commandRequest, interactionRequest } from "./slackRequests";

type Handler = (event: unknown, context?: unknown) => Promise<any>;
const BOT_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot";
const SIGNING_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-signing";
const ALICE = "U02ALICE001";
const MALLORY = "U09MALLORY9";

const slackRequest = (payload: object) => interactionRequest(payload);
const click = buttonClick;

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures/scp-denies.json"), "utf8")) as { cases: { name: string; expect: string; record: CloudTrailRecord }[] };

function orgEvent(eventName: string, requestParameters: Record<string, string>, over: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: "1.08",
    userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice", accountId: "111122223333" },
    eventTime: "2026-11-20T10:00:00Z",
    eventSource: "organizations.amazonaws.com",
    eventName,
    awsRegion: "us-east-1",
    sourceIPAddress: "203.0.113.7",
    userAgent: "aws-cli/2.15.0",
    requestParameters,
    responseElements: null,
    eventID: `evt-${eventName}`,
    eventType: "AwsApiCall",
    recipientAccountId: "111122223333",
    ...over,
  } as CloudTrailRecord;
}

describe("SCP watch: policy denies", () => {
  for (const c of fixture.cases)
    it(`${c.expect}: ${c.name}`, async () => {
      const d = await policyDenyOf(c.record);
      if (c.expect === "none") {
        expect(d).to.equal(null);
        return;
      }
      expect(d, "not recognised as an org policy deny").to.not.equal(null);
      expect(d!.policyType).to.equal(c.expect);
      const tail = /:policy\/o-[a-z0-9]+\/[a-z_]+\/(p-[a-z0-9_]+)/.exec(c.record.errorMessage ?? "");
      expect(d!.policyId).to.equal(tail ? tail[1] : "unknown");
      expect(d!.accountId).to.equal(c.record.recipientAccountId);
      expect(d!.action).to.match(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
    });

  it("an SCP message with the policy ARN and an authorization-details id tail keeps its policy id", async () => {
    const base = fixture.cases.find((c) => c.name === "SCP with a policy ARN tail")!.record;
    const withId = { ...base, errorMessage: `${base.errorMessage}. Authorization details id: 9c1e2f3a-7b6d` };
    expect(await policyDenyOf(withId)).to.deep.include({ policyId: "p-examplescp1", policyType: "scp" });
  });

  it("a deny that is not an org policy's, and a success, are not counted", async () => {
    const ok = stratusRecords().find((r) => !r.record.errorCode)!.record;
    expect(await policyDenyOf(ok)).to.equal(null);
  });

  it("counts a deny three ways in one EMF line at 1-minute resolution, the action bounded to the top list", async () => {
    const d = (await policyDenyOf(fixture.cases.find((c) => c.name === "SCP with a policy ARN tail")!.record))!;
    const line = metricLine(d, boundedAction(d.action, ["s3:GetObject"]), new Date("2026-11-20T10:01:00Z"));
    expect((line._aws as any).CloudWatchMetrics).to.deep.equal([
      { Namespace: SCP_METRIC_NAMESPACE, Dimensions: [["PolicyId"], ["AccountId"], ["Action"]], Metrics: [{ Name: "Denies", Unit: "Count", StorageResolution: 60 }] },
    ]);
    expect(line).to.include({ PolicyId: "p-examplescp1", Action: OTHER_ACTION, Denies: 1, fullAction: d.action });
    expect(boundedAction(d.action, [d.action!])).to.equal(d.action);
    expect(boundedAction(null, [])).to.equal(OTHER_ACTION);
  });
});

describe("SCP watch: rollout windows", () => {
  it("AttachPolicy opens a window on the policy and target; DetachPolicy and UpdatePolicy too", () => {
    expect(policyChangeOf(orgEvent("AttachPolicy", { policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" }))).to.deep.equal({
      policyId: "p-examplescp1",
      change: "attached",
      targetId: "ou-8x1f-abcd1234",
      who: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice",
      eventTime: "2026-11-20T10:00:00Z",
      eventId: "evt-AttachPolicy",
    });
    expect(policyChangeOf(orgEvent("DetachPolicy", { policyId: "p-1", targetId: "111111111111" }))!.change).to.equal("detached");
    expect(policyChangeOf(orgEvent("UpdatePolicy", { policyId: "p-1", content: "{}" }))).to.deep.include({ change: "updated", targetId: null });
  });

  it("MoveAccount opens the account's window (the SCPs of its new parents now apply), from the Organizations MoveAccount request", () => {
    const move = orgEvent("MoveAccount", { accountId: "210987654321", sourceParentId: "r-8x1f", destinationParentId: "ou-8x1f-sandbox01" });
    expect(policyChangeOf(move)).to.deep.equal({
      policyId: "account/210987654321",
      change: "moved",
      targetId: "ou-8x1f-sandbox01",
      fromId: "r-8x1f",
      who: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice",
      eventTime: "2026-11-20T10:00:00Z",
      eventId: "evt-MoveAccount",
    });
    expect(accountWindowId("210987654321")).to.equal("account/210987654321");
    const w: RolloutWindow = { policyId: "account/210987654321", openedAt: "2026-11-20T10:00:00Z", closesAt: "2026-11-20T11:00:00Z", change: policyChangeOf(move)!, threshold: 25 };
    expect(openingMessage(w).text).to.equal(
      "SCP rollout watch: account/210987654321 moved from r-8x1f to ou-8x1f-sandbox01 by role/PlatformAdmin/alice: the SCPs of its new parents apply; watching its denies until 2026-11-20T11:00:00Z",
    );
    expect(JSON.stringify(openingMessage(w).blocks)).to.contain("Alert at 25 SCP/RCP denies in account 210987654321;");
    // No Detach button: there is no policy to detach.
    expect(JSON.stringify(alertMessage(w, 30, { rollback: true }).blocks)).not.to.contain(DETACH_ACTION);
    // The central rule and the forwarders' org-policy stream carry it (Organizations events: us-east-1 only).
    expect(matchesPattern(orgPolicyChangePattern, toEnvelope(move))).to.equal(true);
    expect(policyChangeOf(orgEvent("MoveAccount", { accountId: "not-an-account" }))).to.equal(null);
  });

  it("failed calls, other events and the real LeaveOrganization record open nothing", () => {
    expect(policyChangeOf(orgEvent("AttachPolicy", { policyId: "p-1", targetId: "r-8x1f" }, { errorCode: "AccessDeniedException" }))).to.equal(null);
    expect(policyChangeOf(orgEvent("CreatePolicy", { name: "x" }))).to.equal(null);
    const leave = stratusRecords().find((r) => r.record.eventName === "LeaveOrganization")!.record;
    expect(policyChangeOf(leave)).to.equal(null);
  });

  const window: RolloutWindow = {
    policyId: "p-examplescp1",
    openedAt: "2026-11-20T10:00:00Z",
    closesAt: "2026-11-20T11:00:00Z",
    change: policyChangeOf(orgEvent("AttachPolicy", { policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" }))!,
    threshold: 25,
  };

  it("says who changed which policy on which target when the window opens", () => {
    expect(openingMessage(window).text).to.equal(
      "SCP rollout watch: p-examplescp1 attached to ou-8x1f-abcd1234 by role/PlatformAdmin/alice; watching its denies until 2026-11-20T11:00:00Z",
    );
  });

  it("digests denies by account and action, with the change since the last digest and sample principals", () => {
    const counts = {
      byAccountAction: { "210987654321|s3:PutObject": 7, "210987654321|ec2:RunInstances": 2, "333344445555|s3:PutObject": 4 },
      samplePrincipals: ["arn:aws:sts::210987654321:assumed-role/ci/build-42"],
    };
    const m = digestMessage(window, counts, 5, new Date("2026-11-20T10:20:00Z"));
    expect(m.text).to.equal("p-examplescp1: 13 denies since 2026-11-20T10:00:00Z (+8 since the last digest)");
    const fields = (m.blocks[1] as any).fields.map((f: any) => f.text);
    expect(fields[0]).to.equal("*By account*\n• 210987654321: 9\n• 333344445555: 4");
    expect(fields[1]).to.equal("*By action*\n• `s3:PutObject`: 11\n• `ec2:RunInstances`: 2");
    expect(JSON.stringify(m.blocks)).to.contain("build-42").and.contain("Window closes in 40 min.");
  });

  it("alerts past the threshold and offers Detach only when rollback is on and there is a target", () => {
    const on = alertMessage(window, 30, { rollback: true });
    expect(on.text).to.equal("p-examplescp1 caused 30 denies since 2026-11-20T10:00:00Z (threshold 25)");
    const button = (on.blocks[1] as any).elements[0];
    expect(button.action_id).to.equal(DETACH_ACTION);
    expect(JSON.parse(button.value)).to.deep.equal({ policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" });
    expect(alertMessage(window, 30, { rollback: false }).blocks).to.have.length(1);
    const updated = { ...window, change: policyChangeOf(orgEvent("UpdatePolicy", { policyId: "p-examplescp1" }))! };
    expect(alertMessage(updated, 30, { rollback: true }).blocks).to.have.length(1);
  });
});

describe("SCP watch (functions from the plan's archives)", function () {
  this.timeout(180_000);
  const plan = () => prodPlan();
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startSlackStub>>;
  let aws: Awaited<ReturnType<typeof startAwsQueryStub>>;
  let counter: Handler, windows: Handler, app: Handler, detach: Handler;
  let outbox: Awaited<ReturnType<typeof outboxHarness>>;
  const attached = ["p-examplescp1@ou-8x1f-abcd1234"];
  const scpDeny = fixture.cases.find((c) => c.name === "SCP with a policy ARN tail")!.record;
  const posts = () => slack.calls.filter((c) => c.method === "chat.postMessage");
  const row = async () => (await scanAll(ddb.client, "scp-windows")).find((r) => r.pk.S === "window#p-examplescp1");
  const envelope = (r: CloudTrailRecord) => ({ ...toEnvelope(r), id: r.eventID });

  before(async () => {
    ddb = await startDynalite();
    secrets = await startSecretsStub({ [BOT_SECRET_ID]: "xoxb-test-token", [SIGNING_SECRET_ID]: SIGNING_SECRET });
    slack = await startSlackStub();
    aws = await startAwsQueryStub({}, { attachedPolicies: attached });
    await createTable(ddb.client, "scp-windows", "pk");
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url, STS: aws.url, SNS: aws.url, ORGANIZATIONS: aws.url });
    for (const fn of ["scp-watch-counter", "scp-watch-windows", "scp-watch-detach", "slack-app"]) Object.assign(process.env, one(plan(), "aws:lambda/function:Function", fn).inputs.environment.variables);
    // New messages reach Slack through the outbox: the poster from the plan's archive delivers what was queued.
    outbox = await outboxHarness({ ddb, createTable, poster: () => loadHandler(plan(), "slack-outbox-poster") });
    Object.assign(process.env, { SCP_WATCH_TABLE: "scp-windows", REVIEW_TABLE: "reviews", SLACK_BOT_TOKEN_SECRET: BOT_SECRET_ID, SLACK_SIGNING_SECRET_SECRET: SIGNING_SECRET_ID, SLACK_API_URL: slack.apiUrl, SLACK_OUTBOX_QUEUE_URL: outbox.sqs.urlOf("outbox.fifo") });
    [counter, windows, app, detach] = ["scp-watch-counter", "scp-watch-windows", "slack-app", "scp-watch-detach"].map((f) => loadHandler(plan(), f));
  });
  after(async () => {
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), aws?.close(), outbox?.close()]);
  });

  it("counts a deny outside any window as a metric line only", async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    (process.stdout as any).write = (chunk: any, ...rest: any[]) => (String(chunk).includes('"_aws"') ? (lines.push(String(chunk)), true) : write(chunk, ...rest));
    try {
      expect(await counter(envelope(scpDeny))).to.deep.include({ outcome: "counted", policyId: "p-examplescp1", inWindow: false });
    } finally {
      (process.stdout as any).write = write;
    }
    expect(lines).to.have.length(1);
    const emf = JSON.parse(lines[0]);
    expect(emf).to.include({ PolicyId: "p-examplescp1", AccountId: scpDeny.recipientAccountId, Denies: 1 });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).to.equal("trailwatch/SCP");
    expect(posts()).to.have.length(0);
    // The day's action ranking counted it (created on the day's first deny).
    const day = (await scanAll(ddb.client, "scp-windows")).find((r) => r.pk.S!.startsWith("actions#"))!;
    expect(day.actions.M![scpDeny.errorMessage!.match(/perform: (\S+)/)![1]].N).to.equal("1");
  });

  it("opens a window from AttachPolicy and posts who changed which policy where", async () => {
    const out = await windows(envelope(orgEvent("AttachPolicy", { policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" })));
    expect(out).to.deep.include({ policyId: "p-examplescp1", change: "attached", targetId: "ou-8x1f-abcd1234" });
    expect((await row())!.status.S).to.equal("OPEN");
    expect(posts()).to.have.length(0); // queued
    await outbox.deliver();
    expect(posts()).to.have.length(1);
    // The window records the opening's ts once Slack accepted it: the thread for alerts and digests.
    expect((await row())!.ts.S).to.match(/^\d+\.\d+$/);
    expect(posts()[0].args.text).to.match(/^SCP rollout watch: p-examplescp1 attached to ou-8x1f-abcd1234 by role\/PlatformAdmin\/alice/);
  });

  it("counts the window's denies, alerts once at the threshold (channel thread + alert topic) with a Detach button", async () => {
    for (let i = 0; i < 26; i++) await counter(envelope({ ...scpDeny, eventID: `deny-${i}` }));
    await outbox.deliver();
    const r = (await row())!;
    expect(Number(r.total.N)).to.equal(26);
    const day = (await scanAll(ddb.client, "scp-windows")).find((x) => x.pk.S!.startsWith("actions#"))!;
    expect(Object.values(day.actions.M!).map((v) => Number(v.N))).to.deep.equal([27]);
    expect(r.alerted.BOOL).to.equal(true);
    const alerts = posts().filter((p) => String(p.args.text).includes("caused"));
    expect(alerts).to.have.length(1);
    expect(alerts[0].args.text).to.match(/^p-examplescp1 caused 25 denies/);
    // In the thread of the window's opening message (its ts as Slack returned it, stored on the window).
    expect(alerts[0].args.thread_ts).to.be.a("string").and.equal(r.ts.S);
    expect(String(alerts[0].args.reply_broadcast)).to.equal("true"); // form-encoded by the Web API client
    expect(JSON.stringify(alerts[0].args.blocks)).to.contain("Detach policy from ou-8x1f-abcd1234");
    const sns = aws.calls.filter((c) => c.action === "Publish");
    expect(sns).to.have.length(1);
    expect(sns[0].params.TopicArn).to.match(/^arn:aws:sns:eu-west-1:444455556666:central-alerts/);
  });

  it("posts a digest in the window's thread on the schedule: by account and action, the change since last time", async () => {
    const out = await windows({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} });
    expect(out).to.deep.equal({ digests: ["p-examplescp1"], closed: [] });
    await outbox.deliver();
    const digest = posts().at(-1)!.args;
    expect(digest.text).to.equal(`p-examplescp1: 26 denies since ${JSON.parse((await row())!.doc.S!).openedAt} (+26 since the last digest)`);
    expect(JSON.stringify(digest.blocks)).to.contain(`${scpDeny.recipientAccountId}: 26`);
    // Nothing new: no digest.
    expect(await windows({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} })).to.deep.equal({ digests: [], closed: [] });
  });

  it("Detach: a non-approver is told no; an approver's click is recorded once; the worker detaches exactly once through the management role", async () => {
    const value = JSON.stringify({ policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" });
    const press = (user: string) => app(slackRequest(click(user, DETACH_ACTION, value, "1700000000.000005")));
    expect((await press(MALLORY)).statusCode).to.equal(200);
    expect((await row())!.detach).to.equal(undefined);
    expect(slack.calls.filter((c) => c.method === "chat.postEphemeral").at(-1)!.args.user).to.equal(MALLORY);
    await press(ALICE);
    await press("U02BOBSEC02");
    const requested = JSON.parse((await row())!.detach.S!);
    expect(requested).to.deep.include({ status: "REQUESTED", by: ALICE, targetId: "ou-8x1f-abcd1234" });
    const stream = { Records: [{ eventName: "MODIFY", dynamodb: { NewImage: await row() } }] };
    expect(await detach(stream)).to.deep.equal([{ policyId: "p-examplescp1", outcome: "detached" }]);
    expect(await detach(stream)).to.deep.equal([{ policyId: "p-examplescp1", outcome: "not-requested" }]);
    const assume = aws.calls.filter((c) => c.action === "AssumeRole");
    expect(assume.map((c) => c.params.RoleArn)).to.deep.equal(["arn:aws:iam::111122223333:role/trailwatch-scp-detach"]);
    expect(aws.calls.filter((c) => c.action === "DetachPolicy").map((c) => c.params)).to.deep.equal([{ PolicyId: "p-examplescp1", TargetId: "ou-8x1f-abcd1234" }]);
    expect(JSON.parse((await row())!.detach.S!)).to.deep.include({ status: "DETACHED", result: "detached from ou-8x1f-abcd1234" });
    expect(attached).to.deep.equal([]);
    expect(slack.calls.filter((c) => c.method === "chat.update").at(-1)!.args.text).to.match(/detached from ou-8x1f-abcd1234 \(requested by <@U02ALICE001>/);
  });

  it("/trailwatch-watch opens a window by hand; bad arguments get the usage", async () => {
    const command = (text: string) => app(commandRequest("/trailwatch-watch", text, ALICE));
    const bad = await command("examplescp 30");
    expect(bad.statusCode).to.equal(200);
    expect(JSON.parse(bad.body).text).to.match(/is not a policy id\. usage: \/trailwatch-watch/);
    const good = await command("p-manualwatch1 15");
    expect(JSON.parse(good.body).text).to.equal("Watching p-manualwatch1 for 15 minutes.");
    await outbox.deliver();
    const w = (await scanAll(ddb.client, "scp-windows")).find((r) => r.pk.S === "window#p-manualwatch1")!;
    const doc = JSON.parse(w.doc.S!);
    expect(doc.change).to.deep.equal({ change: "manual", who: ALICE, targetId: null });
    expect(new Date(doc.closesAt).getTime() - new Date(doc.openedAt).getTime()).to.equal(15 * 60_000);
    expect(posts().at(-1)!.args.text).to.contain("p-manualwatch1 watch started by hand by <@U02ALICE001>");
  });

  it("MoveAccount opens the account's window: every SCP deny in the account counts, the alert comes once at the threshold", async () => {
    const account = scpDeny.recipientAccountId!;
    const out = await windows(envelope(orgEvent("MoveAccount", { accountId: account, sourceParentId: "r-8x1f", destinationParentId: "ou-8x1f-sandbox01" })));
    expect(out).to.deep.include({ policyId: `account/${account}`, change: "moved", targetId: "ou-8x1f-sandbox01" });
    await outbox.deliver();
    expect(posts().at(-1)!.args.text).to.match(new RegExp(`^SCP rollout watch: account/${account} moved from r-8x1f to ou-8x1f-sandbox01`));
    const before = posts().length;
    for (let i = 0; i < 25; i++) expect(await counter(envelope({ ...scpDeny, eventID: `moved-${i}` }))).to.deep.include({ inWindow: true });
    await outbox.deliver();
    const w = (await scanAll(ddb.client, "scp-windows")).find((r) => r.pk.S === `window#account/${account}`)!;
    expect(Number(w.total.N)).to.equal(25);
    expect(w.alerted.BOOL).to.equal(true);
    const alerts = posts().slice(before).filter((p) => String(p.args.text).startsWith(`account/${account} caused`));
    expect(alerts).to.have.length(1);
    expect(alerts[0].args.thread_ts).to.equal(w.ts.S);
  });
});

describe("ScpWatch in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();

  it("sends SCP and RCP denies, read-only calls included, to a log group with its resource policy and to the counter", () => {
    for (const rule of ["scp-watch-denies-log-rule", "scp-watch-denies-rule"]) {
      const r = one(plan(), "aws:cloudwatch/eventRule:EventRule", rule).inputs;
      expect(r.state).to.equal("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
      expect(json(r.eventPattern).detail.errorMessage).to.deep.equal([
        { wildcard: "*service control policy*" },
        { wildcard: "*Service Control Policy*" },
        { wildcard: "*resource control policy*" },
        { wildcard: "*Resource Control Policy*" },
      ]);
    }
    const group = one(plan(), "aws:cloudwatch/logGroup:LogGroup", "scp-watch-denies-log-logs").inputs;
    expect(group.retentionInDays).to.equal(30);
    expect(json(one(plan(), "aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "scp-watch-denies-log-logs-policy").inputs.policyDocument).Statement[0].Principal.Service).to.include("events.amazonaws.com");
    expect(one(plan(), "aws:lambda/function:Function", "scp-watch-counter").inputs.loggingConfig.logFormat).to.equal("Text");
  });

  it("builds a dashboard whose widgets query the counter's metrics and the deny log group", () => {
    const d = one(plan(), "aws:cloudwatch/dashboard:Dashboard").inputs;
    const body = JSON.parse(d.dashboardBody);
    const exprs = body.widgets.filter((w: any) => w.type === "metric").map((w: any) => w.properties.metrics[0][0].expression);
    expect(exprs).to.deep.equal(["PolicyId", "AccountId", "Action"].map((dim) => `SEARCH('{trailwatch/SCP,${dim}} MetricName="Denies"', 'Sum', 60)`));
    const group = one(plan(), "aws:cloudwatch/logGroup:LogGroup", "scp-watch-denies-log-logs").inputs.name;
    expect(body.widgets.find((w: any) => w.type === "log").properties.query).to.match(new RegExp(`^SOURCE '${group}'`));
  });

  it("the detach role may only detach service control policies, and only the detach worker may assume it", () => {
    const role = one(plan(), "aws:iam/role:Role", "scp-watch-mgmt-detach");
    expect(role.provider).to.match(/aws-management-eu-west-1$/);
    expect(role.inputs.name).to.equal("trailwatch-scp-detach");
    const trust = json(role.inputs.assumeRolePolicy).Statement;
    expect(trust).to.have.length(1);
    expect(trust[0].Principal.AWS).to.match(/^arn:aws:iam::444455556666:role\/scp-watch-detach-role-/);
    expect(json(one(plan(), "aws:iam/rolePolicy:RolePolicy", "scp-watch-mgmt-detach").inputs.policy).Statement).to.deep.equal([
      { Sid: "DetachScpsOnly", Effect: "Allow", Action: "organizations:DetachPolicy", Resource: "*", Condition: { StringEquals: { "organizations:PolicyType": "SERVICE_CONTROL_POLICY" } } },
      { Sid: "NeverFullAWSAccess", Effect: "Deny", Action: "organizations:DetachPolicy", Resource: ["arn:*:organizations::aws:policy/service_control_policy/p-FullAWSAccess", "arn:*:organizations::*:policy/*/service_control_policy/p-FullAWSAccess"] },
    ]);
    const mapping = one(plan(), "aws:lambda/eventSourceMapping:EventSourceMapping", "scp-watch-detach-source").inputs;
    expect(JSON.parse(mapping.filterCriteria.filters[0].pattern)).to.deep.equal({ dynamodb: { NewImage: { detachStatus: { S: ["REQUESTED"] } } } });
  });
});
