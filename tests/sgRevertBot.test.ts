/**
 * The SgRevertBot's four functions exactly as `npm run plan` packs them, run like Lambda runs them: dynalite for the
 * review table, stubs on 127.0.0.1 for Secrets Manager, the Slack Web API, STS and EC2 (the SDK's real wire
 * protocol, so the request parameters are the ones AWS would receive). Slack requests are signed the way Slack signs
 * them: https://api.slack.com/authentication/verifying-requests-from-slack
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { prodPlan, one, json, loadHandler } from "./planFixture";
import { createTable, scanAll, startAwsQueryStub, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { outboxHarness } from "./outboxServices";
import { stratusRecords, pantherRecords } from "./sharedData";
import { SIGNING_SECRET, buttonClick, interactionRequest } from "./slackRequests";
import { toEnvelope, type CloudTrailRecord } from "../functions/cloudtrail";
import { APPROVE_ACTION, DENY_ACTION } from "../functions/sg/revert/messages";
import { SPOKE_ROLE_NAME } from "../functions/sg/revert/adapters";
import { dynamoReviewStore } from "../functions/sg/revert/state";

const BOT_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot";
const SIGNING_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-signing";
const ALICE = "U02ALICE001"; // an approver in Pulumi.prod.yaml
const MALLORY = "U09MALLORY9";

type Handler = (event: unknown, context?: unknown) => Promise<any>;
const load = (plan: ReturnType<typeof prodPlan>, fn: string): Handler => loadHandler(plan, fn);

const slackRequest = (payload: object, opts: { secret?: string; ts?: number; tamper?: boolean } = {}) =>
  interactionRequest(payload, { ...opts, tamper: opts.tamper ? (body) => body.replace("U02ALICE001", "U02BOBSEC02") : undefined });
const click = buttonClick;

/** What the table's stream would hand the worker for these rule ids (NEW_IMAGE), read back from the table. */
async function streamEventFor(ddb: Awaited<ReturnType<typeof startDynalite>>, ruleIds: string[]) {
  const rows = await scanAll(ddb.client, "reviews");
  return { Records: rows.filter((r) => ruleIds.includes(r.pk.S!)).map((r) => ({ eventName: "MODIFY", dynamodb: { NewImage: r } })) };
}

