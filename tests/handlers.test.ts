/**
 * The handler modules (functions/<feature>/handler.ts): the environment variable names are the contract between a
 * component and its handler. A variable the component did not set fails at cold start naming it, in the module and in
 * the archive the plan ships (the constants survive the closure serializer).
 */
import { expect } from "chai";
import { makeFindingsNotifierHandler } from "../functions/findings/handler";
import { makeChangeDigestHandler, makeChangeNormalizerHandler } from "../functions/changeFeed/handler";
import { makeOutboxPosterHandler, makeSlackAppHandler } from "../functions/slack/handler";
import { loadHandler, ofType, prodPlan } from "./planFixture";

describe("handler modules: a missing environment variable is named at cold start", () => {
  const fails = (make: () => unknown) => {
    try {
      make();
    } catch (err) {
      return (err as Error).message;
    }
    return "no error";
  };

  it("findings notifier: NOTIFIED_TABLE, then SLACK_CHANNEL_ID, then the outbox queue", () => {
    expect(fails(() => makeFindingsNotifierHandler({}))).to.match(/^environment variable NOTIFIED_TABLE is not set \(the findings dedupe table\)/);
    expect(fails(() => makeFindingsNotifierHandler({ NOTIFIED_TABLE: "t" }))).to.match(/^environment variable SLACK_CHANNEL_ID is not set/);
    expect(fails(() => makeFindingsNotifierHandler({ NOTIFIED_TABLE: "t", SLACK_CHANNEL_ID: "C1" }))).to.match(/^environment variable SLACK_OUTBOX_QUEUE_URL is not set/);
  });

  it("change digest, outbox poster, Slack app", () => {
    expect(fails(() => makeChangeDigestHandler({}))).to.match(/^environment variable SLACK_CHANNEL_ID is not set/);
    expect(fails(() => makeOutboxPosterHandler({}))).to.match(/^environment variable OUTBOX_LEDGER_TABLE is not set/);
    expect(fails(() => makeOutboxPosterHandler({ OUTBOX_LEDGER_TABLE: "l", OUTBOX_DLQ_URL: "q" }))).to.match(/^environment variable SLACK_BOT_TOKEN_SECRET is not set/);
    expect(fails(() => makeSlackAppHandler({ SLACK_BOT_TOKEN_SECRET: "b" }))).to.match(/^environment variable SLACK_SIGNING_SECRET_SECRET is not set/);
    // A feature switched on by its table but without its settings is a wiring mistake too.
    expect(fails(() => makeSlackAppHandler({ SLACK_BOT_TOKEN_SECRET: "b", SLACK_SIGNING_SECRET_SECRET: "s", REVIEW_TABLE: "r" }))).to.match(/SG_BOT_SETTINGS is not set/);
  });

  it("the normalizer reads no environment: its settings are in its code", async () => {
    const h = makeChangeNormalizerHandler({ environments: { accounts: {} }, extraNoise: { eventNames: [], principals: [] }, kinds: [] });
    expect(await h({ detail: { eventName: "GetObject", readOnly: true } })).to.equal(null);
  });
});

describe("handler modules in the planned archives", function () {
  this.timeout(300_000);
  const saved: Record<string, string | undefined> = {};
  const unset = (...names: string[]) => names.forEach((n) => ((saved[n] = process.env[n]), delete process.env[n]));
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  });

  it("every trailwatch function's handler is __index.handler, the export the serialized archive defines", () => {
    const plan = prodPlan();
    const fns = ofType(plan, "aws:lambda/function:Function");
    expect(fns.map((f) => f.name)).to.include.members(["findings-notifier", "slack-outbox-poster", "slack-app"]);
    for (const f of fns) expect(f.inputs.handler, f.name).to.equal("__index.handler");
  });

  it("the findings notifier and the outbox poster archives fail naming the variable", () => {
    const plan = prodPlan();
    unset("NOTIFIED_TABLE", "OUTBOX_LEDGER_TABLE");
    expect(() => loadHandler(plan, "findings-notifier")).to.throw(/environment variable NOTIFIED_TABLE is not set/);
    expect(() => loadHandler(plan, "slack-outbox-poster")).to.throw(/environment variable OUTBOX_LEDGER_TABLE is not set/);
  });
});
