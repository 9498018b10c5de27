/**
 * The change feed as `npm run plan` declares it, on a variant of the prod stack (change feed on, a FireHydrant and a
 * PagerDuty webhook, environments, Slack, a vendor role for the whole organization), and its two Lambdas run from the
 * plan's archives: the normalizer on real CloudTrail records (what it returns is what Lambda puts on the central
 * bus, matched here against the deployed rule patterns), the Slack poster against Secrets Manager and Slack stubs.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { json, one, ofType, prodPlan, runPlan, ROOT, type PlanRun, type Resource } from "./planFixture";
import { allRecords, type SourcedRecord } from "./sharedData";
import * as http from "http";
import { createTable, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { outboxHarness } from "./outboxServices";
import { GENERIC_IDEMPOTENCY_HEADER, pagerDutyInputTransformer, WEBHOOK_RATE_LIMITS } from "../components/changeFeed";
import { toEnvelope, type CloudTrailRecord } from "../functions/cloudtrail";
import { matchesPattern, validatePattern } from "../functions/eventPattern";
import { DEFAULT_NOISE, fireHydrantChangeEvent, pagerDutyChangeEvent, toChangeRecord, type EnvironmentMap } from "../functions/changeFeed";
import { forwardedStreams } from "../components/forwarderTemplate";
import { THIRD_PARTY_ACTIONS } from "../components/thirdPartyRole";

const SECURITY = "444455556666";
const MGMT = "111122223333";
const BUS_ARN = `arn:aws:events:eu-west-1:${SECURITY}:event-bus/trailwatch-central`;
const VENDOR = "arn:aws:iam::012345678901:role/FireHydrantCloudTrail";
const FH_SECRET = "trailwatch/prod/firehydrant-bot-token";
const PD_SECRET = `arn:aws:secretsmanager:eu-west-1:${SECURITY}:secret:trailwatch/prod/pagerduty-routing-key-AbCdEf`;
const SUCCESS = "Lambda Function Invocation Result - Success";
const FH_PROD_ENV = "0b9a4c55-3f1e-4f0e-9a53-6a3f0f2d8e11";
const FH_PLATFORM_SERVICE = "7d2e1f44-8c6b-4a0a-b1c2-2f9e5d3c4b21";
const PD_ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE"; // 32 letters and digits, as PagerDuty integration keys are

const ALL = allRecords();
function byOrigin(origin: string): CloudTrailRecord {
  const hits = ALL.filter((x: SourcedRecord) => x.origin.endsWith(origin));
  if (hits.length !== 1) throw new Error(`expected one record from ${origin}, found ${hits.length}`);
  return hits[0].record;
}
// Real records: a change made outside IaC, one made by Terraform, a read-only call, and writes the noise lists drop
// (built-in event name, config event name, built-in service principal).
const STOP_LOGGING = byOrigin("stratus/aws.defense-evasion.cloudtrail-stop.json[0]");
const TERRAFORM = byOrigin('aws_ec2_manual_security_group_changes.yml "Terraform Security Group Authorize Egress"');
const READ_ONLY = byOrigin("stratus/aws.credential-access.ec2-get-password-data.json[0]");
const NOISE_BUILTIN = byOrigin("stratus/aws.persistence.sts-federation-token.json[0]");
const NOISE_CONFIG = byOrigin("stratus/aws.credential-access.ec2-steal-instance-credentials.json[0]");
const NOISE_PRINCIPAL = byOrigin('aws_modify_cloud_compute_infrastructure.yml "Terminate Instance from autoscaling"');

const ENVIRONMENTS: EnvironmentMap["accounts"] = {
  [STOP_LOGGING.recipientAccountId!]: { environment: "prod", owner: "platform" },
  [TERRAFORM.recipientAccountId!]: { environment: "prod" },
  [MGMT]: { environment: "management", owner: "secops" },
};
const ENV_MAP: EnvironmentMap = { accounts: ENVIRONMENTS, defaultEnvironment: "dev" };

const stmts = (doc: unknown) => json(doc).Statement as any[];

/** The event Lambda puts on the bus for one asynchronous invocation (Lambda developer guide, invocation records). */
function invocationResult(functionArn: string, request: unknown, response: unknown, account = SECURITY) {
  return {
    version: "0",
    id: "2d6e8e7a-6ce3-4f1b-9a0e-0c5b3f3c9b11",
    "detail-type": SUCCESS,
    source: "lambda",
    account,
    time: "2026-11-20T10:05:00Z",
    region: "eu-west-1",
    resources: [`${functionArn}:$LATEST`],
    detail: {
      version: "1.0",
      timestamp: "2026-11-20T10:05:00.000Z",
      requestContext: { requestId: "c4d2f1a0-0000-4000-8000-000000000001", functionArn: `${functionArn}:$LATEST`, condition: "Success", approximateInvokeCount: 1 },
      requestPayload: request,
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: response,
    },
  };
}

/** EventBridge InputPath, for the simple `$.a.b.c` paths the targets use. */
const atPath = (event: unknown, p: string) => p.replace(/^\$\./, "").split(".").reduce((o: any, k) => (o == null ? undefined : o[k]), event);

