import { expect } from "chai";
import {
  DEFAULT_NOISE,
  classifyUserAgent,
  fireHydrantChangeEvent,
  genericWebhook,
  isChange,
  pagerDutyChangeEvent,
  slackDigest,
  summarize,
  toChangeRecord,
  type ChangeRecord,
  type EnvironmentMap,
} from "../functions/changeFeed";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import { allRecords, stratusRecords, type SourcedRecord } from "./sharedData";

const ALL = allRecords();
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
const env: EnvironmentMap = { accounts: {}, defaultEnvironment: "dev" };

/** The record whose origin (file and Panther test name, or Stratus file[index]) ends with `origin`. */
function byOrigin(origin: string): SourcedRecord {
  const hits = ALL.filter((x) => x.origin.endsWith(origin));
  expect(hits, `exactly one record from ${origin}`).to.have.length(1);
  return hits[0];
}

const change = (origin: string, map: EnvironmentMap = env) => toChangeRecord(byOrigin(origin).record, map);

describe("change feed: how a change was made (userAgent and identity)", () => {
  // [origin, its userAgent as recorded, expected via, expected tool]
  const cases: Array<[string, string, string, string | null]> = [
    ['aws_cloudtrail_stopped.yml "CloudTrail Was Stopped"', "console.amazonaws.com", "console", null],
    ['aws_ec2_manual_security_group_changes.yml "AWS Console - Ingress SG Authorization"', "console.ec2.amazonaws.com", "console", null],
    ['aws_update_credentials.yml "User Password Was Changed"', "signin.amazonaws.com", "console", null],
    // A browser with console-session credentials.
    ['aws_bedrock_guardrail_update_delete.yml "Guardrail Updated"', "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "console", null],
    ['aws_user_login_profile_modified.yml "ChangeOwnPassword"', "AWS Internal", "console", null],
    // The S3 console's agent names an SDK: still the console.
    ['aws_s3_bucket_deleted.yml "An S3 Bucket was deleted"', "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.666 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 OpenJDK_64-Bit_Server_VM/25.232-b09 java/1.8.0_232 vendor/Oracle_Corporation]", "console", null],
    ['aws_s3_suspend_versioning.yml "Versioning Suspended Successfully"', "aws-cli/2.13.0 Python/3.11.4 Linux/5.10.0-1234-aws exe/x86_64.ubuntu.22", "cli", "aws-cli"],
    // CloudShell: console credentials (sessionCredentialFromConsole), but the CLI typed the command.
    ['aws_ec2_stopinstances.yml "CloudTrail Instances Were Stopped"', "aws-cli/2.13.5 Python/3.11.4 Linux/4.14.255-314-253.539.amzn2.x86_64 exec-env/CloudShell exe/x86_64.amzn.2 prompt/off command/ec2.stop-instances", "cli", "aws-cli"],
    // CLI v1 carries botocore: the CLI, not the SDK.
    ['aws_securityhub_finding_evasion.yml "CreateInsight"', "aws-cli/1.11.76 Python/2.7.10 Darwin/17.7.0 botocore/1.5.39", "cli", "aws-cli"],
    ['aws_cloudtrail_region_enabled.yml "EnableRegion"', "aws-sdk-go/1.15.12 (go1.12.6; linux; amd64)", "sdk", "aws-sdk-go"],
    ["stratus/aws.persistence.sts-federation-token.json[0]", "aws-sdk-go-v2/1.32.3 os/linux lang/go#1.23.1 md/GOOS#linux md/GOARCH#amd64 exec-env/grimoire_095724e3-1fa0-4e3e-b68a-e8581d194380 api/sts#1.26.2", "sdk", "aws-sdk-go-v2"],
    ['aws_cloudtrail_account_discovery.yml "DescribeAccount"', "Boto3/1.26.2 Python/3.10.8 Linux/4.14.294-220.533.amzn2.x86_64 exec-env/AWS_ECS_FARGATE Botocore/1.29.2", "sdk", "boto3"],
    // Terraform's agent also names aws-sdk-go: Terraform wins.
    ['aws_cloudtrail_event_selectors_disabled.yml "Uninteresting Event Type"', "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.157 (go1.19.3; darwin; arm64) stratus-red-team_83c9a458-ffab-4d43-8b02-9691311e8c0a HashiCorp-terraform-exec/0.17.3", "iac", "terraform"],
    ['aws_ec2_manual_security_group_changes.yml "Terraform Security Group Authorize Egress"', "aws-sdk-go/1.29.7 (go1.13.7; darwin; amd64) APN/1.0 HashiCorp/1.0 Terraform/0.12.24 (+https://www.terraform.io)", "iac", "terraform"],
    ['aws_saml_activity.yml "CreateSAMLProvider"', "cloudformation.amazonaws.com", "iac", "cloudformation"],
    // The console's agent, but userIdentity.invokedBy says CloudFormation made the call.
    ['aws_iam_entity_created_without_cloudformation.yml "IAM Entity Created Automatically"', "console.amazonaws.com", "iac", "cloudformation"],
    ['role_assumed_by_aws_service.yml "Role Assumed by AWS Service"', "lambda.amazonaws.com", "aws-service", "lambda.amazonaws.com"],
    ['aws_ec2_launch_unusual_ec2_instances.yml "Successful Unusual EC2"', "autoscaling.amazonaws.com", "aws-service", "autoscaling.amazonaws.com"],
    ["stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]", "stratus-red-team_1004a4ff-b486-4981-a84b-6322905f37cc", "unknown", null],
  ];
  for (const [origin, ua, via, tool] of cases) {
    it(`${via}${tool ? `/${tool}` : ""}: ${origin}`, () => {
      const { record } = byOrigin(origin);
      expect(record.userAgent, "the cited userAgent").to.equal(ua);
      expect(classifyUserAgent(record.userAgent, record)).to.deep.equal({ via, tool });
      expect(toChangeRecord(record, env).who).to.deep.include({ via, tool, userAgent: ua });
    });
  }

  it("names Pulumi from its documented agent (pulumi/pulumi-aws#1604), ahead of the SDK it embeds", () => {
    // No shared record comes from Pulumi: the agent string is the one the pull request documents, on a real record.
    const { record } = byOrigin('aws_ec2_manual_security_group_changes.yml "Terraform Security Group Authorize Egress"');
    const ua = "APN/1.0 Pulumi/1.0 Pulumi-Aws/4.17.0-alpha.1629393364+0b9d696e.dirty (+https://www.pulumi.com) aws-sdk-go/1.40.20 (go1.16.4; darwin; amd64)";
    expect(classifyUserAgent(ua, { ...record, userAgent: ua })).to.deep.equal({ via: "iac", tool: "pulumi" });
  });

  it("reads an assumed role as its role (path kept) and session, a user as the user", () => {
    const bedrock = change("stratus/aws.impact.bedrock-invoke-model.json[0]");
    expect(bedrock.who).to.deep.include({ principal: "arn:aws:iam::494659789341:role/test-role", type: "AssumedRole", sessionName: "cli" });
    expect(summarize(bedrock)).to.contain(": test-role/cli (unknown) bedrock PutFoundationModelEntitlement");
    const sso = change("stratus/aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json[0]");
    expect(sso.who.principal).to.equal("arn:aws:iam::844015365555:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_account-admin_599c9e90e350d2ff");
    const user = change("stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]");
    expect(user.who).to.deep.include({ principal: "arn:aws:iam::032092706103:user/christophe", type: "IAMUser", sessionName: null, sourceIp: "253.243.215.253" });
  });
});

describe("change feed: which records are changes", () => {
  it("leaves out every read-only call and every AssumeRole", () => {
    const reads = ALL.filter((x) => x.record.readOnly === true);
    const assumes = ALL.filter((x) => x.record.eventName === "AssumeRole");
    expect(reads.length).to.be.greaterThan(100);
    expect(assumes.length).to.be.greaterThan(5);
    for (const x of [...reads, ...assumes]) expect(isChange(x.record), x.origin).to.equal(false);
  });

  it("leaves out a read-like name when readOnly is missing, keeps a write-like one", () => {
    const describe = byOrigin('aws_ec2_security_group_modified.yml "Security Group Not Modified"').record;
    expect([describe.eventName, describe.readOnly]).to.deep.equal(["DescribeSecurityGroups", undefined]);
    expect(isChange(describe)).to.equal(false);
    const acl = byOrigin('aws_ec2_network_acl_modified.yml "Network ACL Modified"').record;
    expect([acl.eventName, acl.readOnly]).to.deep.equal(["CreateNetworkAclEntry", undefined]);
    expect(isChange(acl)).to.equal(true);
  });

  it("keeps real writes, failed ones included", () => {
    expect(isChange(byOrigin("stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]").record)).to.equal(true);
    expect(isChange(byOrigin('aws_cloudtrail_stopped.yml "CloudTrail Was Stopped"').record)).to.equal(true);
    expect(isChange(byOrigin("stratus/aws.defense-evasion.organizations-leave.json[1]").record)).to.equal(true);
  });

  it("leaves out a listed service's calls, by invokedBy or source address, and only because it is listed", () => {
    const scaling = byOrigin('aws_ec2_launch_unusual_ec2_instances.yml "Successful Unusual EC2"').record;
    expect([scaling.eventName, scaling.readOnly]).to.deep.equal(["RunInstances", false]);
    expect(isChange(scaling)).to.equal(false);
    const unlisted = { ...DEFAULT_NOISE, principals: DEFAULT_NOISE.principals.filter((p) => p !== "autoscaling.amazonaws.com") };
    expect(isChange(scaling, unlisted)).to.equal(true);
    expect(isChange({ ...scaling, userIdentity: { type: "AssumedRole" } }), "sourceIPAddress alone").to.equal(false);
  });

  it("leaves out dry runs, sign-ins, service events and data events", () => {
    const dryRun = byOrigin('aws_ec2_monitoring.yml "RunInstance - Dry Run "').record;
    expect(dryRun.errorCode).to.equal("Client.DryRunOperation");
    expect(isChange(dryRun, { ...DEFAULT_NOISE, principals: [] })).to.equal(false);
    const signIns = stratusRecords().filter((x) => x.record.eventName === "ConsoleLogin" && x.record.readOnly === false);
    expect(signIns.length).to.be.greaterThan(0);
    for (const x of signIns) expect(isChange(x.record, { ...DEFAULT_NOISE, eventNames: [] }), x.origin).to.equal(false);
    for (const x of ALL.filter((x) => x.record.eventType === "AwsServiceEvent" || x.record.managementEvent === false)) {
      expect(isChange(x.record), x.origin).to.equal(false);
    }
  });

  it("takes extra event names and principals on top of the defaults", () => {
    const stop = byOrigin('aws_cloudtrail_stopped.yml "CloudTrail Was Stopped"').record;
    expect(isChange(stop, DEFAULT_NOISE, { eventNames: ["StopLogging"] })).to.equal(false);
    const cfn = byOrigin('aws_iam_anything_changed.yml "IAM Change"').record;
    expect(cfn.userIdentity?.invokedBy).to.equal("cloudformation.amazonaws.com");
    expect(isChange(cfn)).to.equal(true);
    expect(isChange(cfn, DEFAULT_NOISE, { principals: ["cloudformation.amazonaws.com"] })).to.equal(false);
    expect(DEFAULT_NOISE.principals, "extra does not mutate the defaults").not.to.include("cloudformation.amazonaws.com");
  });
});

describe("change feed: the change record", () => {
  it("reports a failed call with its error", () => {
    const { record } = byOrigin("stratus/aws.defense-evasion.organizations-leave.json[1]");
    const c = toChangeRecord(record, env);
    expect(c.result).to.deep.equal({ ok: false, errorCode: "AccessDenied", errorMessage: record.errorMessage });
    expect(c.result.errorMessage).to.match(/^User: arn:aws:sts::307578594326:assumed-role\//);
    expect(summarize(c)).to.match(/ organizations LeaveOrganization failed: AccessDenied$/);
    expect(change("stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]").result).to.deep.equal({ ok: true, errorCode: null, errorMessage: null });
  });

  it("maps the event's account (recipientAccountId, not the caller's) to its environment and owner", () => {
    const { record } = byOrigin('aws_ec2_traffic_mirroring.yml "CreateTrafficMirrorFilter"');
    expect([record.recipientAccountId, record.userIdentity?.accountId]).to.deep.equal(["123451234515", "123451234516"]);
    const map: EnvironmentMap = { accounts: { "123451234515": { environment: "prod", owner: "network-team" }, "123451234516": { environment: "tooling" } }, defaultEnvironment: "sandbox" };
    expect(toChangeRecord(record, map).where).to.deep.include({ account: "123451234515", environment: "prod", owner: "network-team" });
    expect(toChangeRecord({ ...record, recipientAccountId: "999999999999" }, map).where).to.deep.include({ environment: "sandbox", owner: null });
    expect(toChangeRecord(record, { accounts: {} }).where.environment).to.equal("unknown");
    expect(toChangeRecord({ ...record, recipientAccountId: "constructor" }, map).where.environment, "no prototype lookups").to.equal("sandbox");
  });

  it("collects resource ARNs from resources[], request and response, and the ids reviewers look for", () => {
    const ssm = byOrigin("stratus/aws.credential-access.ssm-retrieve-securestring-parameters.json[2]").record;
    const listed = (ssm.resources ?? []).map((r) => r.ARN);
    expect(listed.length).to.be.greaterThan(1);
    expect(toChangeRecord(ssm, env).what.resources).to.include.members(listed as string[]);
    const create = stratusRecords().find((x) => x.record.eventName === "CreateRole" && !x.record.errorCode)!.record;
    expect(toChangeRecord(create, env).what.resources).to.include(create.responseElements!.role.arn);
    const attach = stratusRecords().find((x) => x.record.eventName === "AttachRolePolicy" && !x.record.errorCode)!.record;
    expect(toChangeRecord(attach, env).what.resources).to.include(attach.requestParameters!.policyArn);
    const sg = change("stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]");
    expect(sg.what).to.deep.include({ service: "ec2", eventName: "AuthorizeSecurityGroupIngress", resources: ["arn:aws:ec2:us-northeast-1r:032092706103:security-group/sg-003dc7f1f1c686164"] });
    // The same instance in request and response is listed once.
    expect(change("stratus/aws.execution.ec2-user-data.json[34]").what.resources).to.deep.equal(["arn:aws:ec2:ca-northsouth-2r:309303190113:instance/i-DDd6c7B0e18F0E35f"]);
    for (const x of ALL) {
      const res = toChangeRecord(x.record, env).what.resources;
      expect(new Set(res).size, x.origin).to.equal(res.length);
      for (const a of res) expect(a, x.origin).to.match(/^arn:aws[a-z-]*:/);
    }
  });

  it("links the event in the partition's CloudTrail console, generically for a region it cannot use", () => {
    const { record } = byOrigin('aws_cloudtrail_account_discovery.yml "DescribeAccount"');
    expect(record.awsRegion).to.equal("us-east-1");
    expect(toChangeRecord(record, env).consoleLink).to.equal(`https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/${record.eventID}`);
    expect(toChangeRecord({ ...record, awsRegion: "us-gov-west-1" }, env).consoleLink).to.match(/^https:\/\/console\.amazonaws-us-gov\.com\/.*\?region=us-gov-west-1#\/events\//);
    expect(toChangeRecord({ ...record, awsRegion: "cn-north-1" }, env).consoleLink).to.match(/^https:\/\/console\.amazonaws\.cn\/.*\?region=cn-north-1#\/events\//);
    // Stratus regions are obfuscated ("us-northeast-1r"): no host is built from them.
    const sg = change("stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]");
    expect(sg.consoleLink).to.equal("https://console.aws.amazon.com/cloudtrailv2/home#/events/9fd68588-ecbf-4528-a345-199fa6bb0821");
  });

  it("never throws, on all 776 records and on odd input, and always fills the typed fields", () => {
    expect(ALL).to.have.length(776);
    const odd: unknown[] = [
      {}, null, "not a record", { userIdentity: null, eventTime: "yesterday" }, { userIdentity: { type: "AssumedRole", arn: 42, sessionContext: "x" } },
      { resources: "nope", requestParameters: "x", responseElements: [[[["arn:aws:s3:::deep"]]]] }, { readOnly: "maybe", eventName: 7, awsRegion: {} },
    ];
    const changes = [...ALL.map((x) => x.record), ...(odd as CloudTrailRecord[])].map((r) => toChangeRecord(r, env));
    for (const c of changes) {
      expect(c.kind).to.equal("change");
      expect(c.time === "" || ISO.test(c.time), c.time).to.equal(true);
      expect(c.what.service).to.be.a("string");
      expect(c.what.eventName).to.be.a("string");
      expect(c.where.environment).to.be.a("string");
      expect(c.consoleLink).to.match(/^https:\/\/[a-z0-9.-]+\/cloudtrailv2\/home/);
      for (const f of [c.who.principal, c.who.sessionName, c.where.account, c.where.region, c.eventId]) expect(f === null || typeof f === "string").to.equal(true);
    }
    expect(toChangeRecord({ eventTime: "yesterday" }, env).time).to.equal("");
    expect(() => (odd as CloudTrailRecord[]).forEach((r) => isChange(r))).not.to.throw();
  });
});

describe("change feed: payloads", () => {
  const map: EnvironmentMap = { accounts: {}, defaultEnvironment: "prod" };
  const changes = ALL.filter((x) => isChange(x.record)).map((x) => toChangeRecord(x.record, map));

  it("summarizes a change in one line: environment, account, region, who, how, what, result", () => {
    const c = change("stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]", map);
    expect(summarize(c)).to.equal("prod 032092706103 us-northeast-1r: christophe (unknown) ec2 AuthorizeSecurityGroupIngress sg-003dc7f1f1c686164");
    const tf = change('aws_ec2_manual_security_group_changes.yml "Terraform Security Group Authorize Egress"', map);
    expect(summarize(tf)).to.contain("(iac, terraform) ec2 AuthorizeSecurityGroupEgress");
  });

  it("builds PagerDuty change events as the Events API v2 documents them", () => {
    expect(changes.length).to.be.greaterThan(100);
    for (const c of changes) {
      const e = pagerDutyChangeEvent(c, "R0UT1NGKEY0123456789012345678901");
      expect(e.routing_key).to.equal("R0UT1NGKEY0123456789012345678901");
      expect(e.payload.summary).to.be.a("string").and.not.equal("");
      expect(e.payload.summary.length).to.be.at.most(1024);
      if ("timestamp" in e.payload) expect(e.payload.timestamp).to.match(ISO);
      expect(e.payload.source).to.be.a("string").and.not.equal("");
      expect(e.payload.custom_details).to.include({ event_name: c.what.eventName, ok: c.result.ok });
      expect(e.links).to.deep.equal([{ href: c.consoleLink, text: "CloudTrail event" }]);
    }
    const long = { ...changes[0], what: { ...changes[0].what, eventName: "X".repeat(5000) } };
    expect(pagerDutyChangeEvent(long, "k").payload.summary).to.have.length(1024);
  });

  it("builds FireHydrant change events with the documented fields only, labels as strings", () => {
    const allowed = ["summary", "description", "starts_at", "ends_at", "environments", "services", "external_id", "labels", "attachments"];
    for (const c of changes) {
      const e = fireHydrantChangeEvent(c) as Record<string, any>;
      expect(Object.keys(e).every((k) => allowed.includes(k)), Object.keys(e).join()).to.equal(true);
      expect(e.summary).to.equal(summarize(c));
      expect(e.description).to.contain(c.consoleLink);
      if (c.time) expect(e.starts_at).to.equal(c.time).and.match(ISO);
      expect(e.environments).to.deep.equal([]);
      for (const v of Object.values(e.labels)) expect(v).to.be.a("string");
      expect(e.labels).to.include({ environment: "prod", event_name: c.what.eventName, via: c.who.via });
      expect(e.attachments).to.deep.equal([{ type: "link", href_url: c.consoleLink, display_text: "CloudTrail event" }]);
      if (c.eventId) expect(e.external_id).to.equal(c.eventId);
    }
    const withIds = fireHydrantChangeEvent(changes[0], { environmentIds: { prod: "f8125cf4-b3a7-4f88-b5ab-57a60b9ed89b" }, serviceIds: ["svc-1"] });
    expect(withIds).to.deep.include({ environments: ["f8125cf4-b3a7-4f88-b5ab-57a60b9ed89b"], services: ["svc-1"] });
  });

  it("wraps the change record for generic webhooks", () => {
    const { schema, ...rest } = genericWebhook(changes[0]);
    expect(schema).to.equal("trailwatch.change/v1");
    expect(rest).to.deep.equal(changes[0]);
    expect(JSON.parse(JSON.stringify(genericWebhook(changes[0])))).to.deep.equal({ schema, ...changes[0] });
  });

  it("keeps a Slack digest of 60 changes within 50 blocks and says how many did not fit", () => {
    const sixty = Array.from({ length: 60 }, (_, i) => changes[i % changes.length]);
    const d = slackDigest(sixty, "prod");
    expect(d.blocks).to.have.length(50);
    const blocks = d.blocks as Array<Record<string, any>>;
    expect(blocks[0]).to.deep.equal({ type: "header", text: { type: "plain_text", text: "60 changes in prod" } });
    expect(blocks.slice(1, -1).every((b) => b.type === "section" && b.text.type === "mrkdwn" && b.text.text.length <= 3000)).to.equal(true);
    expect(blocks[49].type).to.equal("context");
    expect(blocks[49].elements[0].text).to.contain("and 12 more");
    expect(d.text).to.equal("60 changes in prod");
    const few = slackDigest(sixty.slice(0, 3), "prod").blocks as Array<Record<string, any>>;
    expect(few).to.have.length(5);
    expect(few[4].elements[0].text).not.to.contain("more");
  });

  it("shows only the environment's changes, only those made outside IaC when asked, escaped for mrkdwn", () => {
    const tf = change('aws_ec2_manual_security_group_changes.yml "Terraform Security Group Authorize Egress"', map);
    const cfn = change('aws_saml_activity.yml "CreateSAMLProvider"', map);
    const hand = change('aws_cloudtrail_stopped.yml "CloudTrail Was Stopped"', map);
    const elsewhere = toChangeRecord(byOrigin('aws_cloudtrail_stopped.yml "CloudTrail Was Stopped"').record, { accounts: {}, defaultEnvironment: "staging" });
    expect(slackDigest([tf, cfn, hand, elsewhere], "prod").text).to.equal("3 changes in prod");
    const outside = slackDigest([tf, cfn, hand, elsewhere], "prod", { outsideIacOnly: true });
    expect(outside.text).to.equal("1 change in prod made outside IaC");
    const sections = (outside.blocks as Array<Record<string, any>>).filter((b) => b.type === "section");
    expect(sections).to.have.length(1);
    expect(sections[0].text.text).to.contain("cloudtrail:StopLogging").and.contain(`<${hand.consoleLink}|CloudTrail event>`);
    const hostile: ChangeRecord = { ...hand, who: { ...hand.who, principal: "arn:aws:iam::111122223333:user/<!channel>&" } };
    const text = (slackDigest([hostile], "prod").blocks[1] as Record<string, any>).text.text as string;
    expect(text).to.contain("&lt;!channel&gt;&amp;").and.not.contain("<!channel>");
  });
});
