/**
 * Living beside Control Tower / Landing Zone Accelerator: the switches for what exists already, through the plan
 * CLI. With every switch on, trailwatch declares no second organization trail, GuardDuty detector or designation,
 * Config recorder (StackSet or direct), Config delegated administration or aggregator (each fails when it exists
 * already, and destroying one trailwatch did not create would break its owner), and still declares what it adds:
 * alarms on the existing trail's log group, findings forwarding, organization rules and conformance packs.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ofType, runPlan, ROOT, prodPlan, type PlanRun } from "./planFixture";
import { parseStackConfig } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";
import { alarmRows } from "../functions/trailAlarms";

const CT_LOG_GROUP = "aws-controltower/CloudTrailLogs";

function besideControlTower(): { config: Record<string, any> } {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
  const t = doc.config["trailwatch:orgTrail"];
  for (const k of ["administrator", "readerArns", "insights", "bucketExpirationDays"]) delete t[k];
  t.existingLogGroup = CT_LOG_GROUP;
  doc.config["trailwatch:guardDuty"].existingAdministrator = true;
  doc.config["trailwatch:configAggregation"] = { existing: { delegatedAdministrator: true, memberRecorders: true, managementRecorders: true, aggregator: true } };
  return doc;
}

describe("beside Control Tower / Landing Zone Accelerator", function () {
  this.timeout(600_000);
  let plan: PlanRun;
  let outputs: Record<string, any>;
  before(() => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-cfg-")), "Pulumi.ct.yaml");
    fs.writeFileSync(file, yaml.dump(besideControlTower()));
    plan = runPlan(["--stack", "ct", "--config", file]);
    if (plan.status !== 0) throw new Error(`plan failed (${plan.status}):\n${plan.stderr}`);
    outputs = JSON.parse(fs.readFileSync(path.join(plan.dir, "outputs.json"), "utf8"));
  });

  it("existing organization trail: no trail, trail bucket or trail key; every alarm row on the existing log group, to its own topic", () => {
    expect(ofType(plan, "aws:cloudtrail/trail:Trail")).to.deep.equal([]);
    expect(ofType(plan, "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount")).to.deep.equal([]);
    expect(ofType(plan, "aws:s3/bucket:Bucket", /^org-trail/)).to.deep.equal([]);
    const t = readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config["trailwatch:orgTrail"];
    const rows = alarmRows({ disabled: [], elevatedRoles: JSON.parse(t).alarms.elevatedRoles, custom: JSON.parse(t).alarms.custom });
    const filters = ofType(plan, "aws:cloudwatch/logMetricFilter:LogMetricFilter", /^org-trail-existing-/);
    expect(filters.map((f) => f.inputs.name).sort()).to.deep.equal(rows.map((r) => `trailwatch-${r.id}`).sort());
    for (const f of filters) expect(f.inputs.logGroupName, f.name).to.equal(CT_LOG_GROUP);
    const topic = ofType(plan, "aws:sns/topic:Topic", "org-trail-existing-alarms");
    expect(topic).to.have.length(1);
    // The topic is encrypted with a key CloudWatch alarms of the management account (only) may use: an alarm cannot
    // publish to a topic under a key that does not grant it. https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    const key = ofType(plan, "aws:kms/key:Key", "org-trail-existing-key");
    expect(key).to.have.length(1);
    expect(topic[0].inputs.kmsMasterKeyId).to.match(/^org-trail-existing-key-/); // the key's id (mock ids are <name>-<hash>)
    const alarmsGrant = JSON.parse(key[0].inputs.policy).Statement.find((st: any) => st.Sid === "CloudWatchAlarmsToEncryptedTopic");
    expect(alarmsGrant).to.deep.include({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Condition: { StringEquals: { "aws:SourceAccount": "111122223333" } } });
    expect(key[0].inputs.enableKeyRotation).to.equal(true);
    const alarms = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm", /^org-trail-existing-/);
    expect(alarms).to.have.length(rows.length);
    for (const a of alarms) expect(a.inputs.alarmActions, a.name).to.deep.equal([outputs.orgTrailAlarmTopicArn]);
    expect(outputs.orgTrailLogGroup).to.equal(CT_LOG_GROUP);
    // Every alarm resource sits in the management account, where the trail's log group is.
    for (const r of [...filters, ...alarms]) expect(r.provider, r.name).to.match(/::aws-management-eu-west-1$/);
  });

  it("existing GuardDuty administrator: no detector, designation, auto-enable, plans or export; findings still forwarded from every region", () => {
    for (const type of [
      "aws:guardduty/detector:Detector",
      "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount",
      "aws:guardduty/organizationConfiguration:OrganizationConfiguration",
      "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature",
      "aws:guardduty/detectorFeature:DetectorFeature",
      "aws:guardduty/publishingDestination:PublishingDestination",
    ])
      expect(ofType(plan, type), type).to.deep.equal([]);
    expect(ofType(plan, "aws:s3/bucket:Bucket", /^guardduty/)).to.deep.equal([]);
    const rules = ofType(plan, "aws:cloudwatch/eventRule:EventRule", /^guardduty-findings-/);
    expect(rules.map((r) => r.name).sort()).to.deep.equal(["guardduty-findings-eu-central-1", "guardduty-findings-eu-west-1", "guardduty-findings-us-east-1"]);
    expect(JSON.parse(rules[0].inputs.eventPattern).source).to.deep.equal(["aws.guardduty"]);
    expect(ofType(plan, "aws:cloudwatch/eventTarget:EventTarget", /^guardduty-findings-/)).to.have.length(3);
    expect(outputs).to.not.have.property("guardDutyFindingsBucket");
  });

  it("existing Config recorders, delegated administration and aggregator: none declared; organization rules and packs still are", () => {
    expect(ofType(plan, "aws:cfg/recorder:Recorder")).to.deep.equal([]);
    expect(ofType(plan, "aws:cfg/deliveryChannel:DeliveryChannel")).to.deep.equal([]);
    expect(ofType(plan, "aws:cfg/recorderStatus:RecorderStatus")).to.deep.equal([]);
    expect(ofType(plan, "aws:cfg/configurationAggregator:ConfigurationAggregator")).to.deep.equal([]);
    expect(ofType(plan, "aws:cloudformation/stackSet:StackSet").map((s) => s.inputs.name)).to.not.include("trailwatch-ct-config");
    expect(ofType(plan, "aws:iam/role:Role", /^config-(recorder|aggregator)$/)).to.deep.equal([]);
    const services = (type: string) => ofType(plan, type).map((r) => r.inputs.servicePrincipal);
    expect(services("aws:organizations/awsServiceAccess:AwsServiceAccess")).to.not.include.members(["config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"]);
    expect(services("aws:organizations/delegatedAdministrator:DelegatedAdministrator")).to.not.include.members(["config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"]);
    // 4 regional rules in 3 regions + 3 global rules in the home region; the shipped pack in each region.
    expect(ofType(plan, "aws:cfg/organizationManagedRule:OrganizationManagedRule")).to.have.length(15);
    expect(ofType(plan, "aws:cfg/organizationConformancePack:OrganizationConformancePack")).to.have.length(3);
    expect(outputs).to.not.have.property("configAggregatorArn");
  });

  it("the default (prod) plan still creates each of them", () => {
    const prod = prodPlan();
    expect(ofType(prod, "aws:cloudtrail/trail:Trail")).to.have.length(1);
    expect(ofType(prod, "aws:guardduty/detector:Detector")).to.have.length(3);
    expect(ofType(prod, "aws:cfg/recorder:Recorder")).to.have.length(3);
    expect(ofType(prod, "aws:cfg/configurationAggregator:ConfigurationAggregator")).to.have.length(1);
    expect(ofType(prod, "aws:cloudformation/stackSet:StackSet").map((s) => s.inputs.name)).to.include("trailwatch-prod-config");
  });

  it("refuses trail-shaping keys beside orgTrail.existingLogGroup, naming each", () => {
    const c = readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config;
    const t = JSON.parse(c["trailwatch:orgTrail"]);
    t.existingLogGroup = CT_LOG_GROUP;
    c["trailwatch:orgTrail"] = JSON.stringify(t);
    const r = parseStackConfig(c);
    expect(r.ok).to.equal(false);
    const tail = "unset while orgTrail.existingLogGroup is set (it configures the trail trailwatch creates; set it on the existing trail instead)";
    expect(!r.ok && r.problems).to.deep.equal([
      `trailwatch:orgTrail.administrator: expected ${tail}, found "delegated"`,
      `trailwatch:orgTrail.insights: expected ${tail}, found true`,
      `trailwatch:orgTrail.readerArns: expected ${tail}, found a list of 1`,
    ]);
  });
});