/**
 * EventBridge's input transformer as documented: each `<name>` in the template is replaced by the value at its input
 * path; objects and arrays are inserted as JSON. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
function transform(t: { inputPaths: Record<string, string>; inputTemplate: string }, event: unknown): string {
  return t.inputTemplate.replace(/<([A-Za-z0-9_.-]+)>/g, (_, name: string) => {
    if (!(name in t.inputPaths)) throw new Error(`template variable <${name}> has no input path`);
    const v = atPath(event, t.inputPaths[name]);
    return v === undefined ? "null" : JSON.stringify(v);
  });
}

describe("change feed in a variant plan (two webhooks, environments, Slack, vendor role for the organization)", function () {
  this.timeout(300_000);
  let plan: PlanRun;
  const r = (type: string, name: string | RegExp) => one(plan, type, name);

  before(() => {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
    doc.config["trailwatch:features"] = { ...doc.config["trailwatch:features"], changeFeed: true };
    doc.config["trailwatch:changeFeed"] = {
      environments: ENVIRONMENTS,
      defaultEnvironment: "dev",
      noise: { eventNames: ["SendCommand"], principals: ["ssm.amazonaws.com"] },
      webhooks: [
        { name: "firehydrant", kind: "firehydrant", url: "https://api.firehydrant.io/v1/changes/events", secret: FH_SECRET, rateLimitPerSecond: 5 },
        { name: "pagerduty", kind: "pagerduty", url: "https://events.pagerduty.com/v2/change/enqueue", secret: PD_SECRET },
      ],
      fireHydrant: { environments: { prod: FH_PROD_ENV }, services: { platform: [FH_PLATFORM_SERVICE] } },
      slackDigest: { enabled: true, environments: ["prod"], everyMinutes: 5 },
      thirdPartyRole: { principalArn: VENDOR, externalIdSecret: "trailwatch/prod/firehydrant-external-id", maxSessionDurationSeconds: 7200, deployTo: "organization" },
      logRetentionDays: 60,
    };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-changefeed-")), "Pulumi.variant.yaml");
    fs.writeFileSync(file, yaml.dump(doc));
    plan = runPlan(["--stack", "prod", "--config", file]);
    if (plan.status !== 0) throw new Error(`variant plan failed (${plan.status}):\n${plan.stderr}`);
  });

  it("keeps its functions' logs for changeFeed.logRetentionDays, its own setting (not the deny advisor's)", () => {
    const days = (fn: string) => r("aws:cloudwatch/logGroup:LogGroup", `${fn}-logs`).inputs.retentionInDays;
    expect([days("change-feed-normalizer"), days("change-feed-slack")]).to.deep.equal([60, 60]);
    expect(days("deny-advisor-processor")).to.equal(90);
  });

  it("reads each webhook's credential from its Secrets Manager secret into a KMS-encrypted connection, never in plaintext", () => {
    const key = r("aws:kms/key:Key", "change-feed-connections-key");
    // EventBridge uses a customer managed key for connections only when it carries this tag.
    expect(key.inputs.tags).to.deep.equal({ EventBridgeApiDestinations: "true" });
    const use = stmts(key.inputs.policy).find((s) => s.Sid === "EventBridgeConnectionSecretsOnly");
    expect(use.Condition.StringLike).to.deep.equal({ "kms:ViaService": "secretsmanager.*.amazonaws.com", "kms:EncryptionContext:SecretARN": ["arn:aws*:secretsmanager:*:*:secret:events!connection/*"] });
    const connections = ofType(plan, "aws:cloudwatch/eventConnection:EventConnection");
    expect(connections.map((c) => c.name).sort()).to.deep.equal(["change-feed-firehydrant", "change-feed-pagerduty"]);
    for (const [c, secret] of [[connections[0], FH_SECRET], [connections[1], PD_SECRET]] as const) {
      expect(c.inputs.authorizationType, c.name).to.equal("API_KEY");
      // The whole auth block is a secret (its value came from getSecretVersion): the plan shows no credential.
      expect(c.inputs.authParameters, c.name).to.equal("[secret]");
      expect(c.inputs.description, c.name).to.contain(`auth from Secrets Manager secret ${secret}`);
      expect(c.inputs.kmsKeyIdentifier, c.name).to.match(/^arn:aws:kms:eu-west-1:444455556666:key\//);
      expect(c.provider, c.name).to.match(/aws-security-eu-west-1$/);
    }
  });

  it("calls each webhook over https, POST, at its rate limit (5 configured; PagerDuty's default within its 120 a minute per key)", () => {
    const fh = r("aws:cloudwatch/eventApiDestination:EventApiDestination", "change-feed-firehydrant").inputs;
    const pd = r("aws:cloudwatch/eventApiDestination:EventApiDestination", "change-feed-pagerduty").inputs;
    expect(fh).to.include({ invocationEndpoint: "https://api.firehydrant.io/v1/changes/events", httpMethod: "POST", invocationRateLimitPerSecond: 5 });
    expect(pd).to.include({ invocationEndpoint: "https://events.pagerduty.com/v2/change/enqueue", httpMethod: "POST", invocationRateLimitPerSecond: 2 });
    // Vendors' documented limits: PagerDuty Events API v2 120 per minute per routing key; FireHydrant 50 per 10 s.
    expect(WEBHOOK_RATE_LIMITS.pagerduty * 60).to.be.at.most(120);
    expect(WEBHOOK_RATE_LIMITS.firehydrant * 10).to.be.at.most(50);
    expect(fh.connectionArn).to.match(/tw-prod-firehydrant$/);
    expect(pd.connectionArn).to.match(/tw-prod-pagerduty$/);
  });

  it("gives every change-feed target a dead-letter queue and a retry policy; only these API destinations may be invoked", () => {
    const targets = ofType(plan, "aws:cloudwatch/eventTarget:EventTarget", /^change-feed-/);
    expect(targets.map((t) => t.name).sort()).to.deep.equal([
      "change-feed-failures-target",
      "change-feed-firehydrant-target",
      "change-feed-pagerduty-target",
      "change-feed-slack-target",
      "change-feed-writes-target",
    ]);
    for (const t of targets) {
      expect(t.inputs.deadLetterConfig?.arn, t.name).to.match(/^arn:aws:sqs:eu-west-1:444455556666:central-delivery-dlq/);
      expect(t.inputs.retryPolicy, t.name).to.deep.equal({ maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
      expect(t.inputs.eventBusName, t.name).to.equal("trailwatch-central");
    }
    const destinations = ofType(plan, "aws:cloudwatch/eventApiDestination:EventApiDestination");
    for (const kind of ["firehydrant", "pagerduty"]) {
      const t = r("aws:cloudwatch/eventTarget:EventTarget", `change-feed-${kind}-target`).inputs;
      expect(t.roleArn).to.match(/^arn:aws:iam::444455556666:role\/change-feed-invoke/);
    }
    expect(r("aws:cloudwatch/eventTarget:EventTarget", "change-feed-firehydrant-target").inputs.inputPath).to.equal("$.detail.responsePayload.firehydrant");
    // PagerDuty's body is built by an input transformer that adds the routing key: a secret in the plan and state.
    const pdTarget = r("aws:cloudwatch/eventTarget:EventTarget", "change-feed-pagerduty-target").inputs;
    expect(pdTarget.inputPath).to.equal(undefined);
    expect(pdTarget.inputTransformer).to.equal("[secret]");
    const invoke = r("aws:iam/rolePolicy:RolePolicy", "change-feed-invoke").inputs;
    expect(stmts(invoke.policy)).to.have.length(1);
    expect(stmts(invoke.policy)[0]).to.deep.include({ Effect: "Allow", Action: "events:InvokeApiDestination" });
    expect(stmts(invoke.policy)[0].Resource).to.have.length(destinations.length).and.to.have.length(2);
    const trust = stmts(r("aws:iam/role:Role", "change-feed-invoke").inputs.assumeRolePolicy);
    expect(trust).to.deep.equal([{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": SECURITY } } }]);
    // Lambda retries the normalizer twice and returns every result, success or failure, to the central bus.
    const results = r("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "change-feed-normalizer-results").inputs;
    expect(results).to.deep.include({ maximumRetryAttempts: 2, destinationConfig: { onFailure: { destination: BUS_ARN }, onSuccess: { destination: BUS_ARN } } });
    // A result the bus refuses (too large, a permission problem) is lost without an alarm on the destination's failures.
    const alarm = r("aws:cloudwatch/metricAlarm:MetricAlarm", "change-feed-normalizer-destination-failures").inputs;
    expect(alarm).to.deep.include({ namespace: "AWS/Lambda", metricName: "DestinationDeliveryFailures", threshold: 0, comparisonOperator: "GreaterThanThreshold" });
    expect(alarm.dimensions.FunctionName).to.equal(r("aws:lambda/function:Function", "change-feed-normalizer").inputs.name);
  });

  it("lets the normalizer put events on the central bus and write its own logs, nothing else; it packs no package", () => {
    const fn = r("aws:lambda/function:Function", "change-feed-normalizer");
    const statements = stmts(r("aws:iam/rolePolicy:RolePolicy", "change-feed-normalizer-policy").inputs.policy);
    expect(statements).to.deep.equal([
      { Sid: "OwnLogsOnly", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`arn:aws:logs:eu-west-1:${SECURITY}:log-group:/aws/lambda/${fn.inputs.name}:*`] },
      { Sid: "ResultsToTheCentralBusOnly", Effect: "Allow", Action: "events:PutEvents", Resource: [BUS_ARN] },
    ]);
    expect(fn.inputs.role).to.match(/:role\/change-feed-normalizer-role-/);
    // Policies and attachments name the role by id (its resource name plus a suffix).
    const attached = [...ofType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"), ...ofType(plan, "aws:iam/rolePolicy:RolePolicy")].filter((x) =>
      String(x.inputs.role).startsWith("change-feed-normalizer-role"),
    );
    expect(attached.map((x) => x.name)).to.deep.equal(["change-feed-normalizer-policy"]);
    expect(fs.readdirSync(path.join(plan.dir, "functions", "change-feed-normalizer"))).to.deep.equal(["__index.js"]);
  });

  it("feeds the normalizer write calls only, minus the noise event names (built-in and configured)", () => {
    const rule = r("aws:cloudwatch/eventRule:EventRule", "change-feed-writes-rule").inputs;
    const pattern = json(rule.eventPattern);
    expect(validatePattern(pattern)).to.deep.equal([]);
    expect(pattern["detail-type"]).to.deep.equal(["AWS API Call via CloudTrail"]);
    expect(pattern.detail.readOnly).to.deep.equal([false]);
    const excluded: string[] = pattern.detail.eventName[0]["anything-but"];
    expect(excluded).to.include.members([...DEFAULT_NOISE.eventNames, "SendCommand"]);
    expect(excluded).to.have.length(DEFAULT_NOISE.eventNames.length + 1);
    expect(rule.state).to.equal("ENABLED");
    expect(matchesPattern(pattern, toEnvelope(STOP_LOGGING))).to.equal(true);
    expect(matchesPattern(pattern, toEnvelope(READ_ONLY))).to.equal(false);
    expect(matchesPattern(pattern, toEnvelope(NOISE_BUILTIN))).to.equal(false);
    expect(matchesPattern(pattern, toEnvelope(NOISE_CONFIG))).to.equal(false);
    // A service principal's calls pass the pattern (it cannot test a field that may be absent); the function drops them.
    expect(matchesPattern(pattern, toEnvelope(NOISE_PRINCIPAL))).to.equal(true);
  });

  /** The forwarding rules as they deploy: the StackSet template's, and the management account's (eu-west-1). */
  const deployedStreams = () => {
    const template = JSON.parse(r("aws:cloudformation/stackSet:StackSet", "forwarders-stackset").inputs.templateBody);
    const fromTemplate = Object.values(template.Resources as Record<string, any>)
      .filter((x) => x.Type === "AWS::Events::Rule" && x.Properties.EventPattern)
      .map((x) => ({ ruleName: x.Properties.Name as string, pattern: x.Properties.EventPattern }));
    const management = ofType(plan, "aws:cloudwatch/eventRule:EventRule")
      .filter((x) => x.provider?.endsWith("aws-management-eu-west-1") && /^trailwatch-/.test(x.inputs.name ?? "") && x.inputs.eventPattern)
      .map((x) => ({ ruleName: x.inputs.name as string, pattern: json(x.inputs.eventPattern) }));
    expect(management.map((x) => x.ruleName).sort()).to.deep.equal(fromTemplate.map((x) => x.ruleName).sort());
    for (const m of management) expect(m.pattern, m.ruleName).to.deep.equal(fromTemplate.find((t) => t.ruleName === m.ruleName)!.pattern);
    return fromTemplate;
  };

  it("deploys forwarding patterns EventBridge reads as we do: valid, no path constrained inside and outside a $or, within 2,048 characters", () => {
    const streams = deployedStreams();
    expect(streams.map((x) => x.ruleName)).to.include("trailwatch-changes");
    for (const { ruleName, pattern } of streams) {
      expect(validatePattern(pattern), ruleName).to.deep.equal([]);
      expect(JSON.stringify(pattern).length, ruleName).to.be.at.most(2048);
    }
    const changes = streams.find((x) => x.ruleName === "trailwatch-changes")!.pattern;
    // Management events only: data events are readOnly false too (CloudTrail record contents: managementEvent).
    expect(changes.detail.managementEvent).to.deep.equal([true]);
    // The errorCode condition lives in each $or branch, never beside the $or.
    expect(changes.detail).not.to.have.property("errorCode");
    expect(changes.detail.$or.every((b: any) => "errorCode" in b)).to.equal(true);
  });

  it("has forwarders send every write management call to the central bus exactly once, as EventBridge's engine matches (no stream overlaps another)", () => {
    const streams = deployedStreams();
    const central = json(r("aws:cloudwatch/eventRule:EventRule", "change-feed-writes-rule").inputs.eventPattern);
    const writesOnly = { ...central, detail: { readOnly: [false] } };
    let writes = 0;
    let writeDenies = 0;
    let beforeManagementEventField = 0;
    for (const { origin, record } of ALL) {
      const event = toEnvelope(record);
      const matched = streams.filter((s) => matchesPattern(s.pattern, event)).map((s) => s.ruleName);
      expect(matched.length, `${origin}: ${matched.join(", ")}`).to.be.at.most(1);
      if (!matchesPattern(writesOnly, event)) continue;
      // CloudTrail writes managementEvent on every record from eventVersion 1.06; the samples' older records (and
      // fixtures trimmed by Panther) lack it, and the changes stream (managementEvent: [true]) does not take them.
      if (record.managementEvent === undefined) {
        beforeManagementEventField++;
        continue;
      }
      if (record.managementEvent !== true) {
        expect(matched, `${origin}: a data event is no change`).not.to.include("trailwatch-changes");
        continue;
      }
      writes++;
      expect(matched, origin).to.have.length(1);
      if (/^AccessDenied|UnauthorizedOperation$/.test(String(record.errorCode ?? ""))) {
        writeDenies++;
        expect(matched, `${origin}: a write deny goes through the deny stream only`).to.deep.equal(["trailwatch-denies"]);
      }
    }
    expect(writes).to.be.greaterThan(200);
    expect(writeDenies).to.be.greaterThan(15);
    expect(beforeManagementEventField).to.be.lessThan(writes);
  });

  it("would have caught the pre-issue-24 changes pattern: errorCode beside and inside the $or forwarded every write deny a second time", () => {
    const before = {
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        readOnly: [false],
        errorCode: [{ exists: false }, { "anything-but": { wildcard: ["AccessDenied*", "*UnauthorizedOperation", "AuthorizationError", "VpceAccessDenied"] } }],
        $or: [{ errorCode: [{ exists: true }] }, { eventSource: [{ "anything-but": ["ec2.amazonaws.com", "iam.amazonaws.com", "organizations.amazonaws.com"] }] }],
      },
    };
    expect(validatePattern(before)[0]).to.contain("path detail.errorCode is constrained both outside and inside a $or branch");
    const deny = ALL.find(({ record }) => record.readOnly === false && record.errorCode === "AccessDenied")!;
    expect(matchesPattern(before, toEnvelope(deny.record)), deny.origin).to.equal(true);
    expect(matchesPattern(deployedStreams().find((x) => x.ruleName === "trailwatch-changes")!.pattern, toEnvelope(deny.record))).to.equal(false);
  });

  it("adds the write-call stream to the forwarder template only when the change feed is on", () => {
    const rules = (p: PlanRun) =>
      Object.entries(JSON.parse(one(p, "aws:cloudformation/stackSet:StackSet", "forwarders-stackset").inputs.templateBody).Resources)
        .filter(([, r]: [string, any]) => r.Type === "AWS::Events::Rule")
        .map(([id]) => id);
    expect(rules(plan)).to.include("TrailwatchChanges");
    expect(rules(prodPlan())).not.to.include("TrailwatchChanges");
    expect(ofType(plan, "aws:cloudwatch/eventRule:EventRule").some((r) => r.inputs.name === "trailwatch-changes" && r.provider?.includes("aws-management-"))).to.equal(true);
  });

  it("deploys the vendor role trusted by the configured principal only, ExternalId required, exactly six read actions", () => {
    const stack = r("aws:cloudformation/stack:Stack", "change-tracker-role-management");
    const set = r("aws:cloudformation/stackSet:StackSet", "change-tracker-role-stackset");
    expect(stack.provider).to.match(/aws-management-eu-west-1$/);
    expect(set.provider).to.match(/aws-management-eu-west-1$/);
    expect(set.inputs).to.include({ permissionModel: "SERVICE_MANAGED", templateBody: stack.inputs.templateBody });
    expect(set.inputs.autoDeployment).to.deep.equal({ enabled: true, retainStacksOnAccountRemoval: false });
    for (const s of [stack, set]) {
      expect(s.inputs.capabilities).to.deep.equal(["CAPABILITY_NAMED_IAM"]);
      // The ExternalId, read from its secret at deploy time, is the only parameter: secret in the plan and state.
      expect(s.inputs.parameters, s.name).to.equal("[secret]");
    }
    const instances = r("aws:cloudformation/stackInstances:StackInstances", "change-tracker-role-instances").inputs;
    expect(instances.regions).to.deep.equal(["eu-west-1"]); // IAM is global: one instance per account
    expect(instances.deploymentTargets).to.deep.equal({ organizationalUnitIds: ["r-8x1f"] });

    const template = JSON.parse(stack.inputs.templateBody);
    expect(template.Parameters).to.have.keys(["ExternalId"]);
    expect(template.Parameters.ExternalId).to.include({ Type: "String", NoEcho: true, MinLength: 2 });
    expect(Object.keys(template.Resources)).to.deep.equal(["ChangeTrackerRole"]);
    const role = template.Resources.ChangeTrackerRole;
    expect(role.Type).to.equal("AWS::IAM::Role");
    expect(role.Properties.MaxSessionDuration).to.equal(7200);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).to.deep.equal([
      {
        Sid: "TrustedPrincipalWithExternalId",
        Effect: "Allow",
        Principal: { AWS: VENDOR },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } } },
      },
    ]);
    expect(role.Properties.Policies).to.have.length(1);
    const [perm] = role.Properties.Policies[0].PolicyDocument.Statement;
    expect(role.Properties.Policies[0].PolicyDocument.Statement).to.have.length(1);
    expect(perm.Effect).to.equal("Allow");
    expect([...perm.Action].sort()).to.deep.equal(
      ["cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags", "cloudtrail:LookupEvents", "sts:GetCallerIdentity"],
    );
    expect([...THIRD_PARTY_ACTIONS].sort()).to.deep.equal([...perm.Action].sort());
    expect(role.Properties.ManagedPolicyArns).to.equal(undefined);
  });

  describe("the normalizer Lambda from the plan's archive", () => {
    let handler: (event: unknown) => Promise<any>;
    let fnArn: string;
    const rulePattern = (name: string) => json(r("aws:cloudwatch/eventRule:EventRule", name).inputs.eventPattern);

    before(() => {
      const fn = r("aws:lambda/function:Function", "change-feed-normalizer");
      expect(fn.inputs.environment).to.equal(undefined); // settings are code, no environment, no secret
      fnArn = `arn:aws:lambda:eu-west-1:${SECURITY}:function:${fn.inputs.name}`;
      handler = require(path.join(plan.dir, "functions", "change-feed-normalizer", "__index.js")).handler;
    });

    it("returns, for a real write, the change with its environment and owner and the body each webhook gets", async () => {
      const event = toEnvelope(STOP_LOGGING);
      const out = await handler(event);
      const change = toChangeRecord(STOP_LOGGING, ENV_MAP);
      expect(change.where).to.deep.include({ environment: "prod", owner: "platform" });
      expect(Object.keys(out).sort()).to.deep.equal(["change", "firehydrant", "pagerduty", "schema"]); // no generic webhook configured
      expect(out.schema).to.equal("trailwatch.change/v1");
      expect(out.change).to.deep.equal(JSON.parse(JSON.stringify(change)));
      expect(out.firehydrant).to.deep.equal(JSON.parse(JSON.stringify(fireHydrantChangeEvent(change, { environmentIds: { prod: FH_PROD_ENV }, serviceIds: [FH_PLATFORM_SERVICE] }))));
      // Linked to the FireHydrant environment and the owner's service from config, so incidents show the change.
      expect(out.firehydrant).to.deep.include({ environments: [FH_PROD_ENV], services: [FH_PLATFORM_SERVICE], external_id: STOP_LOGGING.eventID });
      const { routing_key, ...pd } = pagerDutyChangeEvent(change, "from-the-connection");
      expect(routing_key).to.equal("from-the-connection");
      expect(out.pagerduty).to.deep.equal(JSON.parse(JSON.stringify(pd)));
      expect(out.pagerduty).not.to.have.property("routing_key");

      // What Lambda puts on the bus, through the deployed rules and input paths, is what each webhook receives.
      const onBus = invocationResult(fnArn, event, out);
      for (const kind of ["firehydrant", "pagerduty"]) expect(matchesPattern(rulePattern(`change-feed-${kind}-rule`), onBus), kind).to.equal(true);
      const inputPath = r("aws:cloudwatch/eventTarget:EventTarget", "change-feed-firehydrant-target").inputs.inputPath;
      expect(atPath(onBus, inputPath)).to.deep.equal(out.firehydrant);
      expect(JSON.parse(transform(pagerDutyInputTransformer(PD_ROUTING_KEY), onBus))).to.deep.equal({ routing_key: PD_ROUTING_KEY, ...out.pagerduty });
      // A generic webhook's Idempotency-Key header resolves, on the result Lambda puts on the bus, to the change's event id.
      expect(atPath(onBus, GENERIC_IDEMPOTENCY_HEADER["Idempotency-Key"])).to.equal(STOP_LOGGING.eventID);
      expect(atPath(onBus, "$.detail.responsePayload.pagerduty").payload.summary).to.match(/^prod 143434273843 .*cloudtrail StopLogging/);
      // Prod, made outside IaC: Slack too. The same result from another account of the organization: nowhere.
      expect(matchesPattern(rulePattern("change-feed-slack-rule"), onBus)).to.equal(true);
      const forged = invocationResult(fnArn.replace(SECURITY, MGMT), event, out, MGMT);
      for (const name of ["change-feed-firehydrant-rule", "change-feed-pagerduty-rule", "change-feed-slack-rule"]) expect(matchesPattern(rulePattern(name), forged), name).to.equal(false);
    });

    it("sends a Terraform change to the webhooks but not to Slack (outsideIacOnly)", async () => {
      const out = await handler(toEnvelope(TERRAFORM));
      expect(out.change.who).to.deep.include({ via: "iac", tool: "terraform" });
      expect(out.change.where.environment).to.equal("prod");
      const onBus = invocationResult(fnArn, toEnvelope(TERRAFORM), out);
      expect(matchesPattern(rulePattern("change-feed-firehydrant-rule"), onBus)).to.equal(true);
      expect(matchesPattern(rulePattern("change-feed-slack-rule"), onBus)).to.equal(false);
    });

    it("a PagerDuty stub that requires routing_key in the JSON body accepts every change event (all sample records)", async () => {
      const received: any[] = [];
      const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          // Events API v2 change events: routing_key (the integration key), payload.summary (at most 1024) and
          // payload.source required; 202 when accepted, 400 "invalid event" otherwise.
          // https://developer.pagerduty.com/docs/send-change-event
          let e: any;
          const errors: string[] = [];
          try {
            e = JSON.parse(body);
          } catch {
            errors.push("body is not JSON");
          }
          if (e && e.routing_key !== PD_ROUTING_KEY) errors.push("routing_key missing or unknown");
          if (e && (typeof e.payload?.summary !== "string" || e.payload.summary.length === 0 || e.payload.summary.length > 1024)) errors.push("payload.summary");
          if (e && (typeof e.payload?.source !== "string" || e.payload.source.length === 0)) errors.push("payload.source");
          if (e?.payload?.timestamp !== undefined && Number.isNaN(Date.parse(e.payload.timestamp))) errors.push("payload.timestamp");
          if (e?.links !== undefined && !(Array.isArray(e.links) && e.links.every((l: any) => typeof l.href === "string"))) errors.push("links");
          res.setHeader("content-type", "application/json");
          res.statusCode = errors.length ? 400 : 202;
          if (!errors.length) received.push(e);
          res.end(JSON.stringify(errors.length ? { status: "invalid event", message: "Event object is invalid", errors } : { status: "success", message: "Change event processed" }));
        });
      });
      const url = await new Promise<string>((ok) => server.listen(0, "127.0.0.1", () => ok(`http://127.0.0.1:${(server.address() as any).port}/v2/change/enqueue`)));
      try {
        const transformer = pagerDutyInputTransformer(PD_ROUTING_KEY);
        let sent = 0;
        const refused: string[] = [];
        for (const { origin, record } of ALL) {
          const out = await handler(toEnvelope(record));
          const onBus = invocationResult(fnArn, toEnvelope(record), out);
          if (!matchesPattern(rulePattern("change-feed-pagerduty-rule"), onBus)) continue;
          sent++;
          const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: transform(transformer, onBus) });
          if (res.status !== 202) refused.push(`${origin}: ${res.status} ${await res.text()}`);
        }
        expect(refused).to.deep.equal([]);
        expect(sent).to.be.greaterThan(100);
        expect(received).to.have.length(sent);
        // Without the transformer (the normalizer's body alone), PagerDuty refuses it: the stub is strict.
        const out = await handler(toEnvelope(STOP_LOGGING));
        const bare = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(out.pagerduty) });
        expect(bare.status).to.equal(400);
      } finally {
        await new Promise<void>((ok) => server.close(() => ok()));
      }
      expect(() => pagerDutyInputTransformer('key", "x": "<y>')).to.throw(/routing \(integration\) key/);
    });

    it("puts nothing any webhook receives for a read-only call or a noise write", async () => {
      for (const [what, record] of [["read-only", READ_ONLY], ["built-in noise name", NOISE_BUILTIN], ["configured noise name", NOISE_CONFIG], ["service principal", NOISE_PRINCIPAL]] as const) {
        const out = await handler(toEnvelope(record));
        expect(out, what).to.equal(null);
        const onBus = invocationResult(fnArn, toEnvelope(record), out);
        for (const name of ["change-feed-firehydrant-rule", "change-feed-pagerduty-rule", "change-feed-slack-rule"]) expect(matchesPattern(rulePattern(name), onBus), `${what} ${name}`).to.equal(false);
      }
    });
  });

  describe("the Slack digest Lambda from the plan's archive (through the outbox)", () => {
    let secrets: Awaited<ReturnType<typeof startSecretsStub>>;
    let slack: Awaited<ReturnType<typeof startSlackStub>>;
    let ddb: Awaited<ReturnType<typeof startDynalite>>;
    let outbox: Awaited<ReturnType<typeof outboxHarness>>;
    const TOKEN_SECRET = `arn:aws:secretsmanager:eu-west-1:${SECURITY}:secret:test-change-feed-bot`;

    before(async () => {
      secrets = await startSecretsStub({ [TOKEN_SECRET]: "xoxb-change-feed-token" });
      slack = await startSlackStub();
      ddb = await startDynalite();
      useLocalAwsEnv({ SECRETS_MANAGER: secrets.url, DYNAMODB: ddb.url });
      outbox = await outboxHarness({ ddb, createTable, poster: () => require(path.join(plan.dir, "functions", "slack-outbox-poster", "__index.js")).handler });
    });
    after(async () => {
      await Promise.all([secrets?.close(), slack?.close(), ddb?.close(), outbox?.close()]);
    });

    it("gathers a batch into one digest per environment, through SQS with the configured 5-minute window", async () => {
      const fn: Resource = r("aws:lambda/function:Function", "change-feed-slack");
      const env = fn.inputs.environment.variables;
      expect(Object.keys(env).sort()).to.deep.equal(["CHANGE_DIGEST_OUTSIDE_IAC_ONLY", "SLACK_CHANNEL_ID", "SLACK_OUTBOX_QUEUE_URL"]);
      expect(env.SLACK_CHANNEL_ID).to.equal("C04SECOPS01");
      expect(env.CHANGE_DIGEST_OUTSIDE_IAC_ONLY).to.equal("true");
      const source = r("aws:lambda/eventSourceMapping:EventSourceMapping", "change-feed-slack-source").inputs;
      expect(source).to.deep.include({ maximumBatchingWindowInSeconds: 300, batchSize: 100, functionResponseTypes: ["ReportBatchItemFailures"] });
      Object.assign(process.env, env, { SLACK_BOT_TOKEN_SECRET: TOKEN_SECRET, SLACK_API_URL: slack.apiUrl, SLACK_OUTBOX_QUEUE_URL: outbox.sqs.urlOf("outbox.fifo") });
      const handler = require(path.join(plan.dir, "functions", "change-feed-slack", "__index.js")).handler;
      const normalizer = require(path.join(plan.dir, "functions", "change-feed-normalizer", "__index.js")).handler;
      const fnArn = `arn:aws:lambda:eu-west-1:${SECURITY}:function:tw-prod-change-feed-normalizer`;
      const body = async (rec: CloudTrailRecord) => JSON.stringify(invocationResult(fnArn, toEnvelope(rec), await normalizer(toEnvelope(rec))));
      const result = await handler({
        Records: [
          { messageId: "m1", body: await body(STOP_LOGGING) },
          { messageId: "m2", body: "{not json" },
          { messageId: "m3", body: await body(STOP_LOGGING) },
        ],
      });
      expect(result).to.deep.equal({ batchItemFailures: [] });
      await outbox.deliver();
      const posts = slack.calls.filter((c) => c.method === "chat.postMessage");
      expect(posts).to.have.length(1);
      expect(posts[0].token).to.equal("xoxb-change-feed-token");
      expect(posts[0].args.channel).to.equal("C04SECOPS01");
      expect(posts[0].args.text).to.equal("2 changes in prod made outside IaC");
      expect(JSON.stringify(posts[0].args.blocks)).to.contain("cloudtrail:StopLogging");

      // The same batch redelivered (the function timed out after queuing): the same notice id, not posted again.
      const again = await handler({ Records: [{ messageId: "m1", body: await body(STOP_LOGGING) }, { messageId: "m3", body: await body(STOP_LOGGING) }] });
      expect(again).to.deep.equal({ batchItemFailures: [] });
      await outbox.deliver();
      expect(slack.calls.filter((c) => c.method === "chat.postMessage")).to.have.length(1);

      // One environment's hand-over fails: only its messages come back; the other environment's digest is queued once.
      const mgmtChange = JSON.parse(await body(STOP_LOGGING));
      mgmtChange.detail.responsePayload.change.where.environment = "management";
      outbox.sqs.failNext.count = 3; // the first SendMessage (environments in order: management, prod) fails all its attempts
      const partial = await handler({ Records: [{ messageId: "a1", body: JSON.stringify(mgmtChange) }, { messageId: "b1", body: await body(STOP_LOGGING) }] });
      expect(partial).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "a1" }] });
      expect(outbox.sqs.queues["outbox.fifo"].map((m) => JSON.parse(m.body).text)).to.deep.equal(["1 change in prod made outside IaC"]);
    });
  });
});

