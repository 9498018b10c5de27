/**
 * Every planned Lambda archive that posts to Slack, run like Lambda runs it against a Slack stub
 * that refuses what Slack refuses (tests/slackBlockKit.ts), with hostile values in every field an attacker controls
 * (role paths and session names, user paths, resource ids, tags, rule descriptions, GuardDuty titles and user agents,
 * Config annotations): every notice is posted, none is refused, no live mention or link that our code or config did
 * not make, no percent-encoded text (the global `escape()` bug), no bidi or zero-width character.
 * One variant plan of the prod stack: change feed on (Slack digest for prod), auto-revert for RDP, account names.
 * New messages go through the Slack outbox: the features' archives send their notices to a local SQS stub
 * (tests/outboxServices.ts) and the planned `slack-outbox-poster` archive posts what was queued to the Block Kit stub,
 * so the messages checked are the ones Slack receives (with the outbox's message metadata). Updates and ephemeral
 * answers still call Slack directly.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ScanCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { loadHandler, one, runPlan, ROOT, type PlanRun } from "./planFixture";
import { createTable, startAwsQueryStub, startDynalite, startSecretsStub, useLocalAwsEnv } from "./localServices";
import { SIGNING_SECRET, buttonClick, commandRequest, interactionRequest } from "./slackRequests";
import { hiddenCharacters, metadataVerdict, percentEncoded, startBlockKitSlackStub, untrustedMarkup, type RecordedCall } from "./slackBlockKit";
import { outboxHarness, OUTBOX_QUEUE } from "./outboxServices";
import { guardDutyEvent } from "./fixtures/guardDutyFinding";
import { toEnvelope, type CloudTrailRecord } from "../functions/cloudtrail";
import { DENY_ACTION } from "../functions/sg/revert/messages";
import { DETACH_ACTION } from "../functions/scp/watch";
import { NOTICE_EVENT_TYPE } from "../functions/slack/outbox";

type Handler = (event: unknown, context?: unknown) => Promise<any>;

/** Every item, all pages (a Scan page stops at 1 MB, and the review items here are large). */
async function scanAll(client: Awaited<ReturnType<typeof startDynalite>>["client"], table: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
const BOT = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot";
const SIGNING = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-signing";
const ALICE = "U02ALICE001"; // approver in Pulumi.prod.yaml
const APPROVERS = ["U02ALICE001", "U02BOBSEC02"];
const ACCT = "210987654321";

// What attackers put in the fields they control.
const PING = "<!channel><!here><@U0ATTACKER1><!subteam^S0EVIL>";
const PHISH = "<https://evil.example|approve>";
const BIDI = "\u202Egpj.exe\u202C\u200B";
/** An IAM path may hold any printable ASCII (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html). */
const PATH = `/${PING}/${PHISH}/${BIDI}/${"deep/".repeat(600)}`; // ~3,000 characters
const SECRET = `${PING}-${"s".repeat(2040 - PING.length - 1)}`; // a 2,040-character secret id

function assumedRole(role: string, session: string, path = PATH) {
  return {
    type: "AssumedRole",
    arn: `arn:aws:sts::${ACCT}:assumed-role/${role}/${session}`,
    accountId: ACCT,
    principalId: `AROAEXAMPLE:${session}`,
    sessionContext: { sessionIssuer: { type: "Role", arn: `arn:aws:iam::${ACCT}:role${path}${role}`, userName: role, accountId: ACCT, principalId: "AROAEXAMPLE" } },
  };
}

function deny(id: string, role: string, action: string, resource: string, service: string): CloudTrailRecord {
  const ui = assumedRole(role, `alice${BIDI}${PING}`);
  return {
    eventVersion: "1.09",
    eventID: id,
    eventTime: "2026-11-20T10:00:00Z",
    eventSource: `${service}.amazonaws.com`,
    eventName: action.split(":")[1],
    awsRegion: "eu-west-1",
    recipientAccountId: ACCT,
    errorCode: "AccessDenied",
    errorMessage: `User: ${ui.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    userIdentity: ui,
    requestParameters: null,
    responseElements: null,
  } as unknown as CloudTrailRecord;
}

function sqs(id: string, body: unknown) {
  return { messageId: id, receiptHandle: `rh-${id}`, body: JSON.stringify(body), attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:eu-west-1:444455556666:q", awsRegion: "eu-west-1" };
}

/** An AuthorizeSecurityGroupIngress by an IAM user with a hostile path: `ports.length` rules, hostile descriptions. */
function sgRecord(id: string, groupId: string, ports: number[], ruleIdOf: (i: number) => string): CloudTrailRecord {
  const items = ports.map((p, i) => ({
    cidrIpv4: "0.0.0.0/0",
    fromPort: p,
    toPort: p,
    groupId,
    groupOwnerId: ACCT,
    ipProtocol: "tcp",
    isEgress: false,
    securityGroupRuleId: ruleIdOf(i),
    description: `${PING} ${PHISH} ${BIDI} ${"d".repeat(200)}`,
  }));
  return {
    eventVersion: "1.09",
    eventID: id,
    eventTime: "2026-11-20T10:00:00Z",
    eventSource: "ec2.amazonaws.com",
    eventName: "AuthorizeSecurityGroupIngress",
    awsRegion: "eu-west-1",
    recipientAccountId: ACCT,
    userIdentity: { type: "IAMUser", arn: `arn:aws:iam::${ACCT}:user${PATH}mallory${PING}`, accountId: ACCT, userName: `mallory${PING}` },
    requestParameters: { groupId, ipPermissions: { items: ports.map((p) => ({ ipProtocol: "tcp", fromPort: p, toPort: p, ipRanges: { items: [{ cidrIp: "0.0.0.0/0", description: PING }] } })) } },
    responseElements: { _return: true, securityGroupRuleSet: { items } },
  } as unknown as CloudTrailRecord;
}

describe("Slack messages from every posting archive, with hostile values", function () {
  this.timeout(900_000);
  let plan: PlanRun;
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startBlockKitSlackStub>>;
  let aws: Awaited<ReturnType<typeof startAwsQueryStub>>;
  let outbox: Awaited<ReturnType<typeof outboxHarness>>;
  /** Notice ids the features queued (every one must end up posted, none dead-lettered). */
  const queued = new Set<string>();
  const ec2Rules: Record<string, string> = {};
  const attached = ["p-examplescp1@ou-8x1f-abcd1234"];
  const load = (fn: string): Handler => loadHandler(plan, fn);
  const posted = (from: number) => slack.calls.slice(from).filter((c) => c.method === "chat.postMessage" || c.method === "chat.update");
  const shown = (c: RecordedCall) => JSON.stringify(c.args.blocks ?? []) + c.args.text;
  /**
   * Run the plan's outbox poster over everything the features queued, as Lambda's SQS event source would: afterwards
   * nothing waits, nothing was dead-lettered, SQS refused no hand-over, and each notice was posted by the poster.
   */
  const deliver = async () => {
    for (const m of outbox.sqs.queues[OUTBOX_QUEUE] ?? []) queued.add(JSON.parse(m.body).id);
    await outbox.deliver();
    expect(outbox.sqs.queues[OUTBOX_QUEUE] ?? [], "left in the outbox").to.have.length(0);
    expect(outbox.dead().map((m) => `${JSON.parse(m.body).source}: ${m.attributes.reason}`), "dead-lettered").to.deep.equal([]);
    expect(outbox.sqs.refused, "SQS refused a hand-over").to.deep.equal([]);
  };

  before(async () => {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
    doc.config["trailwatch:features"] = { ...doc.config["trailwatch:features"], changeFeed: true };
    doc.config["trailwatch:changeFeed"] = { environments: { [ACCT]: { environment: "prod", owner: `${PING}${PHISH}` } }, defaultEnvironment: "dev", webhooks: [], slackDigest: { enabled: true, environments: ["prod"], everyMinutes: 5 } };
    doc.config["trailwatch:slack"] = { ...doc.config["trailwatch:slack"], mentionableIds: [ALICE] };
    doc.config["trailwatch:sgRevertBot"] = { ...(doc.config["trailwatch:sgRevertBot"] ?? {}), autoRevertPorts: [3389], accountNames: { [ACCT]: "prod-payments" } };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-hostile-")), "Pulumi.variant.yaml");
    fs.writeFileSync(file, yaml.dump(doc));
    plan = runPlan(["--stack", "prod", "--config", file]);
    if (plan.status !== 0) throw new Error(`variant plan failed (${plan.status}):\n${plan.stderr}`);
    ddb = await startDynalite();
    secrets = await startSecretsStub({ [BOT]: "xoxb-test-token", [SIGNING]: SIGNING_SECRET });
    slack = await startBlockKitSlackStub({ lookupByEmail: { "bob@example.com": "U02BOBSEC02" } });
    aws = await startAwsQueryStub(ec2Rules, { attachedPolicies: attached });
    for (const [t, k] of [["findings", "pk"], ["roles", "roleArn"], ["reviews", "pk"], ["scp-windows", "pk"], ["notified", "pk"]]) await createTable(ddb.client, t, k);
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url, STS: aws.url, EC2: aws.url, SNS: aws.url, ORGANIZATIONS: aws.url });
    for (const r of plan.resources.filter((x) => x.type === "aws:lambda/function:Function")) Object.assign(process.env, r.inputs.environment?.variables ?? {});
    Object.assign(process.env, {
      FINDINGS_TABLE: "findings",
      ROLES_TABLE: "roles",
      REVIEW_TABLE: "reviews",
      SCP_WATCH_TABLE: "scp-windows",
      NOTIFIED_TABLE: "notified",
      SLACK_BOT_TOKEN_SECRET: BOT,
      SLACK_SIGNING_SECRET_SECRET: SIGNING,
      SLACK_API_URL: slack.apiUrl,
    });
    // After the functions' environments: the queue URLs, ledger and pace point at the local outbox.
    outbox = await outboxHarness({ ddb, createTable, poster: () => load("slack-outbox-poster") });
  });
  after(async () => {
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), aws?.close(), outbox?.close()]);
  });

  it("deny digest: hostile role paths, session names, owner tags and a 2,040-character secret id are posted as text", async () => {
    const roles = load("deny-advisor-roles");
    const tag = (role: string, owner: string): CloudTrailRecord =>
      ({ eventVersion: "1.08", eventSource: "iam.amazonaws.com", eventName: "TagRole", awsRegion: "us-east-1", eventTime: "2026-11-20T09:00:00Z", eventID: `tag-${role}`, recipientAccountId: ACCT, userIdentity: { type: "AssumedRole", arn: `arn:aws:sts::${ACCT}:assumed-role/admin/s` }, requestParameters: { roleName: role, tags: [{ key: "owner", value: owner }] }, responseElements: null }) as unknown as CloudTrailRecord;
    await roles(toEnvelope(tag("ci-deployer", "U0ATTACKER1")));
    await roles(toEnvelope(tag("data-reader", PING)));
    await roles(toEnvelope(tag("ops-owner", ALICE)));
    await roles(toEnvelope(tag("email-owner", "bob@example.com")));
    await roles(toEnvelope(tag("stranger-owner", "eve@example.com")));
    const from = slack.calls.length;
    const out = await load("deny-advisor-processor")({
      Records: [
        sqs("m1", toEnvelope(deny("d1", "ci-deployer", "secretsmanager:GetSecretValue", `arn:aws:secretsmanager:eu-west-1:${ACCT}:secret:${SECRET}`, "secretsmanager"))),
        sqs("m2", toEnvelope(deny("d2", "ci-deployer", "ssm:GetParameter", `arn:aws:ssm:eu-west-1:${ACCT}:parameter/${PHISH}`, "ssm"))),
        sqs("m3", toEnvelope(deny("d3", "data-reader", "s3:GetObject", `arn:aws:s3:::bucket/${PING}`, "s3"))),
        sqs("m4", toEnvelope(deny("d4", "ops-owner", "s3:PutObject", `arn:aws:s3:::bucket/key`, "s3"))),
        sqs("m5", toEnvelope(deny("d5", "email-owner", "s3:PutObject", `arn:aws:s3:::bucket/key`, "s3"))),
        sqs("m6", toEnvelope(deny("d6", "stranger-owner", "s3:PutObject", `arn:aws:s3:::bucket/key`, "s3"))),
      ],
    });
    expect(out).to.deep.equal({ batchItemFailures: [] });
    expect(outbox.sqs.queues[OUTBOX_QUEUE] ?? []).to.have.length(1); // one digest queued
    await deliver();
    const rows = await scanAll(ddb.client, "findings");
    expect(rows).to.have.length(6);
    expect(slack.calls.filter((c) => c.method === "users.lookupByEmail").map((c) => c.args.email).sort()).to.deep.equal(["bob@example.com", "eve@example.com"]);
    for (const r of rows) expect(Buffer.byteLength(r.pk.S!, "utf8")).to.be.at.most(2048);
    expect(rows.some((r) => r.resource.S!.includes(SECRET.slice(-100)))).to.equal(true); // stored, not dropped
    const posts = posted(from);
    expect(posts).to.have.length(1);
    expect(posts[0].error).to.equal(null);
    const text = shown(posts[0]);
    expect(text).to.contain("`ssm:GetParameter`").and.contain("`secretsmanager:GetSecretValue`");
    expect(text).to.contain("owner U0ATTACKER1").and.contain("owner &lt;!channel&gt;").and.contain("owner <@U02ALICE001>");
    expect(text).to.contain("owner <@U02BOBSEC02>").and.contain("owner eve@example.com");
    expect(text).to.contain("account prod-payments (210987654321)");
    expect(text).to.contain("&lt;https://evil.example|approve&gt;");
    expect(rows.every((r) => r.notifiedHash?.S === r.suggestionHash.S)).to.equal(true);
  });

  it("change digest: a hostile principal, trail name and owner; 60 changes fit one message with '… and N more'", async () => {
    const normalizer = load("change-feed-normalizer");
    const poster = load("change-feed-slack");
    const fnArn = `arn:aws:lambda:eu-west-1:444455556666:function:tw-prod-change-feed-normalizer`;
    const change = (i: number): CloudTrailRecord =>
      ({
        eventVersion: "1.09", eventID: `chg-${i}`, eventTime: "2026-11-20T10:00:00Z", eventSource: "cloudtrail.amazonaws.com", eventName: "StopLogging", awsRegion: "eu-west-1", recipientAccountId: ACCT,
        userIdentity: assumedRole("ops", `bob${BIDI}${PING}`), userAgent: `${PHISH} aws-cli/2`, sourceIPAddress: "203.0.113.9",
        requestParameters: { name: `arn:aws:cloudtrail:eu-west-1:${ACCT}:trail/${PING}${"t".repeat(1500)}` }, responseElements: null,
      }) as unknown as CloudTrailRecord;
    const records = [];
    for (let i = 0; i < 60; i++) {
      const req = toEnvelope(change(i));
      const res = await normalizer(req);
      records.push({ messageId: `c${i}`, body: JSON.stringify({ version: "0", id: `e${i}`, "detail-type": "Lambda Function Invocation Result - Success", source: "lambda", account: "444455556666", time: "2026-11-20T10:05:00Z", region: "eu-west-1", resources: [`${fnArn}:$LATEST`], detail: { version: "1.0", requestContext: { functionArn: `${fnArn}:$LATEST`, condition: "Success" }, requestPayload: req, responseContext: { statusCode: 200 }, responsePayload: res } }) });
    }
    const from = slack.calls.length;
    const out = await poster({ Records: records });
    expect(out).to.deep.equal({ batchItemFailures: [] });
    expect(outbox.sqs.queues[OUTBOX_QUEUE] ?? []).to.have.length(1); // one digest for prod
    await deliver();
    const posts = posted(from);
    expect(posts).to.have.length(1);
    expect(posts[0].error).to.equal(null);
    expect(posts[0].args.blocks).to.have.length.at.most(50);
    expect(shown(posts[0])).to.contain("… and 12 more").and.contain("`cloudtrail:StopLogging`").and.not.contain("%3A");
  });

  it("SG review: 120 hostile rules by a user with a 3,000-character path; buttons decide only the rules they list; revert and updates stay valid", async () => {
    const detect = load("sg-bot-detect");
    const ids = Array.from({ length: 120 }, (_, i) => `sgr-0${String(i).padStart(16, "0")}`);
    for (const id of ids) ec2Rules[id] = "sg-0hostile0000000001";
    const from = slack.calls.length;
    const out = await detect(toEnvelope(sgRecord("sg-evt-1", "sg-0hostile0000000001", Array.from({ length: 120 }, (_, i) => 1000 + i), (i) => ids[i])));
    expect(out.outcome).to.equal("queued");
    await deliver();
    const [post] = posted(from);
    expect(posted(from)).to.have.length(1);
    expect(post.error, post.errors.join("; ")).to.equal(null);
    const blocks = post.args.blocks as any[];
    const who = blocks[1].fields[0].text as string;
    expect(who.length).to.be.at.most(2000);
    const actions = blocks.find((b) => b.type === "actions");
    const value = JSON.parse(actions.elements[1].value);
    const listed = JSON.stringify(blocks.filter((b) => b.type === "section"));
    for (const id of value.ruleIds) expect(listed).to.contain(id);
    expect(value.ruleIds.length).to.be.lessThan(120);
    expect(JSON.stringify(blocks)).to.contain(`the other ${120 - value.ruleIds.length} stay waiting`);
    expect(actions.elements[1].text.text).to.equal(`Deny these ${value.ruleIds.length} (revert)`);
    // An approver denies what the button lists: only those rules move; the message is rewritten, still valid.
    const app = load("slack-app");
    // The outbox recorded the posted message on every rule's review (the worker and the updates need it).
    expect((await scanAll(ddb.client, "reviews")).filter((r) => ids.includes(r.pk.S!)).every((r) => r.ts?.S === post.ts)).to.equal(true);
    const res = await app(interactionRequest(buttonClick(ALICE, DENY_ACTION, actions.elements[1].value, post.ts!)));
    expect(res.statusCode).to.equal(200);
    const rows = await scanAll(ddb.client, "reviews");
    const denied = rows.filter((r) => r.state.S === "DENIED").map((r) => r.pk.S).sort();
    expect(denied).to.deep.equal([...value.ruleIds].sort());
    expect(rows.filter((r) => r.state.S === "PENDING")).to.have.length(120 - value.ruleIds.length);
    const worker = load("sg-bot-worker");
    const stream = { Records: rows.filter((r) => r.state.S === "DENIED").slice(0, 10).map((r) => ({ eventName: "MODIFY", dynamodb: { NewImage: r } })) };
    const reverted = await worker(stream);
    expect(reverted.every((o: any) => o.outcome === "reverted")).to.equal(true);
    const updates = slack.calls.slice(from).filter((c) => c.method === "chat.update");
    expect(updates.length).to.be.at.least(2);
    expect(updates.every((u) => u.error === null)).to.equal(true);
  });

  it("SG auto-revert renders who decided as text, not a broken mention; expiry rewrites a review validly", async () => {
    const detect = load("sg-bot-detect");
    ec2Rules["sgr-0rdp000000000001"] = "sg-0hostile0000000002";
    const from = slack.calls.length;
    const out = await detect(toEnvelope(sgRecord("sg-evt-2", "sg-0hostile0000000002", [3389], () => "sgr-0rdp000000000001")));
    expect(out.outcome).to.equal("auto-reverting");
    await deliver();
    const [post] = posted(from);
    expect(posted(from)).to.have.length(1);
    expect(post.error).to.equal(null);
    expect(JSON.stringify(post.args.blocks)).to.contain("Decided by trailwatch (auto-revert)").and.not.contain("<@trailwatch");
    // A pending review past its time.
    ec2Rules["sgr-0exp000000000001"] = "sg-0hostile0000000003";
    expect(await detect(toEnvelope(sgRecord("sg-evt-3", "sg-0hostile0000000003", [8443], () => "sgr-0exp000000000001")))).to.deep.include({ outcome: "queued" });
    await deliver();
    await ddb.client.send(new UpdateItemCommand({ TableName: "reviews", Key: { pk: { S: "sgr-0exp000000000001" } }, UpdateExpression: "SET expiresAt = :p", ExpressionAttributeValues: { ":p": { N: "1" } } }));
    const before = slack.calls.length;
    // The sweep finds nothing unposted (the outbox recorded every review's message); the expiry rewrites the review.
    expect(await load("sg-bot-expire")({ source: "aws.events" })).to.deep.equal({ expired: ["sgr-0exp000000000001"], requeued: [] });
    const [update] = posted(before);
    expect(update.method).to.equal("chat.update");
    expect(update.error).to.equal(null);
    expect(JSON.stringify(update.args.blocks)).to.contain("expired without a decision");
  });

  it("SCP watch: hostile 'attached by', five long denied principals, the alert, the digest, a manual watch and the detach update", async () => {
    const windows = load("scp-watch-windows");
    const counter = load("scp-watch-counter");
    const from = slack.calls.length;
    const attach = {
      eventVersion: "1.08", userIdentity: assumedRole("PlatformAdmin", `eve${BIDI}${PING}`), eventTime: "2026-11-20T10:00:00Z", eventSource: "organizations.amazonaws.com", eventName: "AttachPolicy",
      awsRegion: "us-east-1", requestParameters: { policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" }, responseElements: null, eventID: "evt-attach", recipientAccountId: "111122223333",
    } as unknown as CloudTrailRecord;
    await windows({ ...toEnvelope(attach), id: "evt-attach" });
    await deliver(); // the opening message: its ts becomes the window's thread
    const scp = (i: number) => {
      const ui = assumedRole(`role${i % 5}`, `s${i}${PING}`, `${PATH}${i % 5}/`);
      return {
        ...deny(`scp-${i}`, `role${i % 5}`, "organizations:LeaveOrganization", "*", "organizations"),
        userIdentity: ui,
        errorMessage: `User: ${ui.arn} is not authorized to perform: organizations:LeaveOrganization on resource: * with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-7k2mq9x4ab/service_control_policy/p-examplescp1`,
      } as unknown as CloudTrailRecord;
    };
    const write = process.stdout.write.bind(process.stdout);
    (process.stdout as any).write = (chunk: any, ...rest: any[]) => (String(chunk).includes('"_aws"') ? true : write(chunk, ...rest));
    try {
      for (let i = 0; i < 26; i++) await counter({ ...toEnvelope(scp(i)), id: `scp-${i}` });
    } finally {
      (process.stdout as any).write = write;
    }
    await deliver(); // the threshold alert: its ts is where the detach result is written
    expect(await windows({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} })).to.deep.include({ digests: ["p-examplescp1"] });
    await deliver();
    const app = load("slack-app");
    const cmd = await app(commandRequest("/trailwatch-watch", "p-manualwatch1 15", ALICE));
    expect(cmd.statusCode).to.equal(200);
    await deliver();
    // The usage answer to a hostile command echoes it as text (the answer is mrkdwn too).
    const bad = await app(commandRequest("/trailwatch-watch", `${PING}${PHISH} 30`, ALICE));
    expect(JSON.parse(bad.body).text).to.contain("is not a policy id");
    expect(untrustedMarkup({ text: JSON.parse(bad.body).text }, APPROVERS)).to.deep.equal([]);
    const alert = posted(from).find((p) => /^p-examplescp1 caused 25 denies/.test(String(p.args.text)));
    const opened = (await scanAll(ddb.client, "scp-windows")).find((r) => r.pk.S === "window#p-examplescp1")!;
    expect(opened.alertTs?.S, "the outbox recorded the alert's ts on the window").to.equal(alert?.ts);
    await app(interactionRequest(buttonClick(ALICE, DETACH_ACTION, JSON.stringify({ policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" }), alert!.ts!)));
    await deliver();
    const row = (await scanAll(ddb.client, "scp-windows")).find((r) => r.pk.S === "window#p-examplescp1")!;
    expect(await load("scp-watch-detach")({ Records: [{ eventName: "MODIFY", dynamodb: { NewImage: row } }] })).to.deep.equal([{ policyId: "p-examplescp1", outcome: "detached" }]);
    await deliver();
    const posts = posted(from);
    const texts = posts.map((p) => String(p.args.text));
    expect(texts.filter((t) => t.startsWith("SCP rollout watch: p-examplescp1 attached to ou-8x1f-abcd1234 by role/PlatformAdmin/eve"))).to.have.length(1);
    expect(texts.filter((t) => /^p-examplescp1 caused 25 denies/.test(t))).to.have.length(1);
    expect(texts.filter((t) => /^p-examplescp1: 26 denies since/.test(t))).to.have.length(1);
    expect(texts.filter((t) => t.includes("p-manualwatch1 watch started by hand by <@U02ALICE001>"))).to.have.length(1);
    expect(texts.filter((t) => t.includes("detached from ou-8x1f-abcd1234"))).to.have.length(1);
    const digest = posts.find((p) => /^p-examplescp1: 26/.test(String(p.args.text)))!;
    expect(JSON.stringify(digest.args.blocks)).to.contain("Denied principals include").and.contain("prod-payments (210987654321)").not.contain("prod-payments (210987654321): 26 denies");
    for (const p of posts) expect(p.error, p.errors.join("; ")).to.equal(null);
  });

  it("findings notifier: hostile GuardDuty title, description, user name and user agent; a Config resource id of 2,040 characters", async () => {
    const notifier = load("findings-notifier");
    const gd = guardDutyEvent(8.5, { id: "hostile0000000000000000000000001" }) as any;
    gd.detail.title = `${PING} ${PHISH} ${BIDI}`.repeat(20);
    gd.detail.description = `${PING}\n${PHISH}\n${"x".repeat(5000)}`;
    gd.detail.resource = { resourceType: "AccessKey", accessKeyDetails: { accessKeyId: "ASIAEXAMPLE", userName: `${PING}${PHISH}`, userType: "IAMUser" } };
    gd.detail.service.action = { actionType: "AWS_API_CALL", awsApiCallAction: { api: "GetSecretValue", serviceName: "secretsmanager.amazonaws.com", userAgent: `${PHISH} ${BIDI}`, remoteIpDetails: { ipAddressV4: "198.51.100.7", country: { countryName: PING } } } };
    const cfg = {
      version: "0", id: "cfg-1", "detail-type": "Config Rules Compliance Change", source: "aws.config", account: ACCT, time: "2026-11-20T10:05:00Z", region: "eu-west-1", resources: [],
      detail: { resourceId: SECRET, awsRegion: "eu-west-1", awsAccountId: ACCT, configRuleName: "secretsmanager-rotation-enabled-check", resourceType: "AWS::SecretsManager::Secret", newEvaluationResult: { complianceType: "NON_COMPLIANT", annotation: `${PING} ${PHISH}` } },
    };
    const from = slack.calls.length;
    expect(await notifier(gd)).to.deep.include({ outcome: "queued" });
    expect(await notifier(cfg)).to.deep.include({ outcome: "queued" });
    await deliver();
    const posts = posted(from);
    expect(posts).to.have.length(2);
    for (const p of posts) expect(p.error, p.errors.join("; ")).to.equal(null);
    expect(shown(posts[0])).to.contain("`secretsmanager:GetSecretValue`").and.contain("198.51.100.7").and.contain("first <!date^");
    const rows = await scanAll(ddb.client, "notified");
    for (const r of rows) expect(Buffer.byteLength(r.pk.S!, "utf8")).to.be.at.most(2048);
    expect(rows.filter((r) => r.postedTs?.S).map((r) => r.postedTs.S).sort()).to.deep.equal(posts.map((p) => p.ts).sort()); // recorded once posted
  });

  it("the stub takes message metadata as Slack does: the outbox's is kept, a malformed one refused, a bad event_type dropped", () => {
    expect(metadataVerdict({ event_type: NOTICE_EVENT_TYPE, event_payload: { notice_id: "finding:abc" } })).to.deep.equal({ kept: { event_type: NOTICE_EVENT_TYPE, event_payload: { notice_id: "finding:abc" } } });
    expect(metadataVerdict({ event_type: "trailwatch.notice", event_payload: {} })).to.deep.equal({ warning: "invalid_metadata_schema" });
    expect(metadataVerdict({ event_type: NOTICE_EVENT_TYPE })).to.deep.equal({ error: "invalid_metadata_format" });
    expect(metadataVerdict("notice")).to.deep.equal({ error: "invalid_metadata_format" });
  });

  it("across every call: 0 refused, 0 live mentions or links our code and config did not make, no percent-encoded text, no hidden characters", () => {
    const posting = slack.calls.filter((c) => ["chat.postMessage", "chat.update", "chat.postEphemeral"].includes(c.method));
    expect(posting.length).to.be.at.least(15);
    expect(posting.filter((c) => c.error).map((c) => `${c.method}: ${c.error} ${c.errors.join("; ")}`)).to.deep.equal([]);
    expect(posting.flatMap((c) => untrustedMarkup(c.args, APPROVERS))).to.deep.equal([]);
    expect(posting.flatMap((c) => percentEncoded(c.args))).to.deep.equal([]);
    expect(posting.flatMap((c) => hiddenCharacters(c.args))).to.deep.equal([]);
    // Every notice the features queued was posted, once, by the outbox poster, with its id in the metadata Slack kept.
    expect(posting.flatMap((c) => c.warnings.map((w) => `${c.method}: ${w}`))).to.deep.equal([]);
    const noticeIds = posting.filter((c) => c.method === "chat.postMessage" && c.args.metadata?.event_type === NOTICE_EVENT_TYPE).map((c) => c.args.metadata.event_payload.notice_id as string);
    expect(queued.size).to.be.at.least(10);
    expect([...noticeIds].sort()).to.deep.equal([...queued].sort());
    expect(outbox.dead()).to.deep.equal([]);
  });
});
