/**
 * `npm run verify` against the fixture organization after `pulumi up` (tests/fixtureOrg.ts healthyAfter), through the
 * wire-protocol stub and a Slack stand-in that checks signatures as Slack documents them. A working deployment passes
 * every check; each kind of breakage is reported with its fix; `--probe` sends a test event through a forwarder and
 * cleans up after itself.
 */
import { expect } from "chai";
import * as path from "path";
import * as fs from "fs";
import * as os from "os";
import { verify, verifyChecks, slackSignature } from "../cli/verify";
import type { Report } from "../cli/checklist";
import { startStub, type Stub } from "./awsStub";
import { CHANNEL, HOME, LOG_ARCHIVE, MGMT, SECURITY, SIGNING_SECRET, STACK, healthyAfter, key, orgHandler, startSlack, type OrgState, type SlackState } from "./fixtureOrg";
import { withAwsEnv } from "./cliEnv";
import * as http from "http";
import type { AddressInfo } from "net";
import { slackAppHandler } from "../functions/slack/app";
import { beatOf, dynamoHeartbeatStore } from "../functions/heartbeat";
import { createTable, startDynalite } from "./localServices";

const PROD = path.resolve(__dirname, "../Pulumi.prod.yaml");

const healthySlack = (): SlackState => ({ tokenValid: true, botInChannel: true, urlChecksSignature: true, signingSecret: SIGNING_SECRET });

async function run(
  state: OrgState,
  argv: string[] = [],
  opts: { slack?: SlackState; env?: Record<string, string | undefined>; latencyMs?: number } = {},
): Promise<{ code: number; out: string; err: string; report?: Report; stub: Stub }> {
  let url = "";
  const stub = await startStub(orgHandler(state, () => url), { latencyMs: opts.latencyMs });
  url = stub.url;
  const slack = await startSlack(opts.slack ?? healthySlack(), () => state.now);
  state.functionUrl ??= `${slack.url}/app`;
  let out = "";
  let err = "";
  try {
    const code = await withAwsEnv(stub.url, MGMT, { SLACK_API_URL: `${slack.url}/api/`, TRAILWATCH_PROBE_TIMEOUT_SECONDS: "2", TRAILWATCH_PROBE_POLL_SECONDS: "1", TRAILWATCH_PROBE_RESEND_SECONDS: "1", ...opts.env }, () =>
      verify(["--stack", STACK, "--config", PROD, ...argv], { out: (s) => (out += s), err: (s) => (err += s) }, { now: state.now }),
    );
    return { code, out, err, report: argv.includes("--json") && out ? (JSON.parse(out) as Report) : undefined, stub };
  } finally {
    await stub.close();
    await slack.close();
  }
}

const check = (r: Report, id: string) => r.checks.find((x) => x.id === id)!;
const fails = (r: Report, id: string) => check(r, id).findings.filter((f) => f.status === "fail");

