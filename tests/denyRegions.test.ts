/**
 * The deny stream in every region enabled in each account (`forwarder.denyRegions: all`, the default): an SCP that
 * denies everything outside approved regions produces its denies exactly where no full forwarder runs, and an
 * EventBridge rule only sees its own region's events. Regions enabled in every account are the partition's default
 * regions (launched before March 20, 2019; they cannot be disabled):
 * https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
 * The other streams (security groups, roles, Organizations policies, Config, changes) stay in `regions`.
 */
import { expect } from "chai";
import * as path from "path";
import { one, ofType, prodPlan, type Resource } from "./planFixture";
import { DEFAULT_REGIONS, denyOnlyRegions, forwarderRegions, parseStackConfig } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";

const ROOT = path.resolve(__dirname, "..");
const CONFIGURED = ["eu-central-1", "eu-west-1", "us-east-1"];
const providerOf = (r: Resource) => (r.provider ?? "").split("::").pop();

/** CloudFormation's condition functions the template uses (Fn::Equals over a Ref to a parameter). */
function evaluate(cond: any, params: Record<string, string>): boolean {
  const value = (v: any) => (typeof v === "object" && v && "Ref" in v ? params[v.Ref] : v);
  if (cond["Fn::Equals"]) return value(cond["Fn::Equals"][0]) === value(cond["Fn::Equals"][1]);
  throw new Error(`unexpected condition ${JSON.stringify(cond)}`);
}

/** The resources one stack instance creates, given its parameter values (defaults filled in). */
function created(template: any, overrides: Record<string, string>): string[] {
  const params: Record<string, string> = {};
  for (const [k, p] of Object.entries(template.Parameters as Record<string, any>)) if (p.Default !== undefined) params[k] = p.Default;
  Object.assign(params, overrides);
  return Object.entries(template.Resources as Record<string, any>)
    .filter(([, r]) => !r.Condition || evaluate(template.Conditions[r.Condition], params))
    .map(([id]) => id)
    .sort();
}

describe("deny stream in every enabled region (forwarder.denyRegions)", function () {
  this.timeout(300_000);

  it("defaults to all: the partition's default regions outside `regions` get a deny-only forwarder; `configured` turns it off", () => {
    const raw = readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config;
    const r = parseStackConfig(raw);
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.forwarder.denyRegions).to.equal("all");
    expect(DEFAULT_REGIONS.aws).to.have.length(17);
    expect(denyOnlyRegions(r.config)).to.deep.equal(DEFAULT_REGIONS.aws.filter((x) => !CONFIGURED.includes(x)));
    expect([...forwarderRegions(r.config), ...denyOnlyRegions(r.config)].sort()).to.deep.equal([...DEFAULT_REGIONS.aws].sort());
    expect(denyOnlyRegions({ ...r.config, forwarder: { ...r.config.forwarder, denyRegions: "configured" } })).to.deep.equal([]);
    expect(denyOnlyRegions({ ...r.config, homeRegion: "us-gov-west-1", regions: ["us-gov-west-1"] })).to.deep.equal(["us-gov-east-1"]);
    const bad = parseStackConfig({ ...raw, "trailwatch:forwarder": JSON.stringify({ denyRegions: "everywhere" }) });
    expect(bad.ok).to.equal(false);
    expect((bad as { problems: string[] }).problems).to.deep.equal(['trailwatch:forwarder.denyRegions: expected one of "all", "configured", found "everywhere"']);
  });

  it("StackSet: the configured regions get every stream; every other default region the deny stream and the heartbeat only", () => {
    const plan = prodPlan();
    const template = JSON.parse(one(plan, "aws:cloudformation/stackSet:StackSet", "forwarders-stackset").inputs.templateBody);
    expect(template.Parameters.Streams).to.deep.include({ AllowedValues: ["all", "denies"], Default: "all" });
    const full = one(plan, "aws:cloudformation/stackInstances:StackInstances", "forwarders-instances");
    const denyOnly = one(plan, "aws:cloudformation/stackInstances:StackInstances", "forwarders-deny-instances");
    expect(full.inputs.regions).to.deep.equal(CONFIGURED);
    expect(full.inputs.parameterOverrides ?? {}).to.deep.equal({});
    expect(denyOnly.inputs.regions).to.deep.equal(DEFAULT_REGIONS.aws.filter((x) => !CONFIGURED.includes(x)));
    expect(denyOnly.inputs.parameterOverrides).to.deep.equal({ Streams: "denies" });
    expect(denyOnly.inputs.deploymentTargets).to.deep.equal(full.inputs.deploymentTargets);
    // One StackSet operation at a time: the deny-only instances wait for the full ones.
    expect(denyOnly.dependsOn).to.include(full.urn);

    const all = created(template, {});
    expect(all).to.include.members(["TrailwatchDenies", "TrailwatchSgChanges", "TrailwatchRoleChanges", "TrailwatchOrgPolicyChanges", "TrailwatchConfigNoncompliant", "HeartbeatRule"]);
    expect(created(template, { Streams: "denies" })).to.deep.equal(["ForwarderDeadLetterQueue", "ForwarderDeadLetterQueuePolicy", "ForwarderRole", "HeartbeatRule", "TrailwatchDenies"]);
  });

  it("management account: deny rule and heartbeat in every default region, the other streams in the configured regions only", () => {
    const plan = prodPlan();
    const rules = ofType(plan, "aws:cloudwatch/eventRule:EventRule", /^forwarder-management-/);
    const regionsOf = (name: string) => rules.filter((r) => r.inputs.name === name).map((r) => providerOf(r)!.replace("aws-management-", "")).sort();
    expect(regionsOf("trailwatch-denies")).to.deep.equal([...DEFAULT_REGIONS.aws].sort());
    expect(regionsOf("trailwatch-heartbeat")).to.deep.equal([...DEFAULT_REGIONS.aws].sort());
    for (const name of ["trailwatch-sg-changes", "trailwatch-role-changes", "trailwatch-org-policy-changes", "trailwatch-config-noncompliant"]) expect(regionsOf(name), name).to.deep.equal(CONFIGURED);
    for (const r of rules.filter((x) => x.inputs.name === "trailwatch-denies")) expect(r.inputs.state).to.equal("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
    // Every deny-only region has its own dead-letter queue for the two rules' targets.
    const dlqs = ofType(plan, "aws:sqs/queue:Queue", /^forwarder-management-.*-dlq$/).map((q) => providerOf(q)!.replace("aws-management-", "")).sort();
    expect(dlqs).to.deep.equal([...DEFAULT_REGIONS.aws].sort());
  });
});
