/**
 * The Slack outbox: every notice posted exactly once or dead-lettered with an alarm.
 * - as planned: FIFO queue and DLQ, the poster's event source (partial batch responses, bounded pollers), alarms,
 *   least privilege; every SQS-fed Lambda reports batch item failures; every asynchronous Lambda has an on-failure
 *   destination and a DestinationDeliveryFailures alarm;
 * - the poster from the plan's archive against a scripted Slack (429 + Retry-After, 500, a timeout, channel_not_found),
 *   dynalite for the ledger and an SQS stub for the queues;
 * - a burst of 200 notices to one channel, in simulated time, against a Slack that refuses posts closer than 1 s.
 */
import { expect } from "chai";
import { json, loadHandler, ofType, one, prodPlan, type Resource } from "./planFixture";
import { createTable, scanAll, startDynalite, startSecretsStub, useLocalAwsEnv } from "./localServices";
import { drainOutbox, startScriptedSlack, startSqsStub, OUTBOX_DLQ, OUTBOX_QUEUE, OUTBOX_LEDGER } from "./outboxServices";
import { SQSClient } from "@aws-sdk/client-sqs";
import { WebClient } from "@slack/web-api";
import { classifySlackError, processOutboxBatch, type Notice } from "../functions/slack/outbox";
import { dynamoOutboxLedger, dynamoPostedRecorder, sqsDeadLetter, sqsNoticeSender, webClientOutboxSlack } from "../functions/slack/outboxAdapters";
import { OUTBOX_MAX_CONCURRENCY } from "../components/slackOutbox";

const BOT_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot";
const CHANNEL = "C04SECOPS01";
const stmts = (doc: unknown) => json(doc).Statement as any[];
const notice = (id: string, extra: Partial<Notice> = {}): Notice => ({ id, source: "test", channel: CHANNEL, text: `notice ${id}`, blocks: [{ type: "section", text: { type: "mrkdwn", text: `notice ${id}` } }], ...extra });

