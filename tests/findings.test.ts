/**
 * GuardDuty and Config findings: severity routing at the band edges, the Slack message, and the notifier Lambda
 * (the plan's archive) deduplicating republished findings against dynalite, posting to a Slack API stub.
 * Finding events are built from the documented `GuardDuty Finding` EventBridge shape:
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 */
import { expect } from "chai";
import * as path from "path";
import { matchesPattern } from "../functions/eventPattern";
import { SEVERITY_BANDS, atLeastPattern, bandOf, configNonCompliantPattern, severityPattern } from "../functions/findings/severity";
import { findingMessage, fromConfigComplianceEvent, fromGuardDutyEvent } from "../functions/findings/messages";
import { outboxHarness } from "./outboxServices";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { prodPlan, one, loadHandler } from "./planFixture";
import { createTable, scanAll, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { guardDutyEvent } from "./fixtures/guardDutyFinding";

/** `Config Rules Compliance Change`, as in the AWS Config developer guide's example. */
function configEvent(compliance: "NON_COMPLIANT" | "COMPLIANT") {
  return {
    version: "0",
    id: "1e9b3e28-3b37-7d1c-d1b9-d8ec3e8b2f6a",
    "detail-type": "Config Rules Compliance Change",
    source: "aws.config",
    account: "210987654321",
    time: "2026-11-20T10:05:00Z",
    region: "eu-central-1",
    resources: [],
    detail: {
      resourceId: "sg-0123456789abcdef0",
      awsRegion: "eu-central-1",
      awsAccountId: "210987654321",
      configRuleName: "OrgConfigRule-restricted-ssh-abc123",
      recordVersion: "1.0",
      configRuleARN: "arn:aws:config:eu-central-1:210987654321:config-rule/aws-service-rule/config-multiaccountsetup.amazonaws.com/config-rule-abc123",
      messageType: "ComplianceChangeNotification",
      newEvaluationResult: {
        evaluationResultIdentifier: { evaluationResultQualifier: { configRuleName: "OrgConfigRule-restricted-ssh-abc123", resourceType: "AWS::EC2::SecurityGroup", resourceId: "sg-0123456789abcdef0" }, orderingTimestamp: "2026-11-20T10:04:00Z" },
        complianceType: compliance,
        resultRecordedTime: "2026-11-20T10:04:30Z",
        configRuleInvokedTime: "2026-11-20T10:04:10Z",
      },
      oldEvaluationResult: { complianceType: compliance === "COMPLIANT" ? "NON_COMPLIANT" : "COMPLIANT" },
      resourceType: "AWS::EC2::SecurityGroup",
    },
  };
}

describe("GuardDuty severity routing", () => {
  const edges: [number, string][] = [
    [1.0, "low"],
    [3.9, "low"],
    [4.0, "medium"],
    [6.9, "medium"],
    [7.0, "high"],
    [8.9, "high"],
    [9.0, "critical"],
    [10.0, "critical"],
  ];
  for (const [severity, expected] of edges) {
    it(`severity ${severity.toFixed(1)} matches the ${expected} rule and no other`, () => {
      const matched = SEVERITY_BANDS.filter((b) => matchesPattern(severityPattern(b), guardDutyEvent(severity)));
      expect(matched).to.deep.equal([expected]);
      expect(bandOf(severity)).to.equal(expected);
    });
  }

  it("sends high and above to Slack by default: 7.0 yes, 6.9 no", () => {
    expect(matchesPattern(atLeastPattern("high"), guardDutyEvent(7.0))).to.equal(true);
    expect(matchesPattern(atLeastPattern("high"), guardDutyEvent(6.9))).to.equal(false);
    expect(matchesPattern(atLeastPattern("high"), { ...guardDutyEvent(9), source: "aws.securityhub" })).to.equal(false);
  });

  it("routes Config evaluations that turned NON_COMPLIANT, not those that turned COMPLIANT", () => {
    expect(matchesPattern(configNonCompliantPattern, configEvent("NON_COMPLIANT"))).to.equal(true);
    expect(matchesPattern(configNonCompliantPattern, configEvent("COMPLIANT"))).to.equal(false);
  });
});

describe("finding messages", () => {
  it("GuardDuty: type, band, account, region, resource, occurrences and a console link to the finding", () => {
    const f = fromGuardDutyEvent(guardDutyEvent(8.0, { count: 3 }))!;
    expect(f).to.include({ key: "guardduty:16afba5c5c43e07c9e3e5e2e544e95df", band: "high", account: "210987654321", region: "eu-west-1", resource: "EC2 instance i-0abc123def4567890", count: 3 });
    const m = findingMessage(f, { "210987654321": "payments-prod" });
    expect(m.text).to.equal(
      "GuardDuty high (8): i-0abc123def4567890 is performing SSH brute force attacks. - EC2 instance i-0abc123def4567890 in payments-prod (210987654321), eu-west-1",
    );
    const blocks = JSON.stringify(m.blocks);
    expect(blocks).to.contain("UnauthorizedAccess:EC2/SSHBruteForce").and.contain("3 times");
    // What a responder reads first: the description, and when it was first and last seen (Slack date formatting).
    expect((m.blocks[1] as any).text.text).to.equal("i-0abc123def4567890 is performing SSH brute force attacks against 198.51.100.7.");
    expect(blocks).to.contain("first <!date^1795168200^{date_short_pretty} {time}|2026-11-20T09:50:00Z>").and.contain("last <!date^1795168800^");
    expect((m.blocks.find((b: any) => b.type === "actions") as any).elements[0].url).to.equal(
      "https://eu-west-1.console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?macros=current&fId=16afba5c5c43e07c9e3e5e2e544e95df",
    );
  });

  it("GuardDuty: an access-key finding names the key and user; mrkdwn control characters are escaped", () => {
    const e = guardDutyEvent(5);
    (e.detail as any).resource = { resourceType: "AccessKey", accessKeyDetails: { accessKeyId: "ASIAEXAMPLE", userName: "a<b>&c", userType: "IAMUser" } };
    const f = fromGuardDutyEvent(e)!;
    expect(f.resource).to.equal("access key ASIAEXAMPLE (IAMUser a<b>&c)");
    expect(JSON.stringify(findingMessage(f).blocks)).to.contain("a&lt;b&gt;&amp;c").and.not.contain("a<b>");
  });

  it("Config: rule, resource, account and region; COMPLIANT and foreign events are not findings", () => {
    const f = fromConfigComplianceEvent(configEvent("NON_COMPLIANT"))!;
    expect(f).to.include({ kind: "config", key: "config:210987654321:eu-central-1:OrgConfigRule-restricted-ssh-abc123:sg-0123456789abcdef0", resource: "EC2::SecurityGroup sg-0123456789abcdef0" });
    expect(fromConfigComplianceEvent(configEvent("COMPLIANT"))).to.equal(null);
    expect(fromGuardDutyEvent(configEvent("NON_COMPLIANT"))).to.equal(null);
  });
});

describe("findings notifier Lambda (from the plan's archive)", function () {
  this.timeout(180_000);
  let handler: (event: unknown) => Promise<any>;
  let outbox: Awaited<ReturnType<typeof outboxHarness>>;
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
  let slack: Awaited<ReturnType<typeof startSlackStub>>;
  const posts = () => slack.calls.filter((c) => c.method === "chat.postMessage");

  before(async () => {
    const plan = prodPlan();
    const fn = one(plan, "aws:lambda/function:Function", "findings-notifier");
    ddb = await startDynalite();
    secrets = await startSecretsStub({ "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot": "xoxb-test-token" });
    slack = await startSlackStub();
    await createTable(ddb.client, "notified", "pk");
    useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url });
    outbox = await outboxHarness({ ddb, createTable, poster: () => loadHandler(plan, "slack-outbox-poster") });
    const env = fn.inputs.environment.variables;
    expect(Object.keys(env).sort()).to.deep.equal(["NOTIFIED_TABLE", "SLACK_CHANNEL_ID", "SLACK_OUTBOX_QUEUE_URL"]);
    Object.assign(process.env, env, {
      NOTIFIED_TABLE: "notified",
      SLACK_BOT_TOKEN_SECRET: "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot",
      SLACK_API_URL: slack.apiUrl,
      SLACK_OUTBOX_QUEUE_URL: outbox.sqs.urlOf("outbox.fifo"),
    });
    handler = loadHandler(plan, "findings-notifier");
  });

  after(async () => {
    await Promise.all([ddb?.close(), secrets?.close(), slack?.close(), outbox?.close()]);
  });

  it("posts a new finding once (through the outbox); the republished update (same id, higher count) is a duplicate", async () => {
    expect(await handler(guardDutyEvent(7.5))).to.deep.equal({ outcome: "queued", key: "guardduty:16afba5c5c43e07c9e3e5e2e544e95df" });
    // Claimed, not yet notified: only the outbox marks it, once Slack accepted the message.
    expect((await scanAll(ddb.client, "notified"))[0]).to.not.have.property("postedTs");
    await outbox.deliver();
    expect(await handler(guardDutyEvent(7.5, { count: 4, updatedAt: "2026-11-20T10:15:00Z" }))).to.deep.include({ outcome: "duplicate" });
    await outbox.deliver();
    expect(posts()).to.have.length(1);
    expect(posts()[0].args.channel).to.equal("C04SECOPS01");
    expect(posts()[0].token).to.equal("xoxb-test-token");
    const rows = await scanAll(ddb.client, "notified");
    expect(rows).to.have.length(1);
    expect(rows[0].postedTs.S).to.match(/^\d+\.\d+$/);
    expect(rows[0].notifiedAt.S).to.match(/^\d{4}-/);
    expect(Number(rows[0].expiresAt.N)).to.be.greaterThan(Date.now() / 1000 + 29 * 86400);
  });

  it("posts again when the finding's severity rises to a higher band, not when it falls", async () => {
    expect(await handler(guardDutyEvent(9.2, { count: 5 }))).to.deep.include({ outcome: "queued" });
    await outbox.deliver();
    expect(await handler(guardDutyEvent(7.1, { count: 6 }))).to.deep.include({ outcome: "duplicate" });
    await outbox.deliver();
    expect(posts()).to.have.length(2);
    expect(posts()[1].args.text).to.match(/^GuardDuty critical \(9\.2\)/);
  });

  it("two concurrent deliveries of one new finding post once", async () => {
    const e = guardDutyEvent(8, { id: "concurrent0000000000000000000001" });
    const outcomes = await Promise.all([handler(e), handler(e)]);
    expect(outcomes.map((o) => o.outcome).sort()).to.deep.equal(["duplicate", "queued"]);
    await outbox.deliver();
    expect(posts().filter((p) => String(p.args.text).includes("SSH brute force"))).to.have.length(3);
  });

  it("a claim whose notice never reached the outbox (the function timed out) is claimed again by Lambda's retry; posted once", async () => {
    const e = guardDutyEvent(8, { id: "timedout00000000000000000000001" });
    const key = "guardduty:timedout00000000000000000000001";
    // The first attempt claimed 2 minutes ago and died before SendMessage (Lambda's first retry comes a minute later).
    await ddb.client.send(new PutItemCommand({ TableName: "notified", Item: { pk: { S: key }, bandRank: { N: "2" }, band: { S: "high" }, title: { S: "x" }, claimedAt: { N: String(Date.now() - 120_000) } } }));
    expect(await handler(e)).to.deep.include({ outcome: "queued" });
    await outbox.deliver();
    expect(posts().filter((p) => p.args.metadata?.event_payload && String(p.args.text).includes("SSH brute force"))).to.have.length(4);
    // Posted: a later retry is a duplicate, however old the claim.
    expect(await handler(e)).to.deep.include({ outcome: "duplicate" });
    // A claim that is still fresh (another delivery is sending it right now) is not taken over.
    await ddb.client.send(new PutItemCommand({ TableName: "notified", Item: { pk: { S: "guardduty:fresh" }, bandRank: { N: "2" }, band: { S: "high" }, title: { S: "x" }, claimedAt: { N: String(Date.now() - 5_000) } } }));
    expect(await handler(guardDutyEvent(8, { id: "fresh" }))).to.deep.include({ outcome: "duplicate" });
  });

  it("posts Config non-compliance once per rule and resource", async () => {
    expect(await handler(configEvent("NON_COMPLIANT"))).to.deep.include({ outcome: "queued" });
    expect(await handler(configEvent("NON_COMPLIANT"))).to.deep.include({ outcome: "duplicate" });
    await outbox.deliver();
    expect(posts().at(-1)!.args.text).to.contain("OrgConfigRule-restricted-ssh-abc123");
  });

  it("the notifier is invoked asynchronously: failures go to the bus's delivery DLQ after two retries; the role may send there", () => {
    const plan = prodPlan();
    const cfg = one(plan, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "findings-notifier-async").inputs;
    expect(cfg).to.deep.include({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600 });
    expect(cfg.destinationConfig.onFailure.destination).to.match(/^arn:aws:sqs:eu-west-1:444455556666:central-delivery-dlq/);
    const send = JSON.parse(one(plan, "aws:iam/rolePolicy:RolePolicy", "findings-notifier-on-failure").inputs.policy).Statement;
    expect(send[0]).to.deep.include({ Action: "sqs:SendMessage", Resource: [cfg.destinationConfig.onFailure.destination] });
    const alarm = one(plan, "aws:cloudwatch/metricAlarm:MetricAlarm", "findings-notifier-destination-failures").inputs;
    expect(alarm).to.deep.include({ namespace: "AWS/Lambda", metricName: "DestinationDeliveryFailures", threshold: 0 });
  });
});