describe("trailwatch:changeFeed config", () => {
  const { parseStackConfig } = require("../stacks/config") as typeof import("../stacks/config");
  const { readStackConfig } = require("../cli/mockRuntime") as typeof import("../cli/mockRuntime");
  const withChangeFeed = (section: unknown) => {
    const c = readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config;
    c["trailwatch:changeFeed"] = JSON.stringify(section);
    return parseStackConfig(c);
  };

  it("defaults every key (the shipped stack has none)", () => {
    const r = withChangeFeed({});
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.changeFeed).to.deep.equal({
      environments: {},
      defaultEnvironment: "unknown",
      noise: { eventNames: [], principals: [] },
      webhooks: [],
      slackDigest: { enabled: false, environments: ["prod"], outsideIacOnly: true },
      logRetentionDays: 90,
    });
    // The change feed's own retention, not the deny advisor's.
    const own = withChangeFeed({ logRetentionDays: 30 });
    if (!own.ok) throw new Error(own.problems.join("\n"));
    expect([own.config.changeFeed.logRetentionDays, own.config.denyAdvisor.logRetentionDays]).to.deep.equal([30, 90]);
    const w = withChangeFeed({ webhooks: [{ name: "fh", kind: "firehydrant", url: "https://api.firehydrant.io/v1/changes/events", secret: FH_SECRET }], thirdPartyRole: { principalArn: VENDOR, externalIdSecret: "x/y" } });
    if (!w.ok) throw new Error(w.problems.join("\n"));
    // No rate in config: the component uses the kind's default (WEBHOOK_RATE_LIMITS).
    expect(w.config.changeFeed.webhooks[0].rateLimitPerSecond).to.equal(undefined);
    const bad = withChangeFeed({ fireHydrant: { environments: { prod: "not-a-uuid" } } });
    expect((bad as { problems: string[] }).problems).to.deep.equal(['trailwatch:changeFeed.fireHydrant.environments.prod: expected a FireHydrant id (a UUID), found "not-a-uuid"']);
    expect(w.config.changeFeed.thirdPartyRole).to.deep.equal({ principalArn: VENDOR, externalIdSecret: "x/y", maxSessionDurationSeconds: 3600, deployTo: "management" });
  });

  it("names each bad value: an http URL, a plaintext credential where a secret name goes, a principal that is not an ARN", () => {
    const r = withChangeFeed({
      webhooks: [{ name: "pd", kind: "pagerduty", url: "http://events.pagerduty.com/v2/change/enqueue", secret: "R0ut1ng key with spaces" }],
      thirdPartyRole: { principalArn: "012345678901", externalIdSecret: "x", maxSessionDurationSeconds: 60 },
    });
    expect(r.ok).to.equal(false);
    const problems = (r as { problems: string[] }).problems;
    expect(problems).to.deep.equal([
      "trailwatch:changeFeed.thirdPartyRole.maxSessionDurationSeconds: expected number to be >=3600, found number 60",
      'trailwatch:changeFeed.thirdPartyRole.principalArn: expected an IAM role ARN or account root ARN (arn:aws:iam::123456789012:root), found "012345678901"',
      'trailwatch:changeFeed.webhooks[0].secret: expected a Secrets Manager secret name or ARN, found "R0ut1ng key with spaces"',
      'trailwatch:changeFeed.webhooks[0].url: expected an https:// URL, found "http://events.pagerduty.com/v2/change/enqueue"',
    ]);
  });

  it("rejects two webhooks with one name and unknown keys", () => {
    const hook = { name: "fh", kind: "firehydrant", url: "https://api.firehydrant.io/v1/changes/events", secret: FH_SECRET };
    const dup = withChangeFeed({ webhooks: [hook, hook] });
    expect((dup as { problems: string[] }).problems).to.deep.equal(['trailwatch:changeFeed.webhooks[1].name: expected unique webhook names, found "fh" twice']);
    const unknown = withChangeFeed({ webhook: [] });
    expect((unknown as { problems: string[] }).problems[0]).to.match(/^trailwatch:changeFeed: unknown key "webhook"/);
  });
});
