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
      expect(names).to.deep.equal(["change-tracker-role-stackset", "config-stackset", "forwarders-stackset", "sg-bot-spokes"]);
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
