/**
 * OrgTrail as `npm run plan` declares it: what a reviewer checks in the preview of the prod stack (delegated
 * administrator, Insights, readers, elevated roles, a custom row) and of a variant (management administrator, data
 * events, CloudTrail Lake, rows switched off, its own alarm emails).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { prodPlan, one, ofType, json, runPlan, ROOT, type PlanRun } from "./planFixture";
import { BUILTIN_ROWS, BUILTIN_ROW_IDS } from "../functions/trailAlarms";
import { metricNameOf, ALARM_NAMESPACE } from "../components/orgTrail";

const MGMT = "111122223333";
const ARCHIVE = "777788889999";
const ORG = "o-7k2mq9x4ab";
const TRAIL_ARN = `arn:aws:cloudtrail:eu-west-1:${MGMT}:trail/trailwatch-org`;
const PROVIDER = (label: string) => `urn:pulumi:prod::trailwatch::pulumi:pulumi:Stack$pulumi:providers:aws::aws-${label}-eu-west-1`;

const stmt = (doc: any, sid: string) => {
  const s = json(doc).Statement.find((x: any) => x.Sid === sid);
  if (!s) throw new Error(`no statement ${sid} in ${JSON.stringify(json(doc).Statement.map((x: any) => x.Sid))}`);
  return s;
};

describe("OrgTrail in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();
  const trail = () => one(plan(), "aws:cloudtrail/trail:Trail");
  const trailKey = () => one(plan(), "aws:kms/key:Key", "org-trail-key");
  const monitoringKey = () => one(plan(), "aws:kms/key:Key", "org-trail-monitoring-key");
  const bucketName = () => trail().inputs.s3BucketName as string;

  it("is an organization, multi-region trail with global events, log file validation, KMS and CloudWatch Logs", () => {
    const t = trail().inputs;
    expect(t).to.include({ name: "trailwatch-org", isOrganizationTrail: true, isMultiRegionTrail: true, includeGlobalServiceEvents: true, enableLogFileValidation: true, enableLogging: true });
    expect(t.kmsKeyId).to.match(new RegExp(`^arn:aws:kms:eu-west-1:${ARCHIVE}:key/`));
    const logGroup = one(plan(), "aws:cloudwatch/logGroup:LogGroup", "org-trail-log-group").inputs;
    expect(t.cloudWatchLogsGroupArn).to.equal(`arn:aws:logs:eu-west-1:${MGMT}:log-group:${logGroup.name}:*`);
    expect(t.cloudWatchLogsRoleArn).to.match(new RegExp(`^arn:aws:iam::${MGMT}:role/org-trail-cloudwatch-delivery`));
    expect(t.advancedEventSelectors).to.deep.equal([{ name: "Management events", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] }]);
    expect(t.insightSelectors).to.deep.equal([{ insightType: "ApiCallRateInsight" }, { insightType: "ApiErrorRateInsight" }]);
  });

  it("is created by the management account after trusted access, the delegated administrator and the bucket policy", () => {
    const t = trail();
    expect(t.provider).to.equal(PROVIDER("management"));
    const access = one(plan(), "aws:organizations/awsServiceAccess:AwsServiceAccess", "org-trail-trusted-access");
    expect(access.inputs.servicePrincipal).to.equal("cloudtrail.amazonaws.com");
    expect(access.provider).to.equal(PROVIDER("management"));
    const admin = one(plan(), "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount");
    expect(admin.inputs.accountId).to.equal("444455556666");
    expect(admin.dependsOn).to.include(access.urn);
    const bucketPolicy = one(plan(), "aws:s3/bucketPolicy:BucketPolicy", "org-trail-logs-policy");
    const delivery = one(plan(), "aws:iam/rolePolicy:RolePolicy", "org-trail-cloudwatch-delivery");
    expect(t.dependsOn).to.include.members([access.urn, admin.urn, bucketPolicy.urn, delivery.urn]);
  });

  it("logs to a private, versioned, KMS-encrypted bucket in the log-archive account with a lifecycle", () => {
    const name = bucketName();
    const ofBucket = (type: string) => ofType(plan(), type).filter((r) => r.inputs.bucket === name);
    const bucket = one(plan(), "aws:s3/bucket:Bucket", "org-trail-logs");
    expect(bucket.provider).to.equal(PROVIDER("log-archive"));
    const [pab] = ofBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    expect(pab.inputs).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(ofBucket("aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0].inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
    expect(ofBucket("aws:s3/bucketVersioning:BucketVersioning")[0].inputs.versioningConfiguration.status).to.equal("Enabled");
    const [sse] = ofBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    expect(sse.inputs.rules[0]).to.deep.equal({
      applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: trail().inputs.kmsKeyId },
      bucketKeyEnabled: true,
    });
    const [lifecycle] = ofBucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    expect(lifecycle.inputs.rules[0]).to.deep.include({ status: "Enabled", expiration: { days: 400 }, noncurrentVersionExpiration: { noncurrentDays: 90 } });
    const [logging] = ofBucket("aws:s3/bucketLogging:BucketLogging");
    const accessLogs = one(plan(), "aws:s3/bucket:Bucket", "org-trail-access-logs");
    const accessLogsName = ofType(plan(), "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "org-trail-access-logs-public-access")[0].inputs.bucket;
    expect(logging.inputs.targetBucket).to.equal(accessLogsName);
    expect(accessLogs.provider).to.equal(PROVIDER("log-archive"));
    const accessSse = one(plan(), "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "org-trail-access-logs-encryption");
    expect(accessSse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("AES256");
  });

  it("bucket policy lets CloudTrail write AWSLogs/<management account>/ and AWSLogs/<org id>/ for this trail only, and denies plain HTTP", () => {
    const doc = one(plan(), "aws:s3/bucketPolicy:BucketPolicy", "org-trail-logs-policy").inputs.policy;
    const bucketArn = `arn:aws:s3:::${bucketName()}`;
    const acl = stmt(doc, "CloudTrailAclCheck");
    expect(acl).to.deep.include({ Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "s3:GetBucketAcl", Resource: bucketArn });
    expect(acl.Condition).to.deep.equal({ StringEquals: { "aws:SourceArn": TRAIL_ARN } });
    for (const [sid, prefix] of [
      ["CloudTrailWritesManagementAccountLogs", MGMT],
      ["CloudTrailWritesOrganizationLogs", ORG],
    ]) {
      const s = stmt(doc, sid);
      expect(s).to.deep.include({ Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "s3:PutObject", Resource: `${bucketArn}/AWSLogs/${prefix}/*` });
      expect(s.Condition).to.deep.equal({ StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN } });
    }
    const tls = stmt(doc, "DenyInsecureTransport");
    expect(tls).to.deep.include({ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`] });
    expect(tls.Condition).to.deep.equal({ Bool: { "aws:SecureTransport": "false" } });
    const readers = stmt(doc, "NamedReadersReadLogFiles");
    expect(readers.Principal).to.deep.equal({ AWS: ["arn:aws:iam::444455556666:role/SecurityAuditor"] });
    expect(readers.Action).to.deep.equal(["s3:GetObject", "s3:ListBucket"]);
    // Nothing else is allowed to write.
    const writers = json(doc).Statement.filter((s: any) => s.Effect === "Allow" && [s.Action].flat().some((a: string) => /Put|\*/.test(a)));
    expect(writers.map((s: any) => s.Sid)).to.deep.equal(["CloudTrailWritesManagementAccountLogs", "CloudTrailWritesOrganizationLogs"]);
  });

  it("exports the bucket, trail, log group, keys and topic; the trail ARN is the one the policies name", () => {
    const outputs = JSON.parse(fs.readFileSync(path.join(plan().dir, "outputs.json"), "utf8"));
    expect(outputs.orgTrailArn).to.equal(TRAIL_ARN);
    expect(outputs.orgTrailBucket).to.equal(bucketName());
    expect(outputs.orgTrailBucketArn).to.equal(`arn:aws:s3:::${bucketName()}`);
    expect(outputs.orgTrailLogGroup).to.equal("/trailwatch/prod/org-trail");
    expect(outputs.orgTrailLogGroupArn).to.equal(`arn:aws:logs:eu-west-1:${MGMT}:log-group:/trailwatch/prod/org-trail`);
    expect(outputs.orgTrailKeyArn).to.equal(trail().inputs.kmsKeyId);
    expect(outputs.orgTrailMonitoringKeyArn).to.match(new RegExp(`^arn:aws:kms:eu-west-1:${MGMT}:key/`));
    expect(outputs.orgTrailAlarmTopicArn).to.match(new RegExp(`^arn:aws:sns:eu-west-1:${MGMT}:org-trail-alarms`));
  });

  it("trail key: CloudTrail encrypts for this trail only; named readers may only decrypt log files", () => {
    const k = trailKey();
    expect(k.provider).to.equal(PROVIDER("log-archive"));
    expect(k.inputs.enableKeyRotation).to.equal(true);
    const doc = k.inputs.policy;
    const encrypt = stmt(doc, "CloudTrailEncryptsThisTrail");
    expect(encrypt.Action).to.equal("kms:GenerateDataKey*");
    expect(encrypt.Condition).to.deep.equal({
      StringEquals: { "aws:SourceArn": TRAIL_ARN },
      StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": `arn:aws:cloudtrail:*:${MGMT}:trail/*` },
    });
    expect(stmt(doc, "CloudTrailDescribesKey").Condition).to.deep.equal({ StringEquals: { "aws:SourceArn": TRAIL_ARN } });
    const readers = stmt(doc, "NamedReadersDecryptLogFiles");
    expect(readers).to.deep.include({ Principal: { AWS: ["arn:aws:iam::444455556666:role/SecurityAuditor"] }, Action: "kms:Decrypt" });
    expect(readers.Condition.StringLike["kms:EncryptionContext:aws:cloudtrail:arn"]).to.equal(`arn:aws:cloudtrail:*:${MGMT}:trail/*`);
    // Every statement for the CloudTrail service is bound to this trail.
    for (const s of json(doc).Statement.filter((x: any) => x.Principal?.Service === "cloudtrail.amazonaws.com"))
      expect(s.Condition?.StringEquals?.["aws:SourceArn"], s.Sid).to.equal(TRAIL_ARN);
    expect(stmt(doc, "AccountAdministersThroughIam").Principal).to.deep.equal({ AWS: `arn:aws:iam::${ARCHIVE}:root` });
  });

  it("delivers to a KMS-encrypted log group through a role limited to the trail's two stream name patterns", () => {
    const group = one(plan(), "aws:cloudwatch/logGroup:LogGroup", "org-trail-log-group");
    expect(group.provider).to.equal(PROVIDER("management"));
    expect(group.inputs.retentionInDays).to.equal(365);
    expect(group.inputs.kmsKeyId).to.match(new RegExp(`^arn:aws:kms:eu-west-1:${MGMT}:key/`));
    const mk = monitoringKey().inputs.policy;
    expect(stmt(mk, "CloudWatchLogsForThisAccountsGroups").Condition).to.deep.equal({
      ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:eu-west-1:${MGMT}:log-group:*` },
    });
    const role = one(plan(), "aws:iam/role:Role", "org-trail-cloudwatch-delivery").inputs;
    expect(json(role.assumeRolePolicy).Statement).to.deep.equal([{ Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    const groupArn = `arn:aws:logs:eu-west-1:${MGMT}:log-group:${group.inputs.name}`;
    const streams = [`${groupArn}:log-stream:${MGMT}_CloudTrail_eu-west-1*`, `${groupArn}:log-stream:${ORG}_*`];
    const policyDoc = json(one(plan(), "aws:iam/rolePolicy:RolePolicy", "org-trail-cloudwatch-delivery").inputs.policy);
    expect(policyDoc.Statement).to.deep.equal([
      { Sid: "CreateTrailStreams", Effect: "Allow", Action: "logs:CreateLogStream", Resource: streams },
      { Sid: "PutTrailEvents", Effect: "Allow", Action: "logs:PutLogEvents", Resource: streams },
    ]);
  });

  it("has one metric filter and one alarm per row: the built-ins, elevated roles and the custom row", () => {
    const filters = ofType(plan(), "aws:cloudwatch/logMetricFilter:LogMetricFilter").filter((f) => f.name !== "org-trail-events");
    const groupName = one(plan(), "aws:cloudwatch/logGroup:LogGroup", "org-trail-log-group").inputs.name;
    const ids = filters.map((f) => f.name.replace(/^org-trail-/, ""));
    expect(ids).to.have.members([...BUILTIN_ROW_IDS, "elevated-role-assumed", "guardduty-tampering"]);
    for (const f of filters) {
      const id = f.name.replace(/^org-trail-/, "");
      expect(f.inputs.logGroupName).to.equal(groupName);
      const builtin = BUILTIN_ROWS.find((r) => r.id === id);
      if (builtin) expect(f.inputs.pattern, id).to.equal(builtin.pattern);
      expect(f.inputs.metricTransformation).to.deep.equal({ name: metricNameOf(id), namespace: ALARM_NAMESPACE, value: "1", unit: "Count" });
      const alarm = one(plan(), "aws:cloudwatch/metricAlarm:MetricAlarm", f.name).inputs;
      expect(alarm).to.include({
        namespace: ALARM_NAMESPACE,
        metricName: metricNameOf(id),
        statistic: "Sum",
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
      });
      expect(alarm.alarmActions).to.have.length(1);
      expect(alarm.alarmActions[0]).to.match(/^arn:aws:sns:eu-west-1:111122223333:org-trail-alarms/);
    }
    const elevated = filters.find((f) => f.name === "org-trail-elevated-role-assumed")!.inputs.pattern;
    expect(elevated).to.contain('"*/BreakGlassAdmin"').and.contain('"*:assumed-role/AWSReservedSSO_AdministratorAccess_*/*"');
  });

  it("alarms when the trail delivers nothing for 60 minutes (heartbeats stay green when CloudTrail stops): every event counts, no data breaches", () => {
    const filter = one(plan(), "aws:cloudwatch/logMetricFilter:LogMetricFilter", "org-trail-events").inputs;
    expect(filter.pattern).to.equal("");
    expect(filter.logGroupName).to.equal(one(plan(), "aws:cloudwatch/logGroup:LogGroup", "org-trail-log-group").inputs.name);
    expect(filter.metricTransformation).to.deep.equal({ name: "TrailEvents", namespace: ALARM_NAMESPACE, value: "1", unit: "Count" });
    const alarm = one(plan(), "aws:cloudwatch/metricAlarm:MetricAlarm", "org-trail-silent").inputs;
    expect(alarm).to.include({
      namespace: ALARM_NAMESPACE,
      metricName: "TrailEvents",
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 12,
      datapointsToAlarm: 12,
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    });
    expect(alarm.alarmActions[0]).to.match(/^arn:aws:sns:eu-west-1:111122223333:org-trail-alarms/);
  });

  it("alarms go to a KMS-encrypted topic that only the management account's CloudWatch alarms may publish to", () => {
    const topic = one(plan(), "aws:sns/topic:Topic", "org-trail-alarms");
    expect(topic.provider).to.equal(PROVIDER("management"));
    expect(topic.inputs.kmsMasterKeyId).to.be.a("string").and.not.be.empty;
    const doc = one(plan(), "aws:sns/topicPolicy:TopicPolicy", "org-trail-alarms-policy").inputs.policy;
    const allow = json(doc).Statement.filter((s: any) => s.Effect === "Allow");
    expect(allow).to.have.length(1);
    expect(allow[0]).to.deep.include({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Condition: { StringEquals: { "aws:SourceAccount": MGMT } } });
    expect(stmt(monitoringKey().inputs.policy, "CloudWatchAlarmsToEncryptedTopic").Condition).to.deep.equal({ StringEquals: { "aws:SourceAccount": MGMT } });
    const subs = ofType(plan(), "aws:sns/topicSubscription:TopicSubscription").filter((s) => s.name.startsWith("org-trail-alarms-"));
    expect(subs.map((s) => [s.inputs.protocol, s.inputs.endpoint])).to.deep.equal([["email", "secops@example.com"]]);
  });
});

describe("OrgTrail in a variant plan (management administrator, data events, Lake, rows off)", function () {
  this.timeout(300_000);
  let plan: PlanRun;
  before(() => {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    doc.config["trailwatch:orgTrail"] = {
      administrator: "management",
      dataEvents: { s3Objects: true, lambdaInvokes: true },
      networkActivity: { eventSources: ["ec2.amazonaws.com", "kms.amazonaws.com"] },
      lakeRetentionDays: 400,
      alarms: { disabled: ["vpc-changes", "nacl-changes"], emails: ["trail-alarms@example.com"] },
    };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-variant-")), "Pulumi.variant.yaml");
    fs.writeFileSync(file, yaml.dump(doc));
    plan = runPlan(["--stack", "prod", "--config", file]);
    if (plan.status !== 0) throw new Error(plan.stderr);
  });

  it("registers no delegated administrator and logs S3 object and Lambda invoke data events", () => {
    expect(ofType(plan, "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount")).to.have.length(0);
    const t = one(plan, "aws:cloudtrail/trail:Trail").inputs;
    expect(t.advancedEventSelectors.map((s: any) => s.fieldSelectors)).to.deep.equal([
      [{ field: "eventCategory", equals: ["Management"] }],
      [{ field: "eventCategory", equals: ["Data"] }, { field: "resources.type", equals: ["AWS::S3::Object"] }],
      [{ field: "eventCategory", equals: ["Data"] }, { field: "resources.type", equals: ["AWS::Lambda::Function"] }],
      // One selector per network activity event source (CloudTrail requires it), VPC endpoint denies only by default.
      [{ field: "eventCategory", equals: ["NetworkActivity"] }, { field: "eventSource", equals: ["ec2.amazonaws.com"] }, { field: "errorCode", equals: ["VpceAccessDenied"] }],
      [{ field: "eventCategory", equals: ["NetworkActivity"] }, { field: "eventSource", equals: ["kms.amazonaws.com"] }, { field: "errorCode", equals: ["VpceAccessDenied"] }],
    ]);
    expect(t.insightSelectors).to.equal(undefined);
  });

  it("adds an encrypted, organization-wide CloudTrail Lake event data store the key lets CloudTrail use", () => {
    const eds = one(plan, "aws:cloudtrail/eventDataStore:EventDataStore").inputs;
    expect(eds).to.include({ organizationEnabled: true, multiRegionEnabled: true, retentionPeriod: 400, terminationProtectionEnabled: true });
    expect(eds.kmsKeyId).to.match(new RegExp(`^arn:aws:kms:eu-west-1:${MGMT}:key/`));
    expect(stmt(one(plan, "aws:kms/key:Key", "org-trail-monitoring-key").inputs.policy, "CloudTrailLakeEventDataStore").Action).to.deep.equal(["kms:GenerateDataKey", "kms:Decrypt"]);
  });

  it("drops switched-off rows, the elevated row without role names, and uses its own alarm emails", () => {
    const ids = ofType(plan, "aws:cloudwatch/logMetricFilter:LogMetricFilter").map((f) => f.name.replace(/^org-trail-/, ""));
    expect(ids).to.have.members([...BUILTIN_ROW_IDS.filter((id) => id !== "vpc-changes" && id !== "nacl-changes"), "events"]);
    const subs = ofType(plan, "aws:sns/topicSubscription:TopicSubscription").filter((s) => s.name.startsWith("org-trail-alarms-"));
    expect(subs.map((s) => s.inputs.endpoint)).to.deep.equal(["trail-alarms@example.com"]);
    // No reader configured: no reader statement in the key or bucket policy.
    expect(json(one(plan, "aws:kms/key:Key", "org-trail-key").inputs.policy).Statement.map((s: any) => s.Sid)).not.to.include("NamedReadersDecryptLogFiles");
  });
});