describe("npm run verify (local stubs, real SDK clients)", function () {
  this.timeout(60_000);

  it("passes every check on a working deployment, and exits 0", async () => {
    const { code, report, err, stub } = await run(healthyAfter(), ["--json"]);
    expect(err).to.equal("");
    expect(report!.checks.map((c) => c.id)).to.deep.equal(verifyChecks.map((c) => c.id));
    for (const c of report!.checks) expect(c.status, `${c.id}: ${JSON.stringify(c.findings)}`).to.equal("pass");
    expect(code).to.equal(0);
    // Names derived as the components build them, and the ones Pulumi generates found through the functions' environment.
    expect(stub.calls.filter((c) => c.operation === "ListStackInstances").map((c) => c.input.StackSetName)).to.include.members([
      "trailwatch-prod-forwarders",
      "trailwatch-prod-config",
      "trailwatch-prod-sg-revert-spokes",
    ]);
    expect(stub.calls.find((c) => c.operation === "Scan")!.input.TableName).to.equal("central-heartbeats-2b4c6d8");
    expect(stub.calls.find((c) => c.operation === "GetTrailStatus")!.input.Name).to.equal(`arn:aws:cloudtrail:${HOME}:${MGMT}:trail/trailwatch-org`);
    expect(stub.calls.find((c) => c.operation === "GetFunctionUrlConfig")!.input.FunctionName).to.equal("slack-app-4e5f6a7");
    // Only trailwatch's alarms are judged: someone else's alarm in ALARM is not ours.
    expect(check(report!, "alarms").findings[0].message).to.equal("3 of 3 trailwatch alarms OK");
    // Every forwarder DLQ of every forwarder account/region, plus the central ones (dlq in their name).
    expect(check(report!, "dlqs").findings[0].message).to.equal(`${6 * 3 + 2} of ${6 * 3 + 2} dead-letter queues empty`);
  });

  it("reports each kind of breakage with its fix, and exits 1", async () => {
    const s = healthyAfter();
    const [m1, m2] = s.members;
    const fwd = s.instances.get("trailwatch-prod-forwarders")!;
    Object.assign(fwd.find((i) => i.Account === m1 && i.Region === "us-east-1")!, {
      Status: "OUTDATED",
      StackInstanceStatus: { DetailedStatus: "FAILED" },
      StatusReason: "ResourceLogicalId:ForwarderRole, ResourceType:AWS::IAM::Role, ResourceStatusReason:trailwatch-forwarder-us-east-1 already exists.",
    });
    s.instances.set("trailwatch-prod-config", s.instances.get("trailwatch-prod-config")!.filter((i) => !(i.Account === m2 && i.Region === "eu-central-1")));
    s.heartbeats = s.heartbeats.filter((b) => !(b.account === m2 && b.region === HOME));
    s.heartbeats.find((b) => b.account === LOG_ARCHIVE && b.region === "us-east-1")!.lastSeen = new Date(s.now.getTime() - 95 * 60_000).toISOString();
    s.trailStatus = { IsLogging: false, StopLoggingTime: new Date(s.now.getTime() - 7_200_000), LatestDeliveryError: "AccessDenied", LatestDeliveryTime: new Date(s.now.getTime() - 7_200_000) };
    const sec = s.alarms.get(key(SECURITY, HOME))!;
    Object.assign(sec[0], { StateValue: "ALARM", StateReason: "Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).", StateUpdatedTimestamp: new Date(s.now.getTime() - 40 * 60_000) });
    Object.assign(sec[1], { StateValue: "INSUFFICIENT_DATA", StateUpdatedTimestamp: new Date(s.now.getTime() - 3 * 3_600_000) });
    s.gdAuto.set("eu-central-1", "NEW");
    s.gdMembers.get(HOME)!.find((m) => m.AccountId === m1)!.RelationshipStatus = "Removed";
    s.gdAdmin.delete("us-east-1");
    s.aggregatorSources!.push({ SourceId: "o-7k2mq9x4ab", SourceType: "ORGANIZATION", AwsRegion: "us-east-1", LastUpdateStatus: "FAILED", LastErrorCode: "OrganizationAccessDeniedException", LastErrorMessage: "not authorized" });
    [...s.queues.values()].find((q) => q.name.startsWith("central-delivery-dlq"))!.messages = 12;
    [...s.queues.values()].find((q) => q.account === m1 && q.region === HOME)!.messages = 1;
    const { code, report, out, stub } = await run(s, ["--json"], { slack: { tokenValid: true, botInChannel: false, urlChecksSignature: false, signingSecret: SIGNING_SECRET } });
    expect(code).to.equal(1);
    const r = report!;

    const inst = fails(r, "stackset-instances");
    expect(inst.map((f) => f.message)).to.have.members([
      `trailwatch-prod-forwarders: ${m1} us-east-1 is OUTDATED/FAILED: ResourceLogicalId:ForwarderRole, ResourceType:AWS::IAM::Role, ResourceStatusReason:trailwatch-forwarder-us-east-1 already exists.`,
      `trailwatch-prod-config: no stack instance in ${m2} eu-central-1`,
    ]);
    expect(inst.find((f) => f.message.includes("OUTDATED"))!.fix).to.contain("aws cloudformation create-stack-instances --stack-set-name trailwatch-prod-forwarders --deployment-targets OrganizationalUnitIds=r-8x1f --regions us-east-1");

    // In account order (ids sorted), then region.
    expect(fails(r, "heartbeats").map((f) => f.message)).to.deep.equal([
      `${m2} ${HOME}: no heartbeat ever recorded`,
      `${LOG_ARCHIVE} us-east-1: last heartbeat 95 minutes ago (${new Date(s.now.getTime() - 95 * 60_000).toISOString()}; eventBus.heartbeatMinutes 30)`,
    ]);

    const trail = fails(r, "org-trail");
    expect(trail.map((f) => f.fix)).to.include(`aws cloudtrail start-logging --name arn:aws:cloudtrail:${HOME}:${MGMT}:trail/trailwatch-org --region ${HOME}`);
    expect(trail.map((f) => f.message)).to.include("trailwatch-org: S3 delivery error AccessDenied");

    const alarms = fails(r, "alarms").map((f) => f.message);
    expect(alarms[0]).to.match(/^central-delivery-dlq-depth-1a2b3c4 \(444455556666 eu-west-1\) in ALARM for 40 minutes: Threshold Crossed/);
    expect(alarms[1]).to.equal("central-quiet-forwarders-5d6e7f8 (444455556666 eu-west-1) has had INSUFFICIENT_DATA for 180 minutes (trailwatch/Backbone/QuietForwarders)");

    expect(fails(r, "slack-url").map((f) => f.message)).to.deep.equal([`${s.functionUrl} answered 200 to an unsigned request (expected 401)`]);
    const bot = fails(r, "slack-bot");
    expect(bot[0].message).to.equal(`bot trailwatch is not in channel ${CHANNEL} (#secops)`);
    expect(bot[0].fix).to.equal("in Slack: /invite @trailwatch in the channel");

    const gd = fails(r, "guardduty").map((f) => f.message);
    expect(gd).to.include(`eu-central-1: auto-enable is NEW, expected ALL`);
    expect(gd).to.include(`${HOME}: ${m1} is a member with status Removed`);
    expect(gd).to.include(`us-east-1: the GuardDuty administrator is nobody, expected ${SECURITY}`);

    expect(fails(r, "config-aggregator")[0].message).to.equal("trailwatch-prod-organization: source o-7k2mq9x4ab us-east-1 FAILED: OrganizationAccessDeniedException not authorized");

    const dlq = fails(r, "dlqs");
    expect(dlq.map((f) => f.message)).to.have.members([
      `12 messages wait in ${stub.url}/${SECURITY}/${HOME}/central-delivery-dlq-0a1b2c3 (${SECURITY} ${HOME})`,
      `1 message wait in ${stub.url}/${m1}/${HOME}/trailwatch-forwarder-dlq (${m1} ${HOME})`,
    ]);
    expect(dlq[0].fix).to.match(/^read them \(aws sqs receive-message --queue-url /);

    // Every check but the (unrequested) probe has a failing case in this run.
    for (const c of verifyChecks.filter((c) => c.id !== "probe")) expect(check(r, c.id).status, c.id).to.equal("fail");
    expect(out.trim()).to.not.contain("\n");
  });

  it("a request signed with the stored secret must pass the URL's check: a wrong signing secret fails, an invalid token fails", async () => {
    const s = healthyAfter();
    s.secrets.set(`trailwatch/${STACK}/slackSigningSecret`, "not-the-apps-secret");
    const { report } = await run(s, ["--json"], { slack: { ...healthySlack(), tokenValid: false } });
    // ssl_check still answers 200 (Bolt answers it before the signature); the signed url_verification shows the wrong secret.
    expect(fails(report!, "slack-url").map((f) => f.message)).to.deep.equal([
      `${s.functionUrl} answered 401 to a request signed with the secret in trailwatch/${STACK}/slackSigningSecret (expected 200 with the challenge): that secret is not the one the function checks against`,
    ]);
    expect(fails(report!, "slack-bot")[0].message).to.equal(`the bot token in trailwatch/${STACK}/slackBotToken is refused: invalid_auth`);
    // The signature is Slack's: v0= HMAC-SHA256("v0:<ts>:<body>") in hex (the example from Slack's documentation).
    expect(slackSignature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")).to.equal(
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    );
  });

  it("the real Slack app handler (functions/slack/app.ts, Bolt's AwsLambdaReceiver): 401 unsigned, 200 to the signed ssl_check and url_verification; a wrong stored secret fails", async () => {
    // The handler the slack-app Lambda runs, behind a Function URL stand-in (payload format 2.0), its secrets read from
    // the stub as the security account (the function's account) on its first request.
    const s = healthyAfter(3, new Date()); // Bolt checks the signature's timestamp against the real clock
    const handler = slackAppHandler({ signingSecretId: `trailwatch/${STACK}/slackSigningSecret`, botTokenSecretId: `trailwatch/${STACK}/slackBotToken`, register: [] });
    const seen: number[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", async () => {
        const event = {
          version: "2.0",
          rawPath: "/",
          rawQueryString: "",
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
          requestContext: { http: { method: req.method, path: "/" } },
          body: Buffer.concat(chunks).toString("utf8"),
          isBase64Encoded: false,
        };
        const out = (await handler(event, {})) as { statusCode: number; body?: string };
        seen.push(out.statusCode);
        res.writeHead(out.statusCode).end(out.body ?? "");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    s.functionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    let url = "";
    const warm = await startStub(orgHandler(s, () => url));
    url = warm.url;
    // The app asks Slack who the bot is (auth.test) once per container, so Bolt need not ask on every request.
    const slackApi = await startSlack(healthySlack(), () => s.now);
    try {
      await withAwsEnv(warm.url, SECURITY, { SLACK_API_URL: `${slackApi.url}/api/` }, () => handler({ version: "2.0", headers: { "content-type": "application/x-www-form-urlencoded" }, requestContext: { http: { method: "POST", path: "/" } }, body: "ssl_check=1", isBase64Encoded: false }, {}));
      expect(warm.calls.filter((c) => c.operation === "GetSecretValue").map((c) => c.account)).to.deep.equal([SECURITY, SECURITY]);
      const { report } = await run(s, ["--json"]);
      expect(check(report!, "slack-url").findings).to.deep.equal([{ status: "pass", message: `${s.functionUrl}: 401 unsigned, 200 to a signed ssl_check and url_verification` }]);
      expect(seen).to.deep.equal([401, 200, 200]); // verify's unsigned command, signed ssl_check, signed url_verification
      // The secret verify reads is not the one the function checks against (rotated in the secret, the function warm).
      s.secrets.set(`trailwatch/${STACK}/slackSigningSecret`, "rotated-but-not-in-the-app");
      const stale = await run(s, ["--json"]);
      // The app checks the signature before Bolt sees anything (functions/slack/verify.ts), ssl_check included.
      expect(fails(stale.report!, "slack-url").map((f) => f.message)).to.deep.equal([
        `${s.functionUrl} answered 401 to a signed ssl_check (expected 200)`,
        `${s.functionUrl} answered 401 to a request signed with the secret in trailwatch/${STACK}/slackSigningSecret (expected 200 with the challenge): that secret is not the one the function checks against`,
      ]);
    } finally {
      await warm.close();
      await slackApi.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("reads the heartbeat rows functions/heartbeat.ts writes (dynalite, a real DynamoDB, through AWS_ENDPOINT_URL_DYNAMODB)", async () => {
    const s = healthyAfter();
    const [m1] = s.members;
    const db = await startDynalite();
    try {
      await createTable(db.client, "central-heartbeats-2b4c6d8", "pk");
      const store = dynamoHeartbeatStore(db.client, "central-heartbeats-2b4c6d8");
      // What a forwarder's heartbeat rule puts on the central bus (a scheduled event), as the heartbeat function records it.
      for (const b of s.heartbeats) {
        const time = b.account === m1 && b.region === "us-east-1" ? new Date(s.now.getTime() - 45 * 60_000).toISOString() : b.lastSeen;
        const beat = beatOf({ source: "aws.events", "detail-type": "Scheduled Event", account: b.account, region: b.region, time, resources: [`arn:aws:events:${b.region}:${b.account}:rule/trailwatch-heartbeat`], detail: {} });
        await store.record(beat!);
      }
      s.heartbeats = []; // the fixture's own table is not used: every row comes from dynalite
      const { report } = await run(s, ["--json"], { env: { AWS_ENDPOINT_URL_DYNAMODB: db.url } });
      const hb = check(report!, "heartbeats").findings;
      expect(hb.filter((f) => f.status === "fail").map((f) => f.message)).to.deep.equal([`${m1} us-east-1: last heartbeat 45 minutes ago (${new Date(s.now.getTime() - 45 * 60_000).toISOString()}; eventBus.heartbeatMinutes 30)`]);
      expect(hb.find((f) => f.status === "pass")!.message).to.match(/^17 of 18 forwarders sent a heartbeat within 30 minutes/);
    } finally {
      await db.close();
    }
  });

  it("names the deployment not there yet: missing stack sets, trail, aggregator and heartbeat function", async () => {
    const s = healthyAfter();
    s.instances.clear();
    s.trailStatus = undefined;
    s.aggregatorSources = undefined;
    s.functions = [];
    const { report } = await run(s, ["--json"]);
    expect(fails(report!, "stackset-instances").map((f) => f.message)).to.include("stack set trailwatch-prod-forwarders does not exist");
    expect(fails(report!, "org-trail")[0].fix).to.equal(`pulumi up --stack ${STACK}`);
    expect(fails(report!, "config-aggregator")[0].message).to.equal(`aggregator trailwatch-prod-organization does not exist in ${SECURITY} ${HOME}`);
    expect(fails(report!, "heartbeats")[0].fix).to.contain("--outputs");
    // The Slack secrets the stack creates are not there either: each says how to get them there.
    const t = healthyAfter();
    t.secrets.clear();
    const noSecrets = (await run(t, ["--json"])).report!;
    expect(fails(noSecrets, "slack-bot")).to.deep.equal([
      { status: "fail", message: `secret trailwatch/${STACK}/slackBotToken does not exist in the security account ${SECURITY} (${HOME})`, fix: `pulumi config set --secret trailwatch:slackBotToken '<value>' and pulumi up (the stack creates trailwatch/${STACK}/slackBotToken)` },
    ]);
    expect(fails(noSecrets, "slack-url")[0].message).to.equal(`secret trailwatch/${STACK}/slackSigningSecret does not exist in the security account ${SECURITY} (${HOME})`);
  });

  it("--outputs: names from pulumi stack output --json replace the lookup through the functions", async () => {
    const s = healthyAfter();
    s.functions = [];
    let slackUrl = "";
    const slack = await startSlack(healthySlack(), () => s.now);
    slackUrl = `${slack.url}/app`;
    try {
      const file = writeOutputs({ heartbeatTable: "central-heartbeats-2b4c6d8", slackRequestUrl: slackUrl, configAggregatorArn: `arn:aws:config:${HOME}:${SECURITY}:config-aggregator/config-aggregator-abc/trailwatch-prod-organization` });
      s.functionUrl = slackUrl;
      const { code, report, stub } = await run(s, ["--json", "--outputs", file]);
      expect(code).to.equal(0, JSON.stringify(report!.checks.filter((c) => c.status !== "pass")));
      expect(stub.calls.filter((c) => c.service === "lambda")).to.have.length(0);
    } finally {
      await slack.close();
    }
    const bad = await run(healthyAfter(), ["--outputs", path.join(os.tmpdir(), "trailwatch-no-such-outputs.json")]);
    expect(bad.code).to.equal(2);
    expect(bad.err).to.match(/^verify: --outputs .*: no such file \(save it with: pulumi stack output --json/);
  });

  it("--probe of the management account without the change feed warns instead of reaching a consumer", async () => {
    const { report, stub } = await run(healthyAfter(), ["--json", "--probe", MGMT]);
    expect(check(report!, "probe").status).to.equal("warn");
    expect(check(report!, "probe").findings[0].fix).to.equal("probe a member account instead (--probe <member account id>)");
    expect(stub.calls.filter((c) => c.operation === "PutEvents" || c.operation === "CreateQueue")).to.have.length(0);
  });

  it("--probe: a test event put in a member account reaches the central bus; the temporary rule and queue are removed", async () => {
    const s = healthyAfter();
    const [m1] = s.members;
    const { code, report, stub } = await run(s, ["--json", "--probe", m1, "--probe-region", "eu-central-1"]);
    expect(code).to.equal(0, JSON.stringify(report!.checks.filter((c) => c.status !== "pass")));
    expect(check(report!, "probe").findings[0].message).to.match(new RegExp(`^test event [0-9a-f]{12} from ${m1} eu-central-1 reached trailwatch-central in`));
    const put = stub.calls.find((c) => c.operation === "PutEvents")!;
    expect([put.account, put.region]).to.deep.equal([m1, "eu-central-1"]);
    const entry = put.input.Entries[0];
    expect(entry.Source).to.equal("trailwatch.verify");
    expect(entry.EventBusName).to.equal("default");
    // The change feed ignores it: PutEvents is on its noise list, so no webhook or Slack message is sent.
    const { DEFAULT_NOISE } = await import("../functions/changeFeed/normalize");
    expect(DEFAULT_NOISE.eventNames).to.include(JSON.parse(entry.Detail).eventName);
    const rule = stub.calls.find((c) => c.operation === "PutRule")!;
    expect([rule.account, rule.region, rule.input.EventBusName]).to.deep.equal([SECURITY, HOME, "trailwatch-central"]);
    expect(JSON.parse(rule.input.EventPattern)).to.deep.equal({ source: ["trailwatch.verify"], detail: { probeId: [JSON.parse(entry.Detail).probeId] } });
    const policy = JSON.parse(stub.calls.find((c) => c.operation === "CreateQueue")!.input.Attributes.Policy);
    expect(policy.Statement[0].Condition).to.deep.equal({ ArnEquals: { "aws:SourceArn": `arn:aws:events:${HOME}:${SECURITY}:rule/trailwatch-central/${rule.input.Name}` } });
    expect(s.centralRules.size).to.equal(0);
    expect([...s.queues.values()].filter((q) => q.name.startsWith("trailwatch-verify-probe"))).to.have.length(0);
  });

  it("--probe fails with where to look when the forwarder does not deliver, and still cleans up", async () => {
    const s = healthyAfter();
    const [m1] = s.members;
    s.forwarding.delete(key(m1, HOME));
    const { code, report } = await run(s, ["--json", "--probe", m1]);
    expect(code).to.equal(1);
    const f = fails(report!, "probe")[0];
    expect(f.message).to.match(new RegExp(`put on ${m1} ${HOME}'s default bus did not reach trailwatch-central within 2 s$`));
    expect(f.fix).to.contain("aws events list-targets-by-rule --rule trailwatch-changes");
    expect(s.centralRules.size).to.equal(0);
    expect([...s.queues.values()].filter((q) => q.name.startsWith("trailwatch-verify-probe"))).to.have.length(0);
  });

  it("checks 50 accounts x 3 regions within seconds, within the concurrency bound", async () => {
    const s = healthyAfter(47);
    const started = Date.now();
    const { code, report, stub } = await run(s, ["--json", "--concurrency", "8"], { latencyMs: 5 });
    const seconds = (Date.now() - started) / 1000;
    console.log(`      verify, 50 accounts x 3 regions: ${seconds.toFixed(2)} s, ${stub.calls.length} AWS calls, at most ${stub.maxConcurrent} at once`);
    expect(code).to.equal(0, JSON.stringify(report!.checks.filter((c) => c.status !== "pass")));
    expect(check(report!, "heartbeats").findings[0].message).to.match(/^150 of 150 forwarders sent a heartbeat/);
    expect(stub.maxConcurrent).to.be.at.most(8).and.at.least(2);
    expect(seconds).to.be.below(30);
  });
});

function writeOutputs(o: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-verify-"));
  const file = path.join(dir, "outputs.json");
  fs.writeFileSync(file, JSON.stringify(o));
  return file;
}
