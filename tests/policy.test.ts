/**
 * The deploy rules (policy/rules.ts, the CrossGuard pack's policies) run offline over what `npm run plan` declares:
 * every rule passes on the prod plan and on a variant with every optional feature on, and every rule fails on a
 * broken variant of the plan (a rule that cannot fail is not a rule). Each broken variant undoes one fix the way the
 * code looked before it, so these are also the regression tests of the defects the rules came from.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { prodPlan, runPlan, ROOT, type PlanRun } from "./planFixture";
import { fromPlan, type PlanResource } from "../policy/plan";
import * as R from "../policy/rules";
import { allRecords } from "./sharedData";
import { toEnvelope } from "../functions/cloudtrail";
import { matchesPattern } from "../functions/eventPattern";

/** The plan's resources as rule input, each function with its planned handler module (as CrossGuard gets it). */
function resourcesOf(plan: PlanRun): PlanResource[] {
  return fromPlan(plan.resources).map((r) => {
    if (r.type !== "aws:lambda/function:Function") return r;
    const file = path.join(plan.dir, "functions", r.name, "__index.js");
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    return { ...r, props: { ...r.props, code: { assets: { "__index.js": { text } } } } };
  });
}

/** A deep copy with `edit` applied to the resources matching `pick`. */
function variant(resources: PlanResource[], pick: (r: PlanResource) => boolean, edit: (r: PlanResource) => void, min = 1): PlanResource[] {
  const copy: PlanResource[] = resources.map((r) => ({ ...r, props: structuredClone(r.props), dependsOn: [...r.dependsOn] }));
  const hits = copy.filter(pick);
  if (hits.length < min) throw new Error(`broken variant matched ${hits.length} resources`);
  hits.forEach(edit);
  return copy;
}
const without = (resources: PlanResource[], drop: (r: PlanResource) => boolean) => {
  const dropped = resources.filter(drop).map((r) => r.urn);
  if (dropped.length === 0) throw new Error("broken variant dropped nothing");
  return resources.filter((r) => !drop(r)).map((r) => ({ ...r, dependsOn: r.dependsOn.filter((u) => !dropped.includes(u)) }));
};
const messages = async (rule: R.DeployRule, resources: PlanResource[]) => (await rule.check(resources)).map((v) => v.message);
const is = (type: string, name?: string | RegExp) => (r: PlanResource) =>
  r.type === type && (name === undefined || (typeof name === "string" ? r.name === name : name.test(r.name)));