describe("Slack outbox in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();
  const fn = (name: string) => one(plan(), "aws:lambda/function:Function", name);

  it("queues on a KMS-encrypted FIFO queue (named .fifo, dedup by notice id) with a FIFO DLQ after 10 receives", () => {
    const q = one(plan(), "aws:sqs/queue:Queue", "slack-outbox-queue").inputs;
    const dlq = one(plan(), "aws:sqs/queue:Queue", "slack-outbox-dlq").inputs;
    // SQS: a FIFO queue's name ends in .fifo and its dead-letter queue is a FIFO queue too.
    expect(q).to.include({ fifoQueue: true, contentBasedDeduplication: false, messageRetentionSeconds: 1209600 });
    expect(q.name).to.match(/\.fifo$/);
    expect(dlq).to.include({ fifoQueue: true, messageRetentionSeconds: 1209600 });
    expect(dlq.name).to.match(/\.fifo$/);
    expect(q.kmsMasterKeyId).to.be.a("string").and.not.equal("");
    expect(dlq.kmsMasterKeyId).to.equal(q.kmsMasterKeyId);
    const redrive = json(q.redrivePolicy);
    expect(redrive.maxReceiveCount).to.equal(10);
    expect(redrive.deadLetterTargetArn).to.match(/:trailwatch-prod-slack-outbox-dlq\.fifo$/);
    // Lambda: the visibility timeout is at least six times the function timeout.
    expect(q.visibilityTimeoutSeconds).to.be.at.least(6 * fn("slack-outbox-poster").inputs.timeout);
  });

  it("drains it with one poster: batches of 10, partial batch responses, at most 2 pollers", () => {
    const esm = one(plan(), "aws:lambda/eventSourceMapping:EventSourceMapping", "slack-outbox-poster-source").inputs;
    expect(esm.eventSourceArn).to.match(/:trailwatch-prod-slack-outbox\.fifo$/);
    // A FIFO source takes at most 10 per batch; maximumConcurrency is 2 to 1000.
    expect(esm).to.deep.include({ batchSize: 10, functionResponseTypes: ["ReportBatchItemFailures"], scalingConfig: { maximumConcurrency: 2 } });
    expect(OUTBOX_MAX_CONCURRENCY).to.be.within(2, 1000);
    expect(esm.maximumBatchingWindowInSeconds ?? 0).to.equal(0); // FIFO sources take no batching window
  });

  it("alarms on the DLQ (first message), on poster errors and on notices waiting over 15 minutes, to the alert topic", () => {
    const dlqAlarm = one(plan(), "aws:cloudwatch/metricAlarm:MetricAlarm", "slack-outbox-dlq-depth").inputs;
    expect(dlqAlarm).to.include({ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", threshold: 0, comparisonOperator: "GreaterThanThreshold" });
    expect(dlqAlarm.dimensions.QueueName).to.match(/slack-outbox-dlq\.fifo$/);
    expect(dlqAlarm.alarmActions[0]).to.match(/:central-alerts/);
    expect(one(plan(), "aws:cloudwatch/metricAlarm:MetricAlarm", "slack-outbox-poster-errors").inputs).to.include({ namespace: "AWS/Lambda", metricName: "Errors" });
    expect(one(plan(), "aws:cloudwatch/metricAlarm:MetricAlarm", "slack-outbox-oldest").inputs).to.include({ metricName: "ApproximateAgeOfOldestMessage", threshold: 900 });
  });

  it("the poster may read the outbox, send to the DLQ, use its ledger and token, and update only the features' tables", () => {
    const pol = stmts(one(plan(), "aws:iam/rolePolicy:RolePolicy", "slack-outbox-poster-policy").inputs.policy);
    const by = (sid: string) => pol.find((s) => s.Sid === sid);
    expect(by("ReceiveNotices").Action).to.deep.equal(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]);
    expect(by("DeadLetters")).to.deep.include({ Action: ["sqs:SendMessage"] });
    expect(by("DeadLetters").Resource[0]).to.match(/slack-outbox-dlq\.fifo$/);
    expect(by("Ledger").Action).to.deep.equal(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    const records = ofType(plan(), "aws:iam/rolePolicy:RolePolicy", /^slack-outbox-records-/);
    expect(records.map((r) => r.name).sort()).to.deep.equal(["slack-outbox-records-deny-advisor-findings", "slack-outbox-records-findings-notified", "slack-outbox-records-scp-watch-windows", "slack-outbox-records-sg-bot-reviews"]);
    for (const r of records) expect(stmts(r.inputs.policy)[0]).to.deep.include({ Action: ["dynamodb:UpdateItem"] });
  });

  it("features hand notices to the outbox: SendMessage on the outbox queue only; no Slack token but the deny processor's (owner email lookups)", () => {
    for (const name of ["findings-notifier", "sg-bot-detect", "deny-advisor-processor", "scp-watch-counter", "scp-watch-windows"]) {
      const env = fn(name).inputs.environment.variables;
      expect(env.SLACK_OUTBOX_QUEUE_URL, name).to.be.a("string");
      const pol = stmts(one(plan(), "aws:iam/rolePolicy:RolePolicy", `${name}-policy`).inputs.policy);
      if (name === "deny-advisor-processor") {
        // It reads the token only to resolve an email owner tag (users.lookupByEmail); it posts through the outbox.
        expect(env, name).to.have.property("SLACK_BOT_TOKEN_SECRET");
        expect(pol.find((s) => s.Sid === "SlackToken"), name).to.deep.include({ Action: ["secretsmanager:GetSecretValue"] });
      } else {
        expect(env, name).to.not.have.property("SLACK_BOT_TOKEN_SECRET");
        expect(pol.find((s) => s.Sid === "SlackToken" || s.Sid === "SlackBotToken"), name).to.equal(undefined);
      }
      const send = pol.find((s) => s.Sid === "SlackOutbox");
      expect(send, name).to.deep.include({ Action: ["sqs:SendMessage"] });
      expect(send.Resource, name).to.have.length(1);
      expect(send.Resource[0], name).to.match(/slack-outbox\.fifo$/);
    }
  });

  it("every SQS-fed Lambda reports batch item failures", () => {
    const sqsFed = ofType(plan(), "aws:lambda/eventSourceMapping:EventSourceMapping").filter((m) => /^arn:aws:sqs:/.test(m.inputs.eventSourceArn));
    expect(sqsFed.length).to.be.at.least(2);
    for (const m of sqsFed) expect(m.inputs.functionResponseTypes, m.name).to.deep.equal(["ReportBatchItemFailures"]);
  });

  it("every Lambda destination has an alarm on DestinationDeliveryFailures", () => {
    const configs = ofType(plan(), "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").filter((c) => c.inputs.destinationConfig);
    expect(configs.length).to.be.at.least(5);
    const alarms = ofType(plan(), "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.metricName === "DestinationDeliveryFailures");
    for (const c of configs) {
      const a = alarms.find((x) => x.inputs.dimensions?.FunctionName === c.inputs.functionName);
      expect(a, c.name).to.not.equal(undefined);
      expect(a!.inputs).to.deep.include({ namespace: "AWS/Lambda", statistic: "Sum", threshold: 0, comparisonOperator: "GreaterThanThreshold" });
      expect(a!.inputs.alarmActions[0], c.name).to.match(/:central-alerts/);
    }
  });

  it("every Lambda EventBridge invokes has an on-failure destination (an alarmed queue) and a DestinationDeliveryFailures alarm", () => {
    const functions = ofType(plan(), "aws:lambda/function:Function");
    const arnOf = (f: Resource) => `arn:aws:lambda:eu-west-1:444455556666:function:${f.inputs.name}`;
    const targets = ofType(plan(), "aws:cloudwatch/eventTarget:EventTarget");
    const invoked = functions.filter((f) => targets.some((t) => t.inputs.arn === arnOf(f)));
    expect(invoked.length).to.be.at.least(5);
    const configs = ofType(plan(), "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
    const alarms = ofType(plan(), "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.metricName === "DestinationDeliveryFailures");
    for (const f of invoked) {
      const c = configs.find((x) => x.inputs.functionName === f.inputs.name);
      expect(c, `${f.name}: FunctionEventInvokeConfig`).to.not.equal(undefined);
      expect(c!.inputs.destinationConfig?.onFailure?.destination, f.name).to.match(/^arn:aws:(sqs|events):/);
      expect(alarms.some((a) => a.inputs.dimensions?.FunctionName === f.inputs.name), `${f.name}: DestinationDeliveryFailures alarm`).to.equal(true);
    }
  });
});

describe("Slack outbox poster (from the plan's archive) against a scripted Slack", function () {
  this.timeout(120_000);
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startScriptedSlack>>;
  let sqs: Awaited<ReturnType<typeof startSqsStub>>;
  let poster: (event: unknown, context?: unknown) => Promise<any>;
  const logs: any[] = [];
  const realLog = console.log;
  const send = (n: Notice) => sqsNoticeSender(new SQSClient({}), sqs.urlOf(OUTBOX_QUEUE)).send(n);
  const drain = () => drainOutbox(sqs, OUTBOX_QUEUE, OUTBOX_DLQ, poster);
  const posted = (id: string) => slack.messages.filter((m) => m.metadata?.event_payload?.notice_id === id);
  const ledger = async (id: string) => (await scanAll(ddb.client, OUTBOX_LEDGER)).find((r) => r.pk.S === `notice#${id}`);

  before(async () => {
    ddb = await startDynalite();
    secrets = await startSecretsStub({ [BOT_SECRET_ID]: "xoxb-test-token" });
    slack = await startScriptedSlack();
    sqs = await startSqsStub();
    await createTable(ddb.client, OUTBOX_LEDGER, "pk");
    await createTable(ddb.client, "reviews", "pk");
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url, SQS: sqs.url });
    const env = one(prodPlan(), "aws:lambda/function:Function", "slack-outbox-poster").inputs.environment.variables;
    expect(Object.keys(env).sort()).to.deep.equal(["OUTBOX_DLQ_URL", "OUTBOX_LEDGER_TABLE", "SLACK_BOT_TOKEN_SECRET", "SLACK_MIN_INTERVAL_MS"]);
    expect(env.SLACK_MIN_INTERVAL_MS).to.equal("1000");
    Object.assign(process.env, env, {
      OUTBOX_LEDGER_TABLE: OUTBOX_LEDGER,
      OUTBOX_DLQ_URL: sqs.urlOf(OUTBOX_DLQ),
      SLACK_BOT_TOKEN_SECRET: BOT_SECRET_ID,
      SLACK_API_URL: slack.apiUrl,
      SLACK_MIN_INTERVAL_MS: "20",
      SLACK_TIMEOUT_MS: "300",
    });
    poster = loadHandler(prodPlan(), "slack-outbox-poster");
    console.log = (line?: unknown, ...rest: unknown[]) => {
      try {
        logs.push(JSON.parse(String(line)));
      } catch {
        realLog(line, ...rest);
      }
    };
  });
  after(async () => {
    console.log = realLog;
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), sqs?.close()]);
  });

  it("posts a notice once with its id in the message metadata, records the ts where the feature asked, and never again", async () => {
    await ddb.client.send(new (require("@aws-sdk/client-dynamodb").PutItemCommand)({ TableName: "reviews", Item: { pk: { S: "sgr-1" }, state: { S: "PENDING" } } }));
    const n = notice("plain-1", { onPosted: [{ table: "reviews", pk: "sgr-1", set: { channel: "{channel}", ts: "{ts}" } }, { table: "reviews", pk: "sgr-gone", set: { ts: "{ts}" } }] });
    await send(n);
    await send(n); // a retried hand-over within SQS's 5-minute window is dropped by the FIFO deduplication id
    expect(sqs.queues[OUTBOX_QUEUE]).to.have.length(1);
    await drain();
    expect(posted("plain-1")).to.have.length(1);
    const [m] = posted("plain-1");
    expect(m).to.deep.include({ channel: CHANNEL, text: "notice plain-1" });
    const row = (await scanAll(ddb.client, "reviews")).find((r) => r.pk.S === "sgr-1")!;
    expect(row).to.deep.include({ ts: { S: m.ts }, channel: { S: CHANNEL }, state: { S: "PENDING" } });
    // onPosted never creates items: a purged one stays purged.
    expect((await scanAll(ddb.client, "reviews")).map((r) => r.pk.S)).to.deep.equal(["sgr-1"]);
    expect(await ledger("plain-1")).to.deep.include({ state: { S: "POSTED" }, ts: { S: m.ts } });
    // A later re-send (past the dedup window) and a redelivery both find it posted.
    const out = await poster({ Records: [{ messageId: "again", body: JSON.stringify(n) }] }, { getRemainingTimeInMillis: () => 60_000 });
    expect(out).to.deep.equal({ batchItemFailures: [] });
    expect(posted("plain-1")).to.have.length(1);
  });

  it("429 with Retry-After: waits as long as Slack says, then posts once", async () => {
    slack.script.push({ status: 429, retryAfter: 1 });
    await send(notice("rate-1"));
    const t0 = Date.now();
    await drain();
    expect(posted("rate-1")).to.have.length(1);
    expect(posted("rate-1")[0].at - t0).to.be.at.least(1000);
    expect(logs.some((l) => l.message === "rate limited" && l.notice === "rate-1" && l.retryAfterMs === 1000)).to.equal(true);
  });

  it("500 before posting: posts once on the retry", async () => {
    slack.script.push({ status: 500 });
    await send(notice("five-1"));
    await drain();
    expect(posted("five-1")).to.have.length(1);
    expect(await ledger("five-1")).to.deep.include({ state: { S: "POSTED" } });
  });

  it("500 after Slack took the message: finds it by its metadata instead of posting twice", async () => {
    slack.script.push({ status: 500, posted: true });
    await send(notice("five-2"));
    await drain();
    expect(posted("five-2")).to.have.length(1);
    expect(slack.calls.filter((c) => c.method === "conversations.history" && c.args.include_all_metadata !== undefined).length).to.be.at.least(1);
    expect(logs.some((l) => l.message === "found already posted" && l.notice === "five-2")).to.equal(true);
  });

  it("a timeout (Slack answers after the client gave up): the message is found, recorded, not repeated", async () => {
    slack.script.push({ delayMs: 1500 });
    await send(notice("slow-1", { onPosted: [{ table: "reviews", pk: "sgr-1", set: { ts: "{ts}" } }] }));
    await drain();
    expect(posted("slow-1")).to.have.length(1);
    const row = (await scanAll(ddb.client, "reviews")).find((r) => r.pk.S === "sgr-1")!;
    expect(row.ts.S).to.equal(posted("slow-1")[0].ts);
  });

  it("a thread reply whose outcome is unknown is looked up in the thread's replies", async () => {
    slack.script.push({ delayMs: 1500 });
    await send(notice("thread-1", { thread_ts: "1700000000.000001" }));
    await drain();
    expect(posted("thread-1")).to.have.length(1);
    expect(slack.calls.some((c) => c.method === "conversations.replies" && c.args.ts === "1700000000.000001")).to.equal(true);
  });

  it("channel_not_found: straight to the DLQ with the reason, a log line naming the notice, nothing posted", async () => {
    slack.script.push({ error: "channel_not_found" });
    await send(notice("lost-1", { source: "findings" }));
    await drain();
    expect(posted("lost-1")).to.have.length(0);
    const dead = (sqs.queues[OUTBOX_DLQ] ?? []).filter((m) => JSON.parse(m.body).id === "lost-1");
    expect(dead).to.have.length(1);
    expect(dead[0].attributes).to.deep.equal({ reason: "channel_not_found" });
    expect(dead[0].groupId).to.equal(CHANNEL);
    expect(sqs.queues[OUTBOX_QUEUE] ?? []).to.have.length(0);
    expect(await ledger("lost-1")).to.deep.include({ state: { S: "DEAD" }, reason: { S: "channel_not_found" } });
    const line = logs.find((l) => l.level === "ERROR" && l.notice === "lost-1");
    expect(line).to.deep.include({ message: "dead-lettered: Slack refused the notice", reason: "channel_not_found", source: "findings", channel: CHANNEL });
  });

  it("after the cause is fixed, a redrive from the DLQ posts the notice once; a feature's plain re-send of it does not", async () => {
    // A plain re-send (no DLQ reason attribute) of the dead notice is skipped: the DLQ already holds it.
    await poster({ Records: [{ messageId: "resend", body: JSON.stringify(notice("lost-1", { source: "findings" })) }] }, { getRemainingTimeInMillis: () => 60_000 });
    expect(posted("lost-1")).to.have.length(0);
    // The bot was invited; the DLQ is redriven to the outbox (the message keeps its attributes).
    const dead = sqs.queues[OUTBOX_DLQ].filter((m) => JSON.parse(m.body).id === "lost-1");
    sqs.queues[OUTBOX_DLQ] = sqs.queues[OUTBOX_DLQ].filter((m) => !dead.includes(m));
    sqs.queues[OUTBOX_QUEUE] = [...(sqs.queues[OUTBOX_QUEUE] ?? []), ...dead.map((m) => ({ ...m, receiveCount: 0 }))];
    await drain();
    expect(posted("lost-1")).to.have.length(1);
    expect(await ledger("lost-1")).to.deep.include({ state: { S: "POSTED" } });
  });

  it("a body that is not a notice goes to the DLQ too; the batch after it is still posted", async () => {
    const out = await poster({ Records: [{ messageId: "junk", body: "{not json" }, { messageId: "ok", body: JSON.stringify(notice("after-junk")) }] }, { getRemainingTimeInMillis: () => 60_000 });
    expect(out).to.deep.equal({ batchItemFailures: [] });
    expect(posted("after-junk")).to.have.length(1);
    expect((sqs.queues[OUTBOX_DLQ] ?? []).some((m) => m.body === "{not json" && /invalid notice/.test(m.attributes.reason))).to.equal(true);
  });

  it("FIFO order: a notice left for later takes every later one of the batch with it, and none is posted twice", async () => {
    // Out of time before the second: it and the third come back as failures, in order.
    await send(notice("order-1"));
    await send(notice("order-2"));
    await send(notice("order-3"));
    let calls = 0;
    const budget = (event: any) => poster(event, { getRemainingTimeInMillis: () => (calls++ === 0 ? 60_000 : 1_000) });
    const batch = sqs.queues[OUTBOX_QUEUE].map((m) => ({ messageId: m.messageId, body: m.body }));
    const out = await budget({ Records: batch });
    expect(out.batchItemFailures.map((f: any) => f.itemIdentifier)).to.deep.equal([batch[1].messageId, batch[2].messageId]);
    await drain();
    for (const id of ["order-1", "order-2", "order-3"]) expect(posted(id), id).to.have.length(1);
    const order = slack.messages.filter((m) => /^notice order-/.test(m.text)).map((m) => m.text);
    expect(order).to.deep.equal(["notice order-1", "notice order-2", "notice order-3"]);
  });

  it("classifies Slack's answers: the documented permanent errors, rate limits, and unknown outcomes", () => {
    expect(classifySlackError({ code: "slack_webapi_platform_error", data: { error: "not_in_channel" } })).to.deep.equal({ kind: "permanent", reason: "not_in_channel" });
    expect(classifySlackError({ code: "slack_webapi_platform_error", data: { error: "invalid_blocks" } })).to.deep.equal({ kind: "permanent", reason: "invalid_blocks" });
    expect(classifySlackError({ code: "slack_webapi_rate_limited_error", retryAfter: 30 })).to.deep.include({ kind: "rate-limited", retryAfterMs: 30_000 });
    expect(classifySlackError({ code: "slack_webapi_http_error", statusCode: 503 })).to.deep.include({ kind: "transient", unknown: true });
    expect(classifySlackError({ code: "slack_webapi_request_error", message: "The operation was aborted due to timeout" })).to.deep.include({ kind: "transient", unknown: true });
  });
});

