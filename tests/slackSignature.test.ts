/**
 * The Slack app's request check, in the planned slack-app archive: Slack's rule is `v0:{ts}:{raw body}` HMAC-SHA256
 * and |now - ts| <= 300 s (https://api.slack.com/authentication/verifying-requests-from-slack). Bolt's receiver
 * alone accepted a future timestamp and a `v1` signature and threw on an unsigned malformed body (502): each is a
 * 401 now, before anything parses the body. And no auth.test per request: with a Slack that takes 1 s per call, a
 * warm click costs one round trip, not two (Slack wants the answer within 3 s).
 */
import { expect } from "chai";
import * as crypto from "crypto";
import { prodPlan, one, loadHandler } from "./planFixture";
import { createTable, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { SIGNING_SECRET, buttonClick, interactionRequest, signedRequest } from "./slackRequests";
import { DENY_ACTION } from "../functions/sg/revert/messages";
import { verifySlackRequest } from "../functions/slack/verify";

const BOT_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:sig-bot";
const SIGNING_SECRET_ID = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:sig-signing";
const MALLORY = "U09MALLORY9"; // not an approver
const now = () => Math.floor(Date.now() / 1000);

/** A request signed with another version prefix, as Bolt 5.1 accepted. */
function v1Signed(body: string) {
  const req = signedRequest(body);
  const ts = req.headers["x-slack-request-timestamp"];
  req.headers["x-slack-signature"] = "v1=" + crypto.createHmac("sha256", SIGNING_SECRET).update(`v1:${ts}:${body}`).digest("hex");
  return req;
}

describe("Slack request verification (slack-app from the plan's archive)", function () {
  this.timeout(180_000);
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startSlackStub>>;
  let app: (event: unknown, context?: unknown) => Promise<any>;
  const click = () => buttonClick(MALLORY, DENY_ACTION, JSON.stringify({ changeId: "c-1", ruleIds: ["sgr-0123456789abcdef0"] }), "1700000000.000001");

  before(async () => {
    ddb = await startDynalite();
    secrets = await startSecretsStub({ [BOT_SECRET_ID]: "xoxb-test-token", [SIGNING_SECRET_ID]: SIGNING_SECRET });
    slack = await startSlackStub({ delayMs: 1000 });
    await createTable(ddb.client, "sig-reviews", "pk");
    await createTable(ddb.client, "sig-windows", "pk");
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url });
    Object.assign(process.env, one(prodPlan(), "aws:lambda/function:Function", "slack-app").inputs.environment.variables, {
      REVIEW_TABLE: "sig-reviews",
      SCP_WATCH_TABLE: "sig-windows",
      SLACK_BOT_TOKEN_SECRET: BOT_SECRET_ID,
      SLACK_SIGNING_SECRET_SECRET: SIGNING_SECRET_ID,
      SLACK_API_URL: slack.apiUrl,
    });
    app = loadHandler(prodPlan(), "slack-app");
  });
  after(async () => {
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close()]);
  });

  it("the rule itself: v0 only, 300 s either way, exact bytes (base64 bodies decoded first)", () => {
    const body = "payload=%7B%22a%22%3A1%7D";
    const t = now();
    expect(verifySlackRequest(signedRequest(body, { ts: t - 300 }), SIGNING_SECRET, t)).to.deep.equal({ ok: true, body });
    expect(verifySlackRequest(signedRequest(body, { ts: t + 300 }), SIGNING_SECRET, t).ok).to.equal(true);
    expect(verifySlackRequest(signedRequest(body, { ts: t + 301 }), SIGNING_SECRET, t)).to.deep.include({ ok: false });
    expect(verifySlackRequest(signedRequest(body, { ts: t - 301 }), SIGNING_SECRET, t)).to.deep.include({ ok: false });
    expect(verifySlackRequest(v1Signed(body), SIGNING_SECRET, now())).to.deep.equal({ ok: false, reason: "signature version is not v0" });
    const utf8 = "text=caf%C3%A9&user_id=U1"; // bytes as Slack sent them
    const b64 = { ...signedRequest(utf8), body: Buffer.from(utf8).toString("base64"), isBase64Encoded: true };
    expect(verifySlackRequest(b64, SIGNING_SECRET, now())).to.deep.equal({ ok: true, body: utf8 });
    expect(verifySlackRequest({ headers: {}, body }, SIGNING_SECRET, t)).to.deep.include({ ok: false });
    expect(verifySlackRequest({ ...signedRequest(body), headers: { ...signedRequest(body).headers, "x-slack-request-timestamp": "1e9" } }, SIGNING_SECRET, t)).to.deep.include({ ok: false });
  });

  it("answers 401 to a correctly signed request from the future, a v1 signature and an unsigned malformed body, calling nothing", async () => {
    const before = slack.calls.length;
    // (well past 300 s: the cold start itself takes a second or more against this slow Slack)
    expect((await app(interactionRequest(click(), { ts: now() + 330 }))).statusCode).to.equal(401);
    expect((await app(v1Signed(`payload=${encodeURIComponent(JSON.stringify(click()))}`))).statusCode).to.equal(401);
    const malformed = { version: "2.0", rawPath: "/", headers: { "content-type": "application/x-www-form-urlencoded" }, requestContext: { http: { method: "POST", path: "/" } }, body: "payload=%7Bnot-json", isBase64Encoded: false };
    expect((await app(malformed)).statusCode).to.equal(401);
    expect((await app({ ...malformed, body: "%%%", isBase64Encoded: true })).statusCode).to.equal(401);
    // Only the container's one auth.test (first request) reached Slack; no listener ran.
    expect(slack.calls.slice(before).map((c) => c.method).filter((m) => m !== "auth.test")).to.deep.equal([]);
  });

  it("calls auth.test once per container, not per request: a warm click takes one Slack round trip (1 s), not two", async () => {
    const timings: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const res = await app(interactionRequest(click()));
      timings.push(Date.now() - t0);
      expect(res.statusCode).to.equal(200);
    }
    expect(slack.calls.filter((c) => c.method === "auth.test")).to.have.length(1);
    expect(slack.calls.filter((c) => c.method === "chat.postEphemeral")).to.have.length(3);
    for (const ms of timings) expect(ms, `click took ${ms} ms`).to.be.below(1800);
  });
});
