/**
 * The deny processor exactly as `npm run plan` packs it (its __index.js and node_modules), run like Lambda runs
 * it against dynalite, a Secrets Manager stub and a Slack API stub on 127.0.0.1.
 */
import { expect } from "chai";
import * as path from "path";
import { prodPlan, one, loadHandler } from "./planFixture";
import { createTable, scanAll, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { outboxHarness } from "./outboxServices";
import { stratusRecords } from "./sharedData";
import { toEnvelope, type CloudTrailRecord } from "../functions/cloudtrail";
import { analyzeDeny } from "../functions/deny/analyze";
import { findingKey } from "../functions/deny/store";

function sqsMessage(id: string, body: unknown) {
  return { messageId: id, receiptHandle: `rh-${id}`, body: typeof body === "string" ? body : JSON.stringify(body), attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:eu-west-1:444455556666:q", awsRegion: "eu-west-1" };
}

describe("deny processor Lambda (from the plan's archive)", function () {
  this.timeout(180_000);
  let handler: (event: unknown) => Promise<any>;
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startSlackStub>>;
  let outbox: Awaited<ReturnType<typeof outboxHarness>>;
  const denies: CloudTrailRecord[] = stratusRecords()
    .map((r) => r.record)
    .filter((r) => r.errorCode === "Client.UnauthorizedOperation");

  before(async () => {
    const plan = prodPlan();
    const fn = one(plan, "aws:lambda/function:Function", "deny-advisor-processor");
    ddb = await startDynalite();
    secrets = await startSecretsStub({ "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot": "xoxb-test-token" });
    slack = await startSlackStub();
    await createTable(ddb.client, "findings", "pk");
    await createTable(ddb.client, "roles", "roleArn");
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url });
    // Digests reach Slack through the outbox: the poster from the plan's archive delivers what the processor queued.
    outbox = await outboxHarness({ ddb, createTable, poster: () => loadHandler(plan, "slack-outbox-poster") });
    // The function's own environment, as the plan declares it, with the tables and queue pointed at the stand-ins.
    const env = fn.inputs.environment.variables;
    expect(Object.keys(env).sort()).to.deep.equal(["DECODE_EXTERNAL_ID", "DECODE_HOME_REGION", "FINDINGS_TABLE", "OWNER_TAG_KEY", "ROLES_TABLE", "SLACK_BOT_TOKEN_SECRET", "SLACK_CHANNEL_ID", "SLACK_OUTBOX_QUEUE_URL"]);
    Object.assign(process.env, env, {
      FINDINGS_TABLE: "findings",
      ROLES_TABLE: "roles",
      SLACK_BOT_TOKEN_SECRET: "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot",
      SLACK_API_URL: slack.apiUrl,
      SLACK_OUTBOX_QUEUE_URL: outbox.sqs.urlOf("outbox.fifo"),
    });
    // Decoding through the spokes has its own test (denyDecode.test.ts, with an STS stub); off here.
    delete process.env.DECODE_EXTERNAL_ID;
    handler = require(path.join(plan.dir, "functions", "deny-advisor-processor", "__index.js")).handler;
  });

  after(async () => {
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), outbox?.close()]);
  });

  it("counts duplicates on one row, reports a poison message as the only batch item failure, posts one digest", async () => {
    const [a, b] = [denies[0], denies.find((d) => d.errorMessage !== denies[0].errorMessage || d.userIdentity?.arn !== denies[0].userIdentity?.arn)!];
    const result = await handler({
      Records: [sqsMessage("m1", toEnvelope(a)), sqsMessage("poison", "{not json"), sqsMessage("m2", toEnvelope(a)), sqsMessage("m3", toEnvelope(b))],
    });
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "poison" }] });
    // Queued, not yet posted: the findings are not marked notified until Slack accepted the digest.
    expect((await scanAll(ddb.client, "findings")).some((r) => r.notifiedHash)).to.equal(false);
    await outbox.deliver();
    const rows = await scanAll(ddb.client, "findings");
    expect(rows).to.have.length(2);
    const seen = rows.map((r) => Number(r.seen.N)).sort();
    expect(seen).to.deep.equal([1, 2]);
    for (const r of rows) expect(Number(r.expiresAt.N)).to.be.greaterThan(Date.now() / 1000 + 80 * 86400);
    const posts = slack.calls.filter((c) => c.method === "chat.postMessage");
    expect(posts).to.have.length(1);
    expect(posts[0].token).to.equal("xoxb-test-token");
    expect(posts[0].args.channel).to.equal("C04SECOPS01");
    const text = JSON.stringify(posts[0].args.blocks);
    expect(text).to.contain("was denied");
    expect(text.match(/was denied/g)).to.have.length(2); // one entry per distinct finding, the duplicate folded
    expect(rows.every((r) => r.notifiedHash?.S === r.suggestionHash.S)).to.equal(true);
    // The archive's analysis marks GetPasswordData sensitive, keeps it and the session, and says so in Slack.
    const pwd = rows.find((r) => r.action.S === "ec2:GetPasswordData");
    if (pwd) {
      expect(JSON.parse(pwd.sensitive.S!)).to.deep.equal({ level: "Read", reason: "reads an instance's Windows administrator password" });
      // The archive's text, not the module's: a helper named like a JS global would be replaced by the global there
      // (TOOLCHAIN.md, CallbackFunction and global names).
      expect(text).to.match(/Review before granting\*: `[^`]+` is sensitive \(Read\)/);
    }
    expect(rows.every((r) => typeof r.lastSessionName?.S === "string")).to.equal(true);
  });

  it("does not post again for findings already announced, but keeps counting", async () => {
    const before = slack.calls.length;
    const result = await handler({ Records: [sqsMessage("m4", toEnvelope(denies[0]))] });
    expect(result).to.deep.equal({ batchItemFailures: [] });
    await outbox.deliver();
    expect(slack.calls.length).to.equal(before);
    const rows = await scanAll(ddb.client, "findings");
    expect(rows.map((r) => Number(r.seen.N)).sort()).to.deep.equal([1, 3]);
  });

  it("names the role's owner from the inventory the role-change Lambda keeps (both from the archive)", async () => {
    const plan = prodPlan();
    const rolesEnv = one(plan, "aws:lambda/function:Function", "deny-advisor-roles").inputs.environment.variables;
    expect(rolesEnv.OWNER_TAG_KEY).to.equal(process.env.OWNER_TAG_KEY);
    const rolesHandler = require(path.join(plan.dir, "functions", "deny-advisor-roles", "__index.js")).handler;
    // A denied role the channel has not heard about yet, then a TagRole for it as CloudTrail logs it in us-east-1.
    const keyOf = async (d: CloudTrailRecord) => findingKey(await analyzeDeny(d));
    const rows = await scanAll(ddb.client, "findings");
    const known = new Set(rows.map((r) => r.pk.S));
    let fresh: CloudTrailRecord | undefined;
    for (const d of denies) if (d.userIdentity?.sessionContext?.sessionIssuer?.userName && !known.has(await keyOf(d))) (fresh ??= d);
    expect(fresh, "a deny the table has not seen").to.not.equal(undefined);
    const issuer = fresh!.userIdentity!.sessionContext!.sessionIssuer!;
    const tagRole: CloudTrailRecord = {
      eventVersion: "1.08", eventSource: "iam.amazonaws.com", eventName: "TagRole", awsRegion: "us-east-1", eventTime: "2026-11-20T09:00:00Z",
      eventID: "tag-1", recipientAccountId: fresh!.recipientAccountId, userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/admin/s" },
      requestParameters: { roleName: issuer.userName, tags: [{ key: "owner", value: "U02ALICE001" }, { key: "team", value: "payments" }] }, responseElements: null,
    };
    expect(await rolesHandler(toEnvelope(tagRole))).to.deep.equal({ applied: `arn:aws:iam::${fresh!.recipientAccountId}:role/${issuer.userName}` });
    const before = slack.calls.length;
    const result = await handler({ Records: [sqsMessage("m5", toEnvelope(fresh!))] });
    expect(result).to.deep.equal({ batchItemFailures: [] });
    await outbox.deliver();
    const posts = slack.calls.slice(before).filter((c) => c.method === "chat.postMessage");
    expect(posts).to.have.length(1);
    // The tag is shown, not turned into a mention: prod's config lists no slack.mentionableIds, and whoever may tag a
    // role must not choose whom the bot pings (tests/slackHostile.test.ts covers an allow-listed owner).
    expect(JSON.stringify(posts[0].args.blocks)).to.contain("owner U02ALICE001").and.not.contain("<@U02ALICE001>");
  });

  it("reads the Slack token from Secrets Manager once per container, never from the environment", () => {
    expect(secrets.reads).to.deep.equal(["arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot"]);
    expect(Object.values(process.env).some((v) => v === "xoxb-test-token")).to.equal(false);
  });
});