describe("Slack outbox: a burst of 200 notices to one channel (simulated time)", function () {
  this.timeout(120_000);

  it("posts all 200 exactly once, at least 1 s apart, without a single 429", async () => {
    let clock = 1_800_000_000_000;
    const now = () => clock;
    const ddb = await startDynalite();
    const slack = await startScriptedSlack({ now, minIntervalMs: 1000 });
    const sqs = await startSqsStub(now);
    try {
      await createTable(ddb.client, "burst-ledger", "pk");
      const sender = sqsNoticeSender(new SQSClient({ endpoint: sqs.url, region: "eu-west-1", credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "x" } }), sqs.urlOf(OUTBOX_QUEUE));
      // 200 findings in one burst: every one is queued, none is posted yet.
      await Promise.all(Array.from({ length: 200 }, (_, i) => sender.send(notice(`burst-${i}`))));
      expect(sqs.queues[OUTBOX_QUEUE]).to.have.length(200);
      expect(slack.messages).to.have.length(0);
      const client = new WebClient("xoxb-test", { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
      const deps = {
        ledger: dynamoOutboxLedger(ddb.client, "burst-ledger"),
        slack: webClientOutboxSlack(client),
        record: dynamoPostedRecorder(ddb.client),
        deadLetter: sqsDeadLetter(new SQSClient({ endpoint: sqs.url, region: "eu-west-1", credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "x" } }), sqs.urlOf(OUTBOX_DLQ)),
        now,
        sleep: async (ms: number) => {
          clock += ms;
        },
        log: () => undefined,
      };
      let started = 0;
      const { invocations } = await drainOutbox(
        sqs,
        OUTBOX_QUEUE,
        OUTBOX_DLQ,
        (event: any) => {
          started = clock;
          // Each invocation has the poster's 60 s in simulated time.
          return processOutboxBatch(event.Records, { ...deps, remainingMs: () => 60_000 - (clock - started) });
        },
        { rounds: 100 },
      );
      expect(invocations).to.equal(20); // batches of 10, none failed
      const posts = slack.calls.filter((c) => c.method === "chat.postMessage");
      expect(posts).to.have.length(200); // no 429, no retry
      const ids = slack.messages.map((m) => m.metadata?.event_payload?.notice_id);
      expect(new Set(ids).size).to.equal(200);
      const gaps = slack.messages.slice(1).map((m, i) => m.at - slack.messages[i].at);
      expect(Math.min(...gaps)).to.be.at.least(1000);
      // 200 posts at one per second take at least 199 s of (simulated) time.
      expect(slack.messages.at(-1)!.at - slack.messages[0].at).to.be.at.least(199_000);
      expect(sqs.queues[OUTBOX_DLQ] ?? []).to.have.length(0);
    } finally {
      await Promise.all([ddb.close(), slack.close(), sqs.close()]);
    }
  });
});