describe("SgRevertBot (functions from the plan's archives)", function () {
  this.timeout(180_000);
  const plan = () => prodPlan();
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startSlackStub>>;
  let aws: Awaited<ReturnType<typeof startAwsQueryStub>>;
  let outbox: Awaited<ReturnType<typeof outboxHarness>>;
  let detect: Handler, interact: Handler, worker: Handler, expire: Handler;
  const ec2Rules: Record<string, string> = {};
  const record = stratusRecords().find((r) => r.origin.includes("ec2-security-group-open-port-22-ingress"))!.record;
  const ruleId = "sgr-09b3e3d2ca1edf2a2";
  const groupId = "sg-003dc7f1f1c686164";
  const state = async (id: string) => (await scanAll(ddb.client, "reviews")).find((r) => r.pk.S === id)?.state.S;
  const posts = () => slack.calls.filter((c) => c.method === "chat.postMessage");
  const updates = () => slack.calls.filter((c) => c.method === "chat.update");

  before(async () => {
    ddb = await startDynalite();
    secrets = await startSecretsStub({ [BOT_SECRET_ID]: "xoxb-test-token", [SIGNING_SECRET_ID]: SIGNING_SECRET });
    slack = await startSlackStub();
    aws = await startAwsQueryStub(ec2Rules);
    await createTable(ddb.client, "reviews", "pk");
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url, STS: aws.url, EC2: aws.url });
    // Review messages reach Slack through the outbox: the poster from the plan's archive delivers what detect queued.
    outbox = await outboxHarness({ ddb, createTable, poster: () => load(plan(), "slack-outbox-poster") });
    const env = one(plan(), "aws:lambda/function:Function", "sg-bot-worker").inputs.environment.variables;
    expect(Object.keys(env).sort()).to.deep.equal(["REVIEW_TABLE", "SG_BOT_SETTINGS", "SLACK_BOT_TOKEN_SECRET", "SPOKE_EXTERNAL_ID"]);
    Object.assign(process.env, env, one(plan(), "aws:lambda/function:Function", "slack-app").inputs.environment.variables, {
      REVIEW_TABLE: "reviews",
      SCP_WATCH_TABLE: "scp-windows",
      SLACK_BOT_TOKEN_SECRET: BOT_SECRET_ID,
      SLACK_SIGNING_SECRET_SECRET: SIGNING_SECRET_ID,
      SLACK_API_URL: slack.apiUrl,
      SLACK_OUTBOX_QUEUE_URL: outbox.sqs.urlOf("outbox.fifo"),
    });
    [detect, interact, worker, expire] = ["sg-bot-detect", "slack-app", "sg-bot-worker", "sg-bot-expire"].map((f) => load(plan(), f));
  });
  after(async () => {
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), aws?.close(), outbox?.close()]);
  });

  it("detects the real world-open port 22 rule, records it PENDING by rule id and posts one review message", async () => {
    ec2Rules[ruleId] = groupId;
    const out = await detect(toEnvelope(record));
    expect(out).to.deep.equal({ outcome: "queued", ruleIds: [ruleId], risk: "critical" });
    expect(await state(ruleId)).to.equal("PENDING");
    expect(posts()).to.have.length(0); // queued, not yet posted
    await outbox.deliver();
    expect(posts()).to.have.length(1);
    const msg = posts()[0].args;
    expect(msg.channel).to.equal("C04SECOPS01");
    const blocks = JSON.stringify(msg.blocks);
    expect(blocks).to.contain(groupId).and.contain(ruleId).and.contain("open to the world").and.contain("*Who*\\nuser/christophe");
    const actions = msg.blocks.find((b: any) => b.type === "actions");
    expect(actions.elements.map((e: any) => e.action_id)).to.deep.equal([APPROVE_ACTION, DENY_ACTION]);
    expect(JSON.parse(actions.elements[1].value)).to.deep.equal({ changeId: record.eventID, ruleIds: [ruleId] });
    // The outbox recorded the posted message's ts on the review item (state and notice together).
    const item = (await scanAll(ddb.client, "reviews")).find((r) => r.pk.S === ruleId)!;
    expect(item.ts.S).to.be.a("string").and.match(/^\d+\.\d+$/);
    expect(item.channel.S).to.equal("C04SECOPS01");
    // A retried delivery of the same event records nothing new and posts nothing.
    expect(await detect(toEnvelope(record))).to.deep.include({ outcome: "duplicate" });
    await outbox.deliver();
    expect(posts()).to.have.length(1);
  });

  it("a review recorded but never posted (the detector failed after recording it) is posted by the retry, once", async () => {
    const other: CloudTrailRecord = JSON.parse(JSON.stringify(record));
    other.eventID = "lost-post-change";
    other.responseElements!.securityGroupRuleSet.items[0].securityGroupRuleId = "sgr-0eeeeeeeeeeeeeee5";
    // SQS is unavailable when the detector hands the review over (after it recorded the items): the invocation fails.
    outbox.sqs.failNext.count = 3;
    let failed: unknown;
    await detect(toEnvelope(other)).catch((err) => (failed = err));
    expect(failed, "the detector's invocation fails").to.be.instanceOf(Error);
    expect(await state("sgr-0eeeeeeeeeeeeeee5")).to.equal("PENDING");
    expect(outbox.sqs.queues["outbox.fifo"] ?? []).to.have.length(0);
    const before = posts().length;
    // Lambda's retry of the same event: the items exist without a message, so the review is queued again.
    expect(await detect(toEnvelope(other))).to.deep.include({ outcome: "requeued", ruleIds: ["sgr-0eeeeeeeeeeeeeee5"] });
    await outbox.deliver();
    expect(posts().length - before).to.equal(1);
    expect((await scanAll(ddb.client, "reviews")).find((r) => r.pk.S === "sgr-0eeeeeeeeeeeeeee5")!.ts.S).to.match(/^\d+\.\d+$/);
    expect(await detect(toEnvelope(other))).to.deep.include({ outcome: "duplicate" });
  });

  it("the expire sweep queues again a review whose message is still missing after 5 minutes; the outbox posts it once", async () => {
    const store = dynamoReviewStore(ddb.client, "reviews");
    const [template] = await store.get([ruleId]);
    const expireAfter = JSON.parse(process.env.SG_BOT_SETTINGS!).expireAfterMinutes as number;
    // Recorded 10 minutes ago, no message ts: its post was lost.
    const recorded = Math.floor(Date.now() / 1000) - 600;
    await store.create({ ...template, ruleId: "sgr-0fffffffffffffff6", ruleIds: ["sgr-0fffffffffffffff6"], changeId: "sweep-change", state: "PENDING", ts: undefined, channel: undefined, expiresAt: recorded + expireAfter * 60 });
    const before = posts().length;
    const out = await expire({});
    expect(out.requeued).to.deep.equal(["sweep-change"]);
    await outbox.deliver();
    expect(posts().length - before).to.equal(1);
    expect(JSON.stringify(posts().at(-1)!.args.blocks)).to.contain("sgr-0fffffffffffffff6");
    expect((await scanAll(ddb.client, "reviews")).find((r) => r.pk.S === "sgr-0fffffffffffffff6")!.ts).to.not.equal(undefined);
    // The next sweep finds it posted and queues nothing.
    expect((await expire({})).requeued).to.deep.equal([]);
  });

  it("does not review what it cannot revert by id: no rule id in the response, or a failed call", async () => {
    const before = posts().length;
    const noIds = pantherRecords().find((r) => r.origin.includes("Go Script Authoriz"))!.record;
    expect(await detect(toEnvelope(noIds))).to.deep.include({ outcome: "not-reviewable" });
    const failed: CloudTrailRecord = { ...record, eventID: "failed-1", errorCode: "Client.UnauthorizedOperation", responseElements: null };
    expect((await detect(toEnvelope(failed))).outcome).to.be.oneOf(["ignored", "not-reviewable"]);
    await outbox.deliver();
    expect(posts()).to.have.length(before);
  });

  it("answers 401 and changes nothing for a bad signature, a stale timestamp or a tampered body", async () => {
    const value = JSON.stringify({ changeId: record.eventID, ruleIds: [ruleId] });
    const payload = click(ALICE, DENY_ACTION, value, "1700000000.000001");
    const before = slack.calls.length;
    expect((await interact(slackRequest(payload, { secret: "not-the-secret" }))).statusCode).to.equal(401);
    expect((await interact(slackRequest(payload, { ts: Math.floor(Date.now() / 1000) - 301 }))).statusCode).to.equal(401);
    expect((await interact(slackRequest(payload, { tamper: true }))).statusCode).to.equal(401);
    expect(await state(ruleId)).to.equal("PENDING");
    // (The container's one auth.test, on its first request, is not a change.)
    expect(slack.calls.slice(before).filter((c) => c.method !== "auth.test")).to.deep.equal([]);
  });

  it("tells a non-approver privately that they cannot decide, and changes nothing", async () => {
    const value = JSON.stringify({ changeId: record.eventID, ruleIds: [ruleId] });
    const res = await interact(slackRequest(click(MALLORY, DENY_ACTION, value, "1700000000.000001")));
    expect(res.statusCode).to.equal(200);
    expect(await state(ruleId)).to.equal("PENDING");
    const eph = slack.calls.filter((c) => c.method === "chat.postEphemeral");
    expect(eph).to.have.length(1);
    expect(eph[0].args).to.deep.include({ channel: "C04SECOPS01", user: MALLORY });
    expect(eph[0].args.text).to.contain("only the security team's approvers");
  });

  it("an approver's Deny records DENIED once; the worker revokes exactly once by GroupId + rule id, verifies, and updates the message", async () => {
    const value = JSON.stringify({ changeId: record.eventID, ruleIds: [ruleId] });
    const res = await interact(slackRequest(click(ALICE, DENY_ACTION, value, "1700000000.000001")));
    expect(res.statusCode).to.equal(200);
    expect(await state(ruleId)).to.equal("DENIED");
    // Second click (or a second approver): nothing moves.
    await interact(slackRequest(click("U02BOBSEC02", DENY_ACTION, value, "1700000000.000001")));
    expect(await state(ruleId)).to.equal("DENIED");

    const event = await streamEventFor(ddb, [ruleId]);
    const outcomes = await worker(event);
    expect(outcomes).to.deep.equal([{ ruleId, outcome: "reverted" }]);
    const sts = aws.calls.filter((c) => c.action === "AssumeRole");
    expect(sts).to.have.length(1);
    expect(sts[0].params).to.deep.include({
      RoleArn: `arn:aws:iam::${record.recipientAccountId}:role/${SPOKE_ROLE_NAME}`,
      ExternalId: "trailwatch-sg-revert-o-7k2mq9x4ab",
      RoleSessionName: "trailwatch-sg-revert",
    });
    const revokes = aws.calls.filter((c) => c.action.startsWith("RevokeSecurityGroup"));
    expect(revokes.map((c) => [c.action, c.params.GroupId, c.params["SecurityGroupRuleId.1"], Object.keys(c.params).filter((k) => k.startsWith("IpPermissions")).length])).to.deep.equal([
      ["RevokeSecurityGroupIngress", groupId, ruleId, 0],
    ]);
    expect(aws.calls.filter((c) => c.action === "DescribeSecurityGroupRules").map((c) => c.params["SecurityGroupRuleId.1"])).to.deep.equal([ruleId]);
    expect(await state(ruleId)).to.equal("REVERTED");
    const last = updates().at(-1)!.args;
    // The review message itself is rewritten (its ts as Slack returned it, stored on the review item).
    const item = (await scanAll(ddb.client, "reviews")).find((r) => r.pk.S === ruleId)!;
    expect(last.ts).to.be.a("string").and.equal(item.ts.S);
    expect(JSON.stringify(last.blocks)).to.contain("reverted").and.contain(`<@${ALICE}>`);
    expect(last.blocks.some((b: any) => b.type === "actions")).to.equal(false);

    // The stream redelivers the batch: the rule is no longer DENIED, nothing is revoked again.
    expect(await worker(event)).to.deep.equal([{ ruleId, outcome: "not-denied" }]);
    expect(aws.calls.filter((c) => c.action.startsWith("RevokeSecurityGroup"))).to.have.length(1);
  });

  it("reports a rule someone already removed as already gone", async () => {
    const other: CloudTrailRecord = JSON.parse(JSON.stringify(record));
    other.eventID = "second-change";
    other.responseElements!.securityGroupRuleSet.items[0].securityGroupRuleId = "sgr-0aaaaaaaaaaaaaaa1";
    expect((await detect(toEnvelope(other))).outcome).to.equal("queued");
    await outbox.deliver();
    const value = JSON.stringify({ changeId: "second-change", ruleIds: ["sgr-0aaaaaaaaaaaaaaa1"] });
    await interact(slackRequest(click(ALICE, DENY_ACTION, value, "1700000000.000002")));
    // not in ec2Rules: EC2 answers InvalidSecurityGroupRuleId.NotFound
    expect(await worker(await streamEventFor(ddb, ["sgr-0aaaaaaaaaaaaaaa1"]))).to.deep.equal([{ ruleId: "sgr-0aaaaaaaaaaaaaaa1", outcome: "already-gone" }]);
    expect(await state("sgr-0aaaaaaaaaaaaaaa1")).to.equal("REVERTED");
    expect(JSON.stringify(updates().at(-1)!.args.blocks)).to.contain("already gone");
  });

  it("Approve keeps the rule: APPROVED, buttons gone, nothing revoked", async () => {
    const other: CloudTrailRecord = JSON.parse(JSON.stringify(record));
    other.eventID = "third-change";
    other.responseElements!.securityGroupRuleSet.items[0].securityGroupRuleId = "sgr-0bbbbbbbbbbbbbbb2";
    await detect(toEnvelope(other));
    await outbox.deliver();
    const revokesBefore = aws.calls.filter((c) => c.action.startsWith("Revoke")).length;
    await interact(slackRequest(click(ALICE, APPROVE_ACTION, JSON.stringify({ changeId: "third-change", ruleIds: ["sgr-0bbbbbbbbbbbbbbb2"] }), "1700000000.000003")));
    expect(await state("sgr-0bbbbbbbbbbbbbbb2")).to.equal("APPROVED");
    const last = updates().at(-1)!.args;
    expect(JSON.stringify(last.blocks)).to.contain("approved: kept");
    expect(last.blocks.some((b: any) => b.type === "actions")).to.equal(false);
    expect(aws.calls.filter((c) => c.action.startsWith("Revoke")).length).to.equal(revokesBefore);
  });

  it("expires undecided reviews past their time and says so in the message", async () => {
    const store = dynamoReviewStore(ddb.client, "reviews");
    const other: CloudTrailRecord = JSON.parse(JSON.stringify(record));
    other.eventID = "fourth-change";
    other.responseElements!.securityGroupRuleSet.items[0].securityGroupRuleId = "sgr-0ccccccccccccccc3";
    await detect(toEnvelope(other));
    await outbox.deliver();
    // Age the review past its expiry (the detector set now + expireAfterMinutes).
    const [item] = await store.get(["sgr-0ccccccccccccccc3"]);
    await store.create({ ...item, ruleId: "sgr-0ddddddddddddddd4", ruleIds: ["sgr-0ddddddddddddddd4"], changeId: "fifth-change", expiresAt: Math.floor(Date.now() / 1000) - 60 });
    await store.attachMessage("sgr-0ddddddddddddddd4", "C04SECOPS01", "1700000000.000099");
    const { expired } = await expire({});
    expect(expired).to.deep.equal(["sgr-0ddddddddddddddd4"]);
    expect(await state("sgr-0ddddddddddddddd4")).to.equal("EXPIRED");
    expect(await state("sgr-0ccccccccccccccc3")).to.equal("PENDING");
    const last = updates().at(-1)!.args;
    expect(last.ts).to.equal("1700000000.000099");
    expect(JSON.stringify(last.blocks)).to.contain("expired without a decision");
  });
});