/** Pulumi.prod.yaml with every optional feature switched on. */
export function fullFeaturePlan(): PlanRun {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
  doc.config["trailwatch:features"] = { orgTrail: true, eventBackbone: true, denyAdvisor: true, sgRevertBot: true, scpWatch: true, guardDuty: true, configAggregation: true, changeFeed: true };
  doc.config["trailwatch:slack"] = { ...doc.config["trailwatch:slack"], approverUserGroupId: "S0123SECOPS" };
  doc.config["trailwatch:orgTrail"] = { ...doc.config["trailwatch:orgTrail"], dataEvents: { s3Objects: true, lambdaInvokes: true }, lakeRetentionDays: 400 };
  doc.config["trailwatch:guardDuty"] = { ...doc.config["trailwatch:guardDuty"], protection: { s3: true, eks: true, runtime: true, malware: true, rds: true, lambda: true } };
  doc.config["trailwatch:sgRevertBot"] = { autoRevertPorts: [22, 3389], trustedCidrs: ["10.0.0.0/8"] };
  doc.config["trailwatch:changeFeed"] = {
    environments: { "210987654321": { environment: "prod", owner: "payments" } },
    defaultEnvironment: "dev",
    webhooks: [
      { name: "firehydrant", kind: "firehydrant", url: "https://api.firehydrant.io/v1/changes/events", secret: "trailwatch/prod/firehydrant-bot-token" },
      { name: "pagerduty", kind: "pagerduty", url: "https://events.pagerduty.com/v2/change/enqueue", secret: "trailwatch/prod/pagerduty-routing-key", rateLimitPerSecond: 5 },
    ],
    slackDigest: { enabled: true, environments: ["prod"], everyMinutes: 5 },
    thirdPartyRole: { principalArn: "arn:aws:iam::999988887777:role/vendor-reader", externalIdSecret: "trailwatch/prod/vendor-external-id", deployTo: "organization" },
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-policy-")), "Pulumi.full.yaml");
  fs.writeFileSync(file, yaml.dump(doc));
  const plan = runPlan(["--stack", "prod", "--config", file]);
  if (plan.status !== 0) throw new Error(`full-feature plan failed (${plan.status}):\n${plan.stderr}`);
  return plan;
}

describe("deploy rules (policy/rules.ts) over the plans", function () {
  this.timeout(600_000);
  let prod: PlanResource[];
  let full: PlanResource[];
  before(() => {
    prod = resourcesOf(prodPlan());
    full = resourcesOf(fullFeaturePlan());
  });

  it("every rule has a broken-variant test below", function () {
    const tested = (this.test!.parent!.suites.find((x) => x.title === "each rule fails on a broken variant")?.tests ?? []).map((t) => t.title);
    expect(R.rules.map((r) => r.name).filter((n) => !tested.includes(n))).to.deep.equal([]);
  });

  it("every rule names an AWS documentation page and has a unique name", () => {
    expect(new Set(R.rules.map((r) => r.name)).size).to.equal(R.rules.length);
    for (const r of R.rules) expect(r.awsDoc, r.name).to.match(/^https:\/\/docs\.aws\.amazon\.com\//);
  });

  for (const which of ["prod", "full-feature"] as const)
    it(`every rule passes on the ${which} plan`, async () => {
      const resources = which === "prod" ? prod : full;
      const found: string[] = [];
      for (const rule of R.rules) for (const v of await rule.check(resources)) found.push(`${rule.name}: ${v.message}`);
      expect(found).to.deep.equal([]);
    });

  it("the full-feature plan really has the optional parts (vendor role StackSet, webhooks, Lake)", () => {
    const types = new Set(full.map((r) => r.type));
    expect(full.filter(is("aws:cloudformation/stackSet:StackSet")).map((r) => r.name)).to.include("change-tracker-role-stackset");
    expect(types).to.include("aws:cloudwatch/eventApiDestination:EventApiDestination");
    expect(types).to.include("aws:cloudtrail/eventDataStore:EventDataStore");
  });

  it("the AWS-source guard on central rules changes nothing for real CloudTrail records (all 776 samples)", () => {
    const central = prod.filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.props.eventBusName === "trailwatch-central" && r.props.eventPattern);
    const guarded = central.map((r) => JSON.parse(r.props.eventPattern)).filter((p) => JSON.stringify(p.source) === JSON.stringify([{ prefix: "aws." }]));
    expect(guarded.length).to.be.greaterThan(3);
    const events = allRecords().map((r) => toEnvelope(r.record));
    for (const p of guarded) {
      const { source: _, ...unguarded } = p;
      const hits = events.filter((e) => matchesPattern(p, e)).length;
      expect(hits).to.equal(events.filter((e) => matchesPattern(unguarded, e)).length);
    }
    // ...and a forged event (a custom source, as PutEvents callers must use) no longer matches.
    const forged = { ...events.find((e: any) => e.detail.errorCode)!, source: "custom.fake" } as any;
    for (const p of guarded.filter((q) => JSON.stringify(q).includes("errorCode"))) expect(matchesPattern(p, forged)).to.equal(false);
  });

  it("the CrossGuard policies report through reportViolation with the resource's URN (PolicyResource input)", async () => {
    const broken = without(prod, is("aws:lambda/permission:Permission", /^slack-app-url-/));
    // CrossGuard hands policies resources with their dependencies as objects.
    const byUrn = new Map<string, any>();
    for (const r of broken) byUrn.set(r.urn, { type: r.type, name: r.name, urn: r.urn, props: r.props, propertyDependencies: {} });
    for (const r of broken) byUrn.get(r.urn).dependencies = r.dependsOn.map((u) => byUrn.get(u)).filter(Boolean);
    const [policy] = R.asPolicies([R.functionUrlPublicAccess]);
    expect(policy.enforcementLevel).to.equal("mandatory");
    const reported: [string, string | undefined][] = [];
    await policy.validateStack({ resources: [...byUrn.values()], stackTags: new Map(), getConfig: () => ({}) as any, notApplicable: () => { throw new Error("n/a"); } } as any, (m, urn) => reported.push([m, urn]));
    const url = broken.find(is("aws:lambda/functionUrl:FunctionUrl"))!;
    expect(reported.map(([, urn]) => urn)).to.deep.equal([url.urn, url.urn]);
    expect(reported[0][0]).to.contain("lambda:InvokeFunctionUrl").and.contain(R.functionUrlPublicAccess.awsDoc);
    expect(R.asPolicies().map((p) => p.name)).to.deep.equal(R.rules.map((r) => r.name));
  });

  describe("each rule fails on a broken variant", () => {
    it(R.functionUrlPublicAccess.name, async () => {
      const rule = R.functionUrlPublicAccess;
      // Before the fix: the URL had no resource policy at all.
      expect(await messages(rule, without(prod, is("aws:lambda/permission:Permission", /^slack-app-url-/)))).to.deep.equal([
        "slack-app-url: no permission for principal * to lambda:InvokeFunctionUrl with FunctionUrlAuthType NONE on slack-app",
        "slack-app-url: no permission for principal * to lambda:InvokeFunction with InvokedViaFunctionUrl true on slack-app",
      ]);
      // Only the pre-October-2025 statement: new URLs still answer 403.
      expect(await messages(rule, without(prod, is("aws:lambda/permission:Permission", "slack-app-url-invoke")))).to.have.length(1);
      // lambda:InvokeFunction without invokedViaFunctionUrl would open the Invoke API to everyone instead.
      expect(await messages(rule, variant(prod, is("aws:lambda/permission:Permission", "slack-app-url-invoke"), (r) => delete r.props.invokedViaFunctionUrl))).to.have.length(1);
      expect(await messages(rule, variant(prod, is("aws:lambda/permission:Permission", "slack-app-url-public"), (r) => (r.props.principal = "444455556666")))).to.have.length(1);
    });

    it(R.publicFunctionUrlGuarded.name, async () => {
      const rule = R.publicFunctionUrlGuarded;
      expect(await messages(rule, variant(prod, is("aws:lambda/function:Function", "slack-app"), (r) => delete r.props.reservedConcurrentExecutions))).to.deep.equal([
        "slack-app: public URL but no reserved concurrency (found undefined)",
      ]);
      expect(await messages(rule, without(prod, is("aws:cloudwatch/metricAlarm:MetricAlarm", "slack-app-errors")))).to.deep.equal([
        "slack-app: public URL but no alarm on its Errors metric",
        "slack-app: public URL but no alarm on its Throttles metric",
      ]);
    });

    it(R.stackSetsOrganizationsAccess.name, async () => {
      const rule = R.stackSetsOrganizationsAccess;
      const broken = without(full, (r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.props.access === R.ORGANIZATIONS_ACCESS_MARKER);
      const names = (await rule.check(broken)).map((v) => v.message.split(":")[0]).sort();
      // Every SERVICE_MANAGED StackSet: forwarders, Config recorders, SG spokes, the vendor role.
      expect(names).to.deep.equal(["change-tracker-role-stackset", "config-stackset", "deny-advisor-decode-spokes", "forwarders-stackset", "sg-bot-spokes"]);
    });

    it(R.emfRawUnderText.name, async () => {
      const rule = R.emfRawUnderText;
      // Before the fix: the heartbeat logged its EMF line as JSON (wrapped by Lambda).
      expect(await messages(rule, variant(prod, is("aws:lambda/function:Function", "central-heartbeat"), (r) => (r.props.loggingConfig.logFormat = "JSON")))).to.deep.equal([
        "central-heartbeat: emits embedded metric format lines but logs as JSON: CloudWatch never sees the metric",
      ]);
      // The archive is read, not only the tag: an untagged function printing EMF is found too.
      expect(await messages(rule, variant(prod, is("aws:lambda/function:Function", "scp-watch-counter"), (r) => delete r.props.tags[R.EMF_TAG]))).to.deep.equal([
        `scp-watch-counter: emits embedded metric format lines without the ${R.EMF_TAG} tag (InlineFunction emitsMetrics)`,
      ]);
    });

    it(R.busPutEventsForwardersOnly.name, async () => {
      const rule = R.busPutEventsForwardersOnly;
      // Before the fix: any principal of the organization.
      const orgOnly = (r: PlanResource) => {
        const p = JSON.parse(r.props.policy);
        delete p.Statement[0].Condition.ArnLike;
        r.props.policy = JSON.stringify(p);
      };
      expect(await messages(rule, variant(prod, is("aws:cloudwatch/eventBusPolicy:EventBusPolicy"), orgOnly))).to.deep.equal([
        "central-policy: statement ForwarderRolesOfTheOrganizationPutEvents lets principal * put events without a aws:PrincipalArn condition",
      ]);
    });

    it(R.busRulesMatchSource.name, async () => {
      const rule = R.busRulesMatchSource;
      // Before the fix: the deny streams matched any source.
      const noSource = (r: PlanResource) => {
        const p = JSON.parse(r.props.eventPattern);
        delete p.source;
        r.props.eventPattern = JSON.stringify(p);
      };
      expect(await messages(rule, variant(prod, is("aws:cloudwatch/eventRule:EventRule", /^(deny-advisor-denies|scp-watch-denies)-rule$/), noSource, 2))).to.deep.equal([
        "deny-advisor-denies-rule: pattern on a cross-account bus does not match source",
        "scp-watch-denies-rule: pattern on a cross-account bus does not match source",
      ]);
      // A custom source is only safe pinned to the sending account (the change feed's Lambda results are).
      const unpinned = (r: PlanResource) => {
        const p = JSON.parse(r.props.eventPattern);
        delete p.account;
        r.props.eventPattern = JSON.stringify(p);
      };
      expect(await messages(rule, variant(full, is("aws:cloudwatch/eventRule:EventRule", "change-feed-failures-rule"), unpinned))).to.deep.equal([
        'change-feed-failures-rule: pattern matches non-AWS source ["lambda"] from any account',
      ]);
      // The forwarders' rules on members' default buses are not on a shared bus: not this rule's business.
      expect(prod.filter(is("aws:cloudwatch/eventRule:EventRule", "forwarder-management-eu-west-1-denies"))).to.have.length(1);
    });

    const editPolicy = (field: string, change: (doc: any) => void) => (r: PlanResource) => {
      const d = JSON.parse(r.props[field]);
      change(d);
      r.props[field] = JSON.stringify(d);
    };

    it(R.cloudTrailKeyDecryptForBucketKey.name, async () => {
      const rule = R.cloudTrailKeyDecryptForBucketKey;
      const key = is("aws:kms/key:Key", "org-trail-key");
      // Before the fix: no kms:Decrypt for CloudTrail although the bucket uses an S3 Bucket Key.
      expect(await messages(rule, variant(prod, key, editPolicy("policy", (d) => (d.Statement = d.Statement.filter((s: any) => s.Sid !== "CloudTrailDecryptsForTheBucketKey")))))).to.deep.equal([
        "org-trail-key: trail org-trail-trail writes to a bucket with an S3 Bucket Key but CloudTrail may not kms:Decrypt",
      ]);
      const unscoped = editPolicy("policy", (d) => delete d.Statement.find((s: any) => s.Sid === "CloudTrailDecryptsForTheBucketKey").Condition);
      expect(await messages(rule, variant(prod, key, unscoped))).to.deep.equal(["org-trail-key: CloudTrail's kms:Decrypt is not scoped with aws:SourceArn"]);
    });

    it(R.keyUsersWrite.name, async () => {
      const rule = R.keyUsersWrite;
      const dropService = (prefix: string) =>
        editPolicy("policy", (d) => (d.Statement = d.Statement.filter((s: any) => ![s.Principal?.Service].flat().some((x: string) => x?.startsWith(prefix)))));
      const logs = await messages(rule, variant(prod, is("aws:kms/key:Key", "central-key"), dropService("logs.")));
      expect(logs).to.include("central-key: encrypts log group security-events-logs but logs.amazonaws.com may not kms:GenerateDataKey");
      const events = await messages(rule, variant(prod, is("aws:kms/key:Key", "central-key"), dropService("events.")));
      expect(events).to.include("central-key: encrypts queue EventBridge delivers to deny-advisor-denies-queue but events.amazonaws.com may not kms:GenerateDataKey");
      const alarms = await messages(rule, variant(prod, is("aws:kms/key:Key", "central-key"), dropService("cloudwatch.")));
      expect(alarms).to.include("central-key: encrypts topic alarms publish to central-alerts but cloudwatch.amazonaws.com may not kms:GenerateDataKey");
    });

    it(R.waitForRolePolicies.name, async () => {
      const rule = R.waitForRolePolicies;
      // Before the fix: the function (and so its mapping) did not wait for the role policy.
      const policyUrn = prod.find(is("aws:iam/rolePolicy:RolePolicy", "sg-bot-worker-policy"))!.urn;
      expect(await messages(rule, variant(prod, is("aws:lambda/function:Function", "sg-bot-worker"), (r) => (r.dependsOn = r.dependsOn.filter((u) => u !== policyUrn))))).to.deep.equal([
        "sg-bot-worker-source: does not wait for role policy sg-bot-worker-policy",
      ]);
      const delivery = prod.find(is("aws:iam/rolePolicy:RolePolicy", "config-recorder-delivery"))!.urn;
      expect(await messages(rule, variant(prod, is("aws:cfg/deliveryChannel:DeliveryChannel", "config-channel-eu-west-1"), (r) => (r.dependsOn = r.dependsOn.filter((u) => u !== delivery))))).to.deep.equal([
        "config-channel-eu-west-1: does not wait for role policy config-recorder-delivery",
      ]);
    });

    it(R.templateRolesReferenced.name, async () => {
      const rule = R.templateRolesReferenced;
      const set = is("aws:cloudformation/stackSet:StackSet", "config-stackset");
      // Before the fix: the home region's stack made the role, every region named it by ARN.
      const before = editPolicy("templateBody", (t) => {
        t.Resources.RecorderRole.Condition = "IsHomeRegion";
        t.Resources.RecorderRole.Properties.RoleName = "trailwatch-config-recorder";
        t.Resources.Recorder.Properties.RoleARN = { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/trailwatch-config-recorder" };
      });
      expect(await messages(rule, variant(prod, set, before))).to.deep.equal(["config-stackset: Recorder names role RecorderRole by its ARN instead of referencing it"]);
      const conditional = editPolicy("templateBody", (t) => (t.Resources.RecorderRole.Condition = "IsHomeRegion"));
      expect(await messages(rule, variant(prod, set, conditional))).to.deep.equal(["config-stackset: Recorder uses role RecorderRole, which only some stacks create (Condition IsHomeRegion)"]);
    });

    it(R.eventTargetsHaveDlq.name, async () => {
      const rule = R.eventTargetsHaveDlq;
      expect(await messages(rule, variant(prod, is("aws:cloudwatch/eventTarget:EventTarget", "sg-bot-changes-target"), (r) => delete r.props.deadLetterConfig))).to.deep.equal([
        "sg-bot-changes-target: target of event-pattern rule sg-bot-changes-rule has no dead-letter queue",
      ]);
      // Before this change the GuardDuty forwarding targets had none.
      expect(await messages(rule, variant(prod, is("aws:cloudwatch/eventTarget:EventTarget", /^guardduty-findings-/), (r) => delete r.props.deadLetterConfig, 3))).to.have.length(3);
    });

    it(R.namesAwsAccepts.name, async () => {
      const rule = R.namesAwsAccepts;
      expect(await messages(rule, variant(prod, is("aws:lambda/function:Function", "slack-app"), (r) => (r.props.name = `tw-${"x".repeat(62)}`)))).to.deep.equal([
        `slack-app: Lambda function name "tw-${"x".repeat(62)}" is 65 characters, more than 64`,
      ]);
      expect(await messages(rule, variant(prod, is("aws:cloudformation/stackSet:StackSet", "forwarders-stackset"), (r) => (r.props.name = "trailwatch_prod_forwarders")))).to.deep.equal([
        'forwarders-stackset: StackSet name "trailwatch_prod_forwarders" has characters AWS refuses',
      ]);
    });

    it(R.trustedAccessBeforeDelegation.name, async () => {
      const rule = R.trustedAccessBeforeDelegation;
      const access = prod.find(is("aws:organizations/awsServiceAccess:AwsServiceAccess", "config-trusted-config"))!.urn;
      expect(await messages(rule, variant(prod, is("aws:organizations/delegatedAdministrator:DelegatedAdministrator", "config-delegated-config"), (r) => (r.dependsOn = r.dependsOn.filter((u) => u !== access))))).to.deep.equal([
        "config-delegated-config: registers a delegated administrator for config.amazonaws.com without waiting for its trusted access",
      ]);
    });

    it(R.detachNeverFullAwsAccess.name, async () => {
      const rule = R.detachNeverFullAwsAccess;
      const allowOnly = (r: PlanResource) => {
        const p = JSON.parse(r.props.policy);
        p.Statement = p.Statement.filter((s: any) => s.Effect === "Allow");
        r.props.policy = JSON.stringify(p);
      };
      expect(await messages(rule, variant(prod, is("aws:iam/rolePolicy:RolePolicy", "scp-watch-mgmt-detach"), allowOnly))).to.deep.equal([
        "scp-watch-mgmt-detach: may detach SCPs but is not denied detaching p-FullAWSAccess",
      ]);
    });
  });
});