describe("Slack outbox: exactly once or dead-lettered, whatever Slack answers (property)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fc = require("fast-check") as typeof import("fast-check");
  type Answer = "ok" | "429" | "500-before" | "500-after" | "timeout-after" | "dead";
  const error = (a: Exclude<Answer, "ok">) =>
    a === "429"
      ? Object.assign(new Error("rate limited"), { code: "slack_webapi_rate_limited_error", retryAfter: 2 })
      : a === "dead"
        ? Object.assign(new Error("An API error occurred: channel_not_found"), { code: "slack_webapi_platform_error", data: { ok: false, error: "channel_not_found" } })
        : a === "500-before" || a === "500-after"
          ? Object.assign(new Error("HTTP 500"), { code: "slack_webapi_http_error", statusCode: 500 })
          : Object.assign(new Error("The operation was aborted due to timeout"), { code: "slack_webapi_request_error" });

  it("every notice ends posted exactly once or in the DLQ (never both, never lost, never twice), under any answers and re-sends", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Answer>("ok", "429", "500-before", "500-after", "timeout-after", "dead"), { maxLength: 25 }),
        fc.array(fc.nat(5), { maxLength: 6 }), // notices re-sent by their feature (0-5), while others wait
        async (answers, resends) => {
          const script = [...answers]; // consumed below; fast-check reports the original on a failure
          let clock = 0;
          const entries: Record<string, any> = {};
          const nextAllowed: Record<string, number> = {};
          const messages: { id: string; at: number; ts: string }[] = [];
          const dlq: string[] = [];
          const deps = {
            ledger: {
              get: async (id: string) => entries[id] ?? null,
              begin: async (id: string, channel: string, now: number) => {
                if (entries[id]?.state === "POSTED") return false;
                entries[id] = { ...entries[id], state: "POSTING", channel, attemptAt: now };
                return true;
              },
              clear: async (id: string) => {
                if (entries[id]?.state === "POSTING") delete entries[id].attemptAt;
              },
              posted: async (id: string, channel: string, ts: string) => void (entries[id] = { state: "POSTED", channel, ts }),
              dead: async (id: string, channel: string, reason: string) => {
                if (entries[id]?.state !== "POSTED") entries[id] = { state: "DEAD", channel, reason };
              },
              nextAllowed: async (c: string) => nextAllowed[c] ?? 0,
              setNextAllowed: async (c: string, at: number) => void (nextAllowed[c] = at),
            },
            slack: {
              post: async (n: Notice) => {
                const a = script.shift() ?? "ok";
                const keep = () => messages.push({ id: n.id, at: clock, ts: `${messages.length + 1}.000` });
                if (a === "ok") {
                  keep();
                  return { ts: messages.at(-1)!.ts };
                }
                if (a === "500-after" || a === "timeout-after") keep();
                throw error(a);
              },
              find: async (n: Notice, since: number) => messages.find((m) => m.id === n.id && m.at >= since)?.ts ?? null,
            },
            record: async () => undefined,
            deadLetter: async (body: string) => void dlq.push(JSON.parse(body).id),
            now: () => clock,
            sleep: async (ms: number) => void (clock += ms),
            log: () => undefined,
          };
          const ids = Array.from({ length: 6 }, (_, i) => `n-${i}`);
          let queue = ids.map((id, i) => ({ messageId: `m-${i}`, body: JSON.stringify(notice(id)), receives: 0 }));
          let extra = 0;
          for (let round = 0; round < 200 && queue.length; round++) {
            // A feature re-sends a notice (after SQS's dedup window): it joins the back of the queue.
            if (round < resends.length) queue.push({ messageId: `r-${extra++}`, body: JSON.stringify(notice(ids[resends[round]])), receives: 0 });
            const batch = queue.slice(0, 10);
            batch.forEach((m) => m.receives++);
            const started = clock;
            const out = await processOutboxBatch(batch, { ...deps, remainingMs: () => 60_000 - (clock - started) });
            clock += 1000;
            const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
            queue = [...batch.filter((m) => failed.has(m.messageId)), ...queue.slice(batch.length)];
            // The redrive policy: after 10 receives, SQS moves the message to the DLQ.
            for (const m of queue.filter((x) => x.receives >= 10)) dlq.push(JSON.parse(m.body).id);
            queue = queue.filter((x) => x.receives < 10);
          }
          expect(queue, "nothing left waiting").to.have.length(0);
          for (const id of ids) {
            const posts = messages.filter((m) => m.id === id).length;
            expect(posts, `${id} posted at most once`).to.be.at.most(1);
            expect(posts === 1 || dlq.includes(id), `${id} posted or in the DLQ`).to.equal(true);
            expect(posts === 1 && dlq.includes(id), `${id} not both posted and dead-lettered`).to.equal(false);
            if (posts === 1) expect(entries[id].state, `${id} recorded as posted`).to.equal("POSTED");
          }
          // Posts into the channel are at least 1 s apart.
          const gaps = messages.slice(1).map((m, i) => m.at - messages[i].at);
          if (gaps.length) expect(Math.min(...gaps)).to.be.at.least(1000);
        },
      ),
      { numRuns: 150 },
    );
  });
});