describe("SgRevertBot in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();

  it("spoke role: trusts only the hub role with the ExternalId, may only revoke and describe rules; in members and management", () => {
    const set = one(plan(), "aws:cloudformation/stackSet:StackSet", "sg-bot-spokes").inputs;
    expect(set).to.deep.include({ permissionModel: "SERVICE_MANAGED", capabilities: ["CAPABILITY_NAMED_IAM"] });
    const hubRole = one(plan(), "aws:iam/role:Role", "sg-bot-worker-role");
    expect(set.parameters.HubRoleArn).to.match(new RegExp(`^arn:aws:iam::444455556666:role/sg-bot-worker-role`));
    const t = JSON.parse(set.templateBody).Resources.SpokeRole.Properties;
    expect(t.RoleName).to.equal(SPOKE_ROLE_NAME);
    expect(t.AssumeRolePolicyDocument.Statement).to.deep.equal([
      { Sid: "HubRoleWithExternalId", Effect: "Allow", Principal: { AWS: { Ref: "HubRoleArn" } }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } } } },
    ]);
    const actions = t.Policies[0].PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()).sort();
    expect(actions).to.deep.equal(["ec2:DescribeSecurityGroupRules", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"]);
    const mgmt = one(plan(), "aws:iam/role:Role", "sg-bot-spoke-management");
    expect(mgmt.provider).to.match(/aws-management-eu-west-1$/);
    expect(json(mgmt.inputs.assumeRolePolicy).Statement[0]).to.deep.include({ Principal: { AWS: set.parameters.HubRoleArn }, Condition: { StringEquals: { "sts:ExternalId": "trailwatch-sg-revert-o-7k2mq9x4ab" } } });
    void hubRole;
  });

  it("hub role may assume only this organization's spoke roles; the worker reads only DENIED reviews from the stream", () => {
    const doc = json(one(plan(), "aws:iam/rolePolicy:RolePolicy", "sg-bot-worker-policy").inputs.policy);
    const assume = doc.Statement.find((s: any) => s.Action === "sts:AssumeRole");
    expect(assume).to.deep.include({ Resource: `arn:aws:iam::*:role/${SPOKE_ROLE_NAME}`, Condition: { StringEquals: { "aws:ResourceOrgID": "o-7k2mq9x4ab" } } });
    expect(doc.Statement.flatMap((s: any) => [s.Action].flat())).not.to.include.members(["ec2:RevokeSecurityGroupIngress"]);
    const mapping = one(plan(), "aws:lambda/eventSourceMapping:EventSourceMapping", "sg-bot-worker-source").inputs;
    expect(JSON.parse(mapping.filterCriteria.filters[0].pattern)).to.deep.equal({ dynamodb: { NewImage: { state: { S: ["DENIED"] } } } });
    const table = one(plan(), "aws:dynamodb/table:Table", "sg-bot-reviews").inputs;
    expect(table).to.deep.include({ streamEnabled: true, streamViewType: "NEW_IMAGE", pointInTimeRecovery: { enabled: true }, ttl: { attributeName: "purgeAt", enabled: true } });
    expect(table.serverSideEncryption.enabled).to.equal(true);
  });

  it("the Slack request URL is a Function URL; secrets come from Secrets Manager, never the environment; the manifest points Slack at it", () => {
    const urlRes = one(plan(), "aws:lambda/functionUrl:FunctionUrl", "slack-app-url").inputs;
    expect(urlRes.authorizationType).to.equal("NONE");
    for (const fn of ["sg-bot-detect", "slack-app", "sg-bot-worker", "sg-bot-expire"]) {
      const env = one(plan(), "aws:lambda/function:Function", fn).inputs.environment.variables;
      expect(JSON.stringify(env)).not.to.match(/xoxb-|\[secret\]/);
    }
    const env = one(plan(), "aws:lambda/function:Function", "slack-app").inputs.environment.variables;
    expect(env.SLACK_SIGNING_SECRET_SECRET).to.match(/^arn:aws:secretsmanager:eu-west-1:444455556666:secret:/);
    const settings = JSON.parse(env.SG_BOT_SETTINGS);
    expect(settings).to.deep.include({ channel: "C04SECOPS01", minRisk: "medium", approverUserIds: ["U02ALICE001", "U02BOBSEC02"], autoRevertPorts: [] });
    const manifest = JSON.parse(JSON.parse(fs.readFileSync(path.join(plan().dir, "outputs.json"), "utf8")).slackAppManifest);
    const url = JSON.parse(fs.readFileSync(path.join(plan().dir, "outputs.json"), "utf8")).slackRequestUrl;
    expect(manifest.settings.interactivity).to.deep.equal({ is_enabled: true, request_url: url });
    expect(manifest.oauth_config.scopes.bot).to.have.members(["chat:write", "usergroups:read", "users:read", "users:read.email", "channels:history", "groups:history", "commands"]);
    expect(manifest.features.slash_commands.map((c: any) => [c.command, c.url])).to.deep.equal([["/trailwatch-watch", url]]);
  });
});
