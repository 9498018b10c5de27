/** GuardDutyOrg, ConfigAggregation and FindingsRouter as `npm run plan` declares them for prod. */
import { expect } from "chai";
import * as yaml from "js-yaml";
import { prodPlan, one, ofType, json } from "./planFixture";
import { SEVERITY_BANDS, atLeastPattern, configNonCompliantPattern, severityPattern, GUARDDUTY_FINDING } from "../functions/findings/severity";
import { PROTECTION_FEATURES } from "../components/guardDutyOrg";
import { DEFAULT_ORG_RULES } from "../stacks/config";

const MGMT = "111122223333";
const SEC = "444455556666";
const ARCHIVE = "777788889999";
const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1"];
const provider = (label: string, region: string) => `urn:pulumi:prod::trailwatch::pulumi:pulumi:Stack$pulumi:providers:aws::aws-${label}-${region}`;
const stmt = (doc: any, sid: string) => {
  const s = json(doc).Statement.find((x: any) => x.Sid === sid);
  if (!s) throw new Error(`no statement ${sid}`);
  return s;
};

describe("GuardDutyOrg in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();

  for (const region of REGIONS)
    it(`${region}: security account is delegated admin, its detector auto-enables ALL accounts with the configured plans`, () => {
      const admin = one(plan(), "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount", `guardduty-admin-${region}`);
      expect(admin.inputs.adminAccountId).to.equal(SEC);
      expect(admin.provider).to.equal(provider("management", region));
      const detector = one(plan(), "aws:guardduty/detector:Detector", `guardduty-detector-${region}`);
      expect(detector.provider).to.equal(provider("security", region));
      expect(detector.inputs).to.include({ enable: true, findingPublishingFrequency: "FIFTEEN_MINUTES" });
      expect(admin.dependsOn).to.include(detector.urn);
      expect(one(plan(), "aws:guardduty/organizationConfiguration:OrganizationConfiguration", `guardduty-org-${region}`).dependsOn).to.include(admin.urn);
      const org = one(plan(), "aws:guardduty/organizationConfiguration:OrganizationConfiguration", `guardduty-org-${region}`).inputs;
      expect(org.autoEnableOrganizationMembers).to.equal("ALL");
      const expected: Record<string, boolean> = { s3: true, eks: true, runtime: true, malware: true, rds: true, lambda: false };
      for (const [plan_, { feature, additional }] of Object.entries(PROTECTION_FEATURES)) {
        const f = one(plan(), "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature", `guardduty-${plan_}-${region}`).inputs;
        expect(f.name).to.equal(feature);
        expect(f.autoEnable, plan_).to.equal(expected[plan_] ? "ALL" : "NONE");
        expect((f.additionalConfigurations ?? []).map((a: any) => a.name)).to.deep.equal(additional ?? []);
        const own = one(plan(), "aws:guardduty/detectorFeature:DetectorFeature", `guardduty-${plan_}-admin-${region}`).inputs;
        expect(own.status).to.equal(expected[plan_] ? "ENABLED" : "DISABLED");
      }
      const rule = one(plan(), "aws:cloudwatch/eventRule:EventRule", `guardduty-findings-${region}`);
      expect(json(rule.inputs.eventPattern)).to.deep.equal(GUARDDUTY_FINDING);
      expect(rule.inputs.eventBusName ?? "default").to.equal("default");
      const target = one(plan(), "aws:cloudwatch/eventTarget:EventTarget", `guardduty-findings-${region}`).inputs;
      expect(target.arn).to.equal(`arn:aws:events:eu-west-1:${SEC}:event-bus/trailwatch-central`);
      expect(target.roleArn).to.match(new RegExp(`^arn:aws:iam::${SEC}:role/guardduty-forwarder`));
      // Findings the bus did not take after the retries go to this region's dead-letter queue, which only this rule may use.
      expect(target.retryPolicy).to.deep.equal({ maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
      const dlq = one(plan(), "aws:sqs/queue:Queue", `guardduty-findings-dlq-${region}`);
      expect(target.deadLetterConfig.arn).to.match(new RegExp(`^arn:aws:sqs:${region}:${SEC}:guardduty-findings-dlq-${region}`));
      expect(dlq.inputs).to.include({ sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 });
      const dlqPolicy = json(one(plan(), "aws:sqs/queuePolicy:QueuePolicy", `guardduty-findings-dlq-${region}`).inputs.policy).Statement;
      expect(dlqPolicy).to.have.length(1);
      expect(dlqPolicy[0]).to.deep.include({ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage" });
      expect(dlqPolicy[0].Condition.ArnEquals["aws:SourceArn"]).to.match(new RegExp(`^arn:aws:events:${region}:${SEC}:rule/default/guardduty-findings-${region}`));
      const dest = one(plan(), "aws:guardduty/publishingDestination:PublishingDestination", `guardduty-export-${region}`).inputs;
      expect(dest.destinationType).to.equal("S3");
      expect(dest.kmsKeyArn).to.match(new RegExp(`^arn:aws:kms:eu-west-1:${ARCHIVE}:key/`));
    });

  it("exports findings to a KMS bucket in log archive that only this organization's GuardDuty detectors may write, encrypted with that key", () => {
    const bucket = one(plan(), "aws:s3/bucket:Bucket", "guardduty-findings");
    expect(bucket.provider).to.equal(provider("log-archive", "eu-west-1"));
    const doc = one(plan(), "aws:s3/bucketPolicy:BucketPolicy", "guardduty-findings-policy").inputs.policy;
    const cond = { StringEquals: { "aws:SourceAccount": SEC }, ArnLike: { "aws:SourceArn": `arn:aws:guardduty:*:${SEC}:detector/*` } };
    expect(stmt(doc, "GuardDutyWritesFindings").Condition).to.deep.equal(cond);
    expect(stmt(doc, "GuardDutyLocatesBucket").Condition).to.deep.equal(cond);
    const keyArn = one(plan(), "aws:guardduty/publishingDestination:PublishingDestination", "guardduty-export-eu-west-1").inputs.kmsKeyArn;
    expect(stmt(doc, "DenyOtherKeys").Condition).to.deep.equal({ StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } });
    expect(stmt(doc, "DenyUnencryptedFindings").Effect).to.equal("Deny");
    expect(stmt(one(plan(), "aws:kms/key:Key", "guardduty-findings-key").inputs.policy, "GuardDutyEncryptsFindings").Condition).to.deep.equal(cond);
    const dest = one(plan(), "aws:guardduty/publishingDestination:PublishingDestination", "guardduty-export-eu-central-1");
    expect(dest.dependsOn).to.include(one(plan(), "aws:s3/bucketPolicy:BucketPolicy", "guardduty-findings-policy").urn);
  });
});

describe("FindingsRouter in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();

  it("routes each severity band by numeric matching to its own KMS-encrypted topic, published only by its rules", () => {
    for (const band of SEVERITY_BANDS) {
      const rule = one(plan(), "aws:cloudwatch/eventRule:EventRule", `findings-guardduty-${band}-rule`).inputs;
      expect(rule.eventBusName).to.equal("trailwatch-central");
      expect(json(rule.eventPattern)).to.deep.equal(severityPattern(band));
      const topic = one(plan(), "aws:sns/topic:Topic", `findings-${band}`);
      expect(topic.inputs.kmsMasterKeyId).to.be.a("string").and.not.empty;
      const target = one(plan(), "aws:cloudwatch/eventTarget:EventTarget", `findings-guardduty-${band}-target`).inputs;
      expect(target.arn).to.match(new RegExp(`^arn:aws:sns:eu-west-1:${SEC}:findings-${band}-[0-9a-f]{7}$`));
      expect(target.deadLetterConfig.arn).to.match(/central-delivery-dlq/);
      const allow = json(one(plan(), "aws:sns/topicPolicy:TopicPolicy", `findings-${band}-policy`).inputs.policy).Statement.filter((s: any) => s.Effect === "Allow");
      expect(allow).to.have.length(1);
      expect(allow[0].Principal).to.deep.equal({ Service: "events.amazonaws.com" });
      const publishers: string[] = allow[0].Condition.ArnEquals["aws:SourceArn"];
      expect(publishers.filter((a) => a.includes(`/findings-guardduty-${band}-rule-`))).to.have.length(1);
      expect(publishers.every((a) => a.startsWith(`arn:aws:events:eu-west-1:${SEC}:rule/trailwatch-central/`))).to.equal(true);
    }
    // Config non-compliance publishes to the medium topic as well.
    const medium = json(one(plan(), "aws:sns/topicPolicy:TopicPolicy", "findings-medium-policy").inputs.policy).Statement[0].Condition.ArnEquals["aws:SourceArn"];
    expect(medium).to.have.length(2);
    expect(json(one(plan(), "aws:cloudwatch/eventRule:EventRule", "findings-config-noncompliant-rule").inputs.eventPattern)).to.deep.equal(configNonCompliantPattern);
  });

  it("subscribes the configured emails and HTTPS endpoints per band", () => {
    const subs = ofType(plan(), "aws:sns/topicSubscription:TopicSubscription").filter((s) => s.name.startsWith("findings-"));
    expect(subs.map((s) => `${s.name.split("-")[1]} ${s.inputs.protocol} ${s.inputs.endpoint}`).sort()).to.deep.equal([
      "critical email secops-oncall@example.com",
      "critical https https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
      "high email secops@example.com",
    ]);
  });

  it("sends high and critical GuardDuty findings and Config non-compliance to the notifier, which may only dedupe and hand notices to the Slack outbox", () => {
    expect(json(one(plan(), "aws:cloudwatch/eventRule:EventRule", "findings-guardduty-slack-rule").inputs.eventPattern)).to.deep.equal(atLeastPattern("high"));
    expect(json(one(plan(), "aws:cloudwatch/eventRule:EventRule", "findings-config-slack-rule").inputs.eventPattern)).to.deep.equal(configNonCompliantPattern);
    const policyDoc = json(one(plan(), "aws:iam/rolePolicy:RolePolicy", "findings-notifier-policy").inputs.policy);
    const actions = policyDoc.Statement.flatMap((s: any) => [s.Action].flat()).sort();
    expect(actions).to.include.members(["dynamodb:DeleteItem", "dynamodb:PutItem", "sqs:SendMessage"]);
    expect(actions).to.not.include("secretsmanager:GetSecretValue"); // the outbox's poster holds the token
    expect(actions.some((a: string) => a.endsWith("*"))).to.equal(false);
    const table = one(plan(), "aws:dynamodb/table:Table", "findings-notified").inputs;
    expect(table.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
    expect(table.serverSideEncryption.enabled).to.equal(true);
  });
});

describe("ConfigAggregation in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();

  it("enables trusted access and delegates Config administration to the security account", () => {
    for (const id of ["config", "config-multiaccountsetup"]) {
      const access = one(plan(), "aws:organizations/awsServiceAccess:AwsServiceAccess", `config-trusted-${id}`);
      const admin = one(plan(), "aws:organizations/delegatedAdministrator:DelegatedAdministrator", `config-delegated-${id}`);
      expect(admin.inputs).to.deep.equal({ accountId: SEC, servicePrincipal: `${id}.amazonaws.com` });
      expect(admin.dependsOn).to.include(access.urn);
    }
  });

  it("records in members through an auto-deployed StackSet, home region first, global types there only", () => {
    const set = one(plan(), "aws:cloudformation/stackSet:StackSet", "config-stackset").inputs;
    expect(set).to.deep.include({ permissionModel: "SERVICE_MANAGED", capabilities: ["CAPABILITY_NAMED_IAM"], autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false } });
    expect(set.operationPreferences).to.deep.include({ regionConcurrencyType: "SEQUENTIAL", regionOrders: ["eu-west-1", "eu-central-1", "us-east-1"] });
    expect(set.parameters).to.deep.include({ HomeRegion: "eu-west-1", SnapshotFrequency: "TwentyFour_Hours" });
    const t = JSON.parse(set.templateBody);
    expect(Object.fromEntries(Object.entries(t.Resources).map(([k, v]: [string, any]) => [k, v.Type]))).to.deep.equal({
      RecorderRole: "AWS::IAM::Role",
      Recorder: "AWS::Config::ConfigurationRecorder",
      DeliveryChannel: "AWS::Config::DeliveryChannel",
    });
    // Every region's stack has its own role, which the recorder takes through GetAtt (CloudFormation creates it first).
    expect(t.Resources.RecorderRole.Condition).to.equal(undefined);
    expect(t.Resources.RecorderRole.Properties.RoleName).to.deep.equal({ "Fn::Sub": "trailwatch-config-recorder-${AWS::Region}" });
    expect(t.Resources.Recorder.Properties.RoleARN).to.deep.equal({ "Fn::GetAtt": ["RecorderRole", "Arn"] });
    expect(t.Resources.RecorderRole.Properties.ManagedPolicyArns).to.deep.equal([{ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole" }]);
    expect(t.Resources.Recorder.Properties.RecordingGroup).to.deep.equal({ AllSupported: true, IncludeGlobalResourceTypes: { "Fn::If": ["IsHomeRegion", true, false] } });
    expect(t.Resources.DeliveryChannel.Properties.S3KmsKeyArn).to.deep.equal({ Ref: "KmsKeyArn" });
    for (const ref of JSON.stringify(t).match(/"Ref":"(\w+)"/g)!.map((m) => m.split(":")[1].replace(/"/g, "")))
      if (!ref.startsWith("AWS::") && !(ref in t.Resources)) expect(t.Parameters, `parameter ${ref}`).to.have.property(ref);
    const instances = one(plan(), "aws:cloudformation/stackInstances:StackInstances", "config-instances").inputs;
    expect(instances.deploymentTargets.organizationalUnitIds).to.deep.equal(["r-8x1f"]);
  });

  it("records in the management account directly, global types in the home region only", () => {
    for (const region of REGIONS) {
      const rec = one(plan(), "aws:cfg/recorder:Recorder", `config-recorder-${region}`);
      expect(rec.provider).to.equal(provider("management", region));
      expect(rec.inputs.recordingGroup).to.deep.equal({ allSupported: true, includeGlobalResourceTypes: region === "eu-west-1" });
      const channel = one(plan(), "aws:cfg/deliveryChannel:DeliveryChannel", `config-channel-${region}`).inputs;
      expect(channel.s3KmsKeyArn).to.match(new RegExp(`^arn:aws:kms:eu-west-1:${ARCHIVE}:key/`));
      expect(one(plan(), "aws:cfg/recorderStatus:RecorderStatus", `config-recording-${region}`).inputs.isEnabled).to.equal(true);
    }
  });

  it("lets only this organization's Config (service or recorder roles) deliver to the central bucket", () => {
    const doc = one(plan(), "aws:s3/bucketPolicy:BucketPolicy", "config-bucket-policy").inputs.policy;
    expect(stmt(doc, "ConfigServiceDelivery").Condition).to.deep.equal({ StringEquals: { "aws:SourceOrgID": "o-7k2mq9x4ab", "s3:x-amz-acl": "bucket-owner-full-control" } });
    expect(stmt(doc, "RecorderRolesDelivery").Condition).to.deep.equal({
      StringEquals: { "aws:PrincipalOrgID": "o-7k2mq9x4ab", "s3:x-amz-acl": "bucket-owner-full-control" },
      ArnLike: { "aws:PrincipalArn": ["arn:aws:iam::*:role/trailwatch-config-recorder", "arn:aws:iam::*:role/trailwatch-config-recorder-*"] },
    });
    expect(stmt(doc, "ConfigServiceDelivery").Resource).to.match(/\/AWSLogs\/\*\/Config\/\*$/);
  });

  it("deploys the organization rules per region (global ones in the home region only) and the shipped conformance pack", () => {
    const rules = ofType(plan(), "aws:cfg/organizationManagedRule:OrganizationManagedRule");
    const regional = DEFAULT_ORG_RULES.filter((r) => !r.global).length;
    expect(rules).to.have.length(regional * REGIONS.length + (DEFAULT_ORG_RULES.length - regional));
    const ssh = rules.filter((r) => r.inputs.name === "restricted-ssh");
    expect(ssh.map((r) => r.inputs.ruleIdentifier)).to.deep.equal(["INCOMING_SSH_DISABLED", "INCOMING_SSH_DISABLED", "INCOMING_SSH_DISABLED"]);
    expect(rules.filter((r) => r.inputs.name === "root-account-mfa-enabled").map((r) => r.provider)).to.deep.equal([provider("security", "eu-west-1")]);
    for (const r of rules) expect(r.dependsOn.some((u) => u.includes("DelegatedAdministrator::config-delegated-config-multiaccountsetup"))).to.equal(true);
    const packs = ofType(plan(), "aws:cfg/organizationConformancePack:OrganizationConformancePack");
    expect(packs).to.have.length(3);
    const body = yaml.load(packs[0].inputs.templateBody) as any;
    const resources = Object.values(body.Resources) as any[];
    expect(resources.length).to.be.greaterThan(5);
    for (const r of resources) {
      expect(r.Type).to.equal("AWS::Config::ConfigRule");
      expect(r.Properties.Source.Owner).to.equal("AWS");
      expect(r.Properties.Source.SourceIdentifier).to.match(/^[A-Z0-9_]+$/);
    }
    expect(resources.map((r) => r.Properties.Source.SourceIdentifier)).to.include("GUARDDUTY_ENABLED_CENTRALIZED");
  });

  it("aggregates every region of the organization in the security account with the organizations role", () => {
    const agg = one(plan(), "aws:cfg/configurationAggregator:ConfigurationAggregator");
    expect(agg.provider).to.equal(provider("security", "eu-west-1"));
    expect(agg.inputs.organizationAggregationSource).to.deep.include({ allRegions: true });
    const role = one(plan(), "aws:iam/role:Role", "config-aggregator").inputs;
    expect(role.managedPolicyArns).to.deep.equal(["arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"]);
    expect(json(role.assumeRolePolicy).Statement[0].Principal).to.deep.equal({ Service: "config.amazonaws.com" });
  });
});
