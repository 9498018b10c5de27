import { expect } from "chai";
import { prodPlan, ofType, one, json, Resource } from "./planFixture";
import { forwarderTemplate } from "../components/forwarderTemplate";

const SECURITY = "444455556666";
const providerOf = (r: Resource) => (r.provider ?? "").split("::").pop();

describe("event backbone (plan of the prod stack)", function () {
  // The first suite to ask for the prod plan runs it (a child process, minutes on a loaded machine).
  this.timeout(300_000);
  it("creates the central bus in the security account's home region", () => {
    const plan = prodPlan();
    const bus = one(plan, "aws:cloudwatch/eventBus:EventBus");
    expect(bus.inputs.name).to.equal("trailwatch-central");
    expect(providerOf(bus)).to.equal("aws-security-eu-west-1");
  });

  it("lets only the forwarder roles of the organization's accounts put events on the bus", () => {
    const policy = json(one(prodPlan(), "aws:cloudwatch/eventBusPolicy:EventBusPolicy").inputs.policy);
    expect(policy.Statement).to.have.length(1);
    const [s] = policy.Statement;
    expect(s).to.include({ Effect: "Allow", Principal: "*", Action: "events:PutEvents" });
    expect(s.Resource).to.equal(`arn:aws:events:eu-west-1:${SECURITY}:event-bus/trailwatch-central`);
    expect(s.Condition).to.deep.equal({
      StringEquals: { "aws:PrincipalOrgID": "o-7k2mq9x4ab" },
      ArnLike: { "aws:PrincipalArn": ["arn:aws:iam::*:role/trailwatch-forwarder", "arn:aws:iam::*:role/trailwatch-forwarder-*"] },
    });
  });

  it("archives every event on the bus for the configured retention", () => {
    const archive = one(prodPlan(), "aws:cloudwatch/eventArchive:EventArchive");
    expect(archive.inputs.eventSourceArn).to.equal(`arn:aws:events:eu-west-1:${SECURITY}:event-bus/trailwatch-central`);
    expect(archive.inputs.retentionDays).to.equal(90);
    expect(archive.inputs.eventPattern).to.equal(undefined);
  });

  it("logs every forwarded event to an encrypted, searchable log group EventBridge is allowed to write", () => {
    const plan = prodPlan();
    const rule = one(plan, "aws:cloudwatch/eventRule:EventRule", "security-events-rule").inputs;
    expect(rule.state).to.equal("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
    // Central rules match AWS sources only: nobody can put those with PutEvents (CentralEventBus.subscribe).
    expect(json(rule.eventPattern)).to.deep.equal({ source: [{ prefix: "aws." }], "detail-type": ["AWS API Call via CloudTrail", "AWS Network Activity Event via CloudTrail"] });
    const group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "security-events-logs").inputs;
    expect(group.retentionInDays).to.equal(90);
    expect(group.kmsKeyId).to.match(/^arn:aws:kms:eu-west-1:444455556666:key\//);
    const target = one(plan, "aws:cloudwatch/eventTarget:EventTarget", "security-events-target").inputs;
    expect(target.arn).to.match(/^arn:aws:logs:eu-west-1:444455556666:log-group:\/aws\/events\/trailwatch\/prod\/security-events/);
    // Without the resource policy EventBridge drops the events silently.
    const rp = json(one(plan, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "security-events-logs-policy").inputs.policyDocument);
    expect(rp.Statement).to.have.length(1);
    expect(rp.Statement[0].Principal.Service).to.include("events.amazonaws.com");
    expect(rp.Statement[0].Action).to.deep.equal(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(rp.Statement[0].Resource).to.deep.equal([`${target.arn}:*`]);
  });

  it("gives every target on the central bus a dead-letter queue and a retry policy", () => {
    const plan = prodPlan();
    const targets = ofType(plan, "aws:cloudwatch/eventTarget:EventTarget").filter((t) => t.inputs.eventBusName === "trailwatch-central");
    expect(targets.length).to.be.greaterThan(0);
    for (const t of targets) {
      expect(t.inputs.deadLetterConfig?.arn, t.name).to.match(/^arn:aws:sqs:eu-west-1:444455556666:/);
      expect(t.inputs.retryPolicy, t.name).to.deep.equal({ maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
    }
  });

  it("deploys forwarders with one SERVICE_MANAGED StackSet, auto-deployed to the root in every region incl. us-east-1", () => {
    const plan = prodPlan();
    const set = one(plan, "aws:cloudformation/stackSet:StackSet", "forwarders-stackset");
    expect(set.inputs.permissionModel).to.equal("SERVICE_MANAGED");
    expect(set.inputs.autoDeployment).to.deep.equal({ enabled: true, retainStacksOnAccountRemoval: false });
    expect(set.inputs.capabilities).to.deep.equal(["CAPABILITY_NAMED_IAM"]);
    expect(set.inputs.operationPreferences).to.include({ failureTolerancePercentage: 10, maxConcurrentPercentage: 25 });
    expect(providerOf(set)).to.equal("aws-management-eu-west-1");
    // changeFeed is off in prod: no stream of every write call.
    expect(JSON.parse(set.inputs.templateBody)).to.deep.equal(forwarderTemplate({ changes: false }));
    const instances = one(plan, "aws:cloudformation/stackInstances:StackInstances", "forwarders-instances");
    expect(instances.inputs.regions).to.deep.equal(["eu-central-1", "eu-west-1", "us-east-1"]);
    expect(instances.inputs.deploymentTargets).to.deep.equal({ organizationalUnitIds: ["r-8x1f"] });
    expect(set.inputs.parameters).to.deep.equal({ CentralBusArn: `arn:aws:events:eu-west-1:${SECURITY}:event-bus/trailwatch-central` });
  });

  it("generates a template whose rules carry a RoleArn, a DLQ and the right state", () => {
    const t = forwarderTemplate({ changes: false });
    const rules = Object.entries(t.Resources).filter(([, r]) => r.Type === "AWS::Events::Rule");
    expect(rules.map(([id]) => id).sort()).to.deep.equal(["HeartbeatRule", "TrailwatchConfigNoncompliant", "TrailwatchDenies", "TrailwatchOrgPolicyChanges", "TrailwatchRoleChanges", "TrailwatchSgChanges"]);
    for (const [id, r] of rules) {
      const [target] = r.Properties.Targets as any[];
      expect(target.RoleArn, id).to.deep.equal({ "Fn::GetAtt": ["ForwarderRole", "Arn"] });
      expect(target.Arn, id).to.deep.equal({ Ref: "CentralBusArn" });
      expect(target.DeadLetterConfig, id).to.deep.equal({ Arn: { "Fn::GetAtt": ["ForwarderDeadLetterQueue", "Arn"] } });
      expect(r.Properties.State, id).to.equal(id === "TrailwatchDenies" ? "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" : "ENABLED");
    }
    const role = t.Resources.ForwarderRole.Properties as any;
    expect(role.Policies[0].PolicyDocument.Statement).to.deep.equal([{ Effect: "Allow", Action: "events:PutEvents", Resource: { Ref: "CentralBusArn" } }]);
    expect(role.RoleName).to.deep.equal({ "Fn::Sub": "trailwatch-forwarder-${AWS::Region}" });
  });

  it("forwards directly from the management account in every region, deny rule with all management events", () => {
    const plan = prodPlan();
    const rules = ofType(plan, "aws:cloudwatch/eventRule:EventRule", /^forwarder-management-/);
    const regions = new Set(rules.filter((r) => r.inputs.name === "trailwatch-sg-changes").map((r) => providerOf(r)));
    expect([...regions].sort()).to.deep.equal(["aws-management-eu-central-1", "aws-management-eu-west-1", "aws-management-us-east-1"]);
    // The deny stream also runs in every other default region (forwarder.denyRegions: all; tests/denyRegions.test.ts).
    const denies = rules.filter((r) => r.inputs.name === "trailwatch-denies");
    expect(denies).to.have.length(17);
    for (const r of denies) expect(r.inputs.state).to.equal("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
    for (const r of rules.filter((x) => x.inputs.name !== "trailwatch-denies")) expect(r.inputs.state, r.name).to.equal("ENABLED");
    const targets = ofType(plan, "aws:cloudwatch/eventTarget:EventTarget", /^forwarder-management-/);
    expect(targets).to.have.length(rules.length);
    for (const t of targets) {
      expect(t.inputs.arn, t.name).to.equal(`arn:aws:events:eu-west-1:${SECURITY}:event-bus/trailwatch-central`);
      expect(t.inputs.roleArn, t.name).to.equal("arn:aws:iam::111122223333:role/trailwatch-forwarder");
      expect(t.inputs.deadLetterConfig.arn, t.name).to.match(/^arn:aws:sqs:[a-z0-9-]+:111122223333:trailwatch-forwarder-dlq$/);
    }
  });

  it("alarms when a forwarder goes quiet, and when the check itself stops", () => {
    const alarm = one(prodPlan(), "aws:cloudwatch/metricAlarm:MetricAlarm", "central-quiet-forwarders");
    expect(alarm.inputs).to.include({ namespace: "trailwatch/Backbone", metricName: "QuietForwarders", comparisonOperator: "GreaterThanThreshold", threshold: 0, treatMissingData: "breaching" });
    expect(alarm.inputs.alarmActions).to.have.length(1);
  });

  it("encrypts the alert topic and lets only CloudWatch alarms of this account publish", () => {
    const plan = prodPlan();
    const topic = one(plan, "aws:sns/topic:Topic", "central-alerts");
    expect(topic.inputs.kmsMasterKeyId).to.be.a("string").and.not.equal("");
    const pol = json(one(plan, "aws:sns/topicPolicy:TopicPolicy", "central-alerts-policy").inputs.policy);
    const allow = pol.Statement.find((s: any) => s.Effect === "Allow");
    expect(allow.Principal).to.deep.equal({ Service: "cloudwatch.amazonaws.com" });
    expect(allow.Condition).to.deep.equal({ StringEquals: { "aws:SourceAccount": SECURITY } });
  });
});
