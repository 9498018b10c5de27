/**
 * The response components as another program uses them (tests/fixtures/responseProgram.ts, on the mock runtime): a transform
 * on each child kind reaches every child of that kind and nothing else, and with only the required args the
 * components apply their exported defaults (the same constants the stack config's schema uses).
 */
import { expect } from "chai";
import { json, runMockProgram } from "./planFixture";
import { SG_REVERT_BOT_DEFAULTS } from "../components/sgRevertBot";
import { SCP_WATCH_DEFAULTS } from "../components/scpWatch";
import { DENY_ADVISOR_DEFAULTS } from "../components/denyAdvisor";
import { stackConfigSchema } from "../stacks/config";

interface R {
  type: string;
  name: string;
  parent: string | null;
  provider: string | null;
  inputs: any;
}

describe("response components used directly: transforms and defaults", function () {
  this.timeout(300_000);
  let resources: R[] = [];
  let subscriptions: { name: string; target: { kind: string; retentionDays?: number } }[] = [];
  const get = (type: string, name: string): R => {
    const found = resources.filter((r) => r.type === `aws:${type}` && r.name === name);
    if (found.length !== 1) throw new Error(`expected one aws:${type} ${name}, found ${found.length}`);
    return found[0];
  };
  const fns = (prefix: string) => resources.filter((r) => r.type === "aws:lambda/function:Function" && r.name.startsWith(`${prefix}-`));

  before(() => {
    ({ resources, subscriptions } = runMockProgram<{ resources: R[]; subscriptions: typeof subscriptions }>("tests/fixtures/responseProgram.ts"));
  });

  it("a function / role / log group transform reaches every function the component creates, with its name", () => {
    for (const [prefix, names] of [
      ["sg", ["sg-detect", "sg-worker", "sg-expire"]],
      ["scp", ["scp-counter", "scp-windows", "scp-detach"]],
      ["deny", ["deny-processor", "deny-roles"]],
    ] as const) {
      expect(fns(prefix).map((f) => f.name).sort()).to.deep.equal([...names].sort());
      for (const n of names) {
        const f = get("lambda/function:Function", n);
        expect(f.inputs.memorySize, n).to.equal(1024);
        expect(f.inputs.tags.transformed, n).to.equal(n);
        expect(get("iam/role:Role", `${n}-role`).inputs.maxSessionDuration, n).to.equal(7200);
        expect(get("cloudwatch/logGroup:LogGroup", `${n}-logs`).inputs.retentionInDays, n).to.equal(365);
      }
    }
    // The counter prints EMF: the transform adds to its tags, it does not drop the EMF marker.
    expect(get("lambda/function:Function", "scp-counter").inputs.tags["trailwatch:emf"]).to.equal("true");
    // Untransformed components keep the InlineFunction defaults.
    for (const f of [...fns("sgPlain"), ...fns("scpPlain"), ...fns("denyPlain")]) expect(f.inputs.memorySize === 256 || f.inputs.memorySize === 512, f.name).to.equal(true);
  });

  it("table, schedule, event source, StackSet and role transforms reach their children; what the component requires stays", () => {
    for (const t of ["sg-reviews", "scp-windows"]) {
      const table = get("dynamodb/table:Table", t).inputs;
      expect(table.deletionProtectionEnabled, t).to.equal(true);
      expect(table.serverSideEncryption.enabled, t).to.equal(true);
      expect(table.streamViewType, t).to.equal("NEW_IMAGE");
    }
    // One transform for both of the deny advisor's tables: the name tells them apart.
    expect(get("dynamodb/table:Table", "deny-findings").inputs.tags).to.deep.equal({ transformed: "deny-findings" });
    expect(get("dynamodb/table:Table", "deny-roles").inputs.tags).to.deep.equal({ transformed: "deny-roles" });

    expect(get("cloudwatch/eventRule:EventRule", "sg-expire-tick").inputs.description).to.equal("rule sg-expire-tick");
    expect(get("cloudwatch/eventRule:EventRule", "sg-expire-tick").inputs.scheduleExpression).to.equal("rate(5 minutes)");
    expect(get("cloudwatch/eventTarget:EventTarget", "sg-expire-target").inputs.retryPolicy).to.deep.equal({ maximumEventAgeInSeconds: 600, maximumRetryAttempts: 5 });
    expect(get("cloudwatch/eventRule:EventRule", "scp-digest").inputs.description).to.equal("digest rule");
    expect(get("cloudwatch/eventTarget:EventTarget", "scp-digest-target").inputs.retryPolicy).to.deep.equal({ maximumEventAgeInSeconds: 900, maximumRetryAttempts: 1 });

    expect(get("lambda/eventSourceMapping:EventSourceMapping", "sg-worker-source").inputs.batchSize).to.equal(1);
    expect(get("lambda/eventSourceMapping:EventSourceMapping", "sg-worker-source").inputs.filterCriteria.filters).to.have.length(1);
    expect(get("lambda/eventSourceMapping:EventSourceMapping", "scp-detach-source").inputs.batchSize).to.equal(2);
    expect(get("lambda/eventSourceMapping:EventSourceMapping", "deny-processor-source").inputs.batchSize).to.equal(7);
    expect(get("lambda/eventSourceMapping:EventSourceMapping", "deny-processor-source").inputs.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);

    expect(get("cloudformation/stackSet:StackSet", "sg-spokes").inputs.tags).to.deep.equal({ transformed: "stackSet" });
    expect(get("cloudformation/stackSet:StackSet", "sg-spokes").inputs.permissionModel).to.equal("SERVICE_MANAGED");
    expect(get("cloudformation/stackInstances:StackInstances", "sg-spokes-instances").inputs.regions).to.deep.equal(["us-east-1"]);
    expect(get("iam/role:Role", "sg-spoke-management").inputs.maxSessionDuration).to.equal(7200);
    expect(subscriptions.map((s) => s.name)).to.include("sg-spoke-management"); // the spoke policy's transform ran, named
    expect(get("cloudformation/stackSet:StackSet", "deny-decode-spokes").inputs.tags).to.deep.equal({ transformed: "decode" });
    expect(get("iam/role:Role", "deny-decode-spokes-management").inputs.maxSessionDuration).to.equal(7200);

    expect(get("iam/role:Role", "scp-mgmt-detach").inputs.maxSessionDuration).to.equal(7200);
    expect(get("iam/rolePolicy:RolePolicy", "scp-mgmt-detach").inputs.name).to.equal("detach-only");
    expect(json(get("iam/rolePolicy:RolePolicy", "scp-mgmt-detach").inputs.policy).Statement.map((s: any) => s.Sid)).to.deep.equal(["DetachScpsOnly", "NeverFullAWSAccess"]);
    expect(get("cloudwatch/dashboard:Dashboard", "scp-dashboard").inputs.dashboardName).to.equal("custom-scp");

    // A transform touches only its own component's children.
    expect(get("dynamodb/table:Table", "sgPlain-reviews").inputs.deletionProtectionEnabled).to.equal(undefined);
    expect(get("lambda/eventSourceMapping:EventSourceMapping", "sgPlain-worker-source").inputs.batchSize).to.equal(10);
    expect(get("cloudwatch/dashboard:Dashboard", "scpPlain-dashboard").inputs.dashboardName).to.match(/-scp-watch$/);
  });

  it("with only the required args, each component applies its exported defaults", () => {
    const sg = get("lambda/function:Function", "sgPlain-detect").inputs.environment.variables;
    expect(JSON.parse(sg.SG_BOT_SETTINGS)).to.deep.equal({
      channel: "C0123456789",
      minRisk: SG_REVERT_BOT_DEFAULTS.minRisk,
      trustedCidrs: [],
      expireAfterMinutes: SG_REVERT_BOT_DEFAULTS.expireAfterMinutes,
      approverUserIds: ["U0123456789"],
      autoRevertPorts: [],
      accountNames: {},
    });
    expect(get("lambda/function:Function", "sgPlain-worker").inputs.environment.variables.SPOKE_EXTERNAL_ID).to.equal("trailwatch-sg-revert-o-abc123defg");
    expect(get("cloudformation/stackSet:StackSet", "sgPlain-spokes").inputs.parameters.ExternalId).to.equal("trailwatch-sg-revert-o-abc123defg");
    for (const f of fns("sgPlain")) expect(get("cloudwatch/logGroup:LogGroup", `${f.name}-logs`).inputs.retentionInDays, f.name).to.equal(SG_REVERT_BOT_DEFAULTS.logRetentionDays);

    const scp = JSON.parse(get("lambda/function:Function", "scpPlain-windows").inputs.environment.variables.SCP_WATCH_SETTINGS);
    expect(scp).to.deep.include({ windowMinutes: SCP_WATCH_DEFAULTS.windowMinutes, threshold: SCP_WATCH_DEFAULTS.threshold, rollback: false, topActions: SCP_WATCH_DEFAULTS.topActions });
    expect(get("cloudwatch/eventRule:EventRule", "scpPlain-digest").inputs.scheduleExpression).to.equal(`rate(${SCP_WATCH_DEFAULTS.digestMinutes} minutes)`);
    // Rollback off by default: no detach worker, no role in the management account.
    expect(fns("scpPlain").map((f) => f.name).sort()).to.deep.equal(["scpPlain-counter", "scpPlain-windows"]);
    expect(resources.filter((r) => r.name === "scpPlain-mgmt-detach")).to.deep.equal([]);
    for (const f of fns("scpPlain")) expect(get("cloudwatch/logGroup:LogGroup", `${f.name}-logs`).inputs.retentionInDays, f.name).to.equal(SCP_WATCH_DEFAULTS.logRetentionDays);
    expect(subscriptions.find((s) => s.name === "scpPlain-denies-log")!.target.retentionDays).to.equal(SCP_WATCH_DEFAULTS.logRetentionDays);

    const deny = get("lambda/function:Function", "denyPlain-processor").inputs.environment.variables;
    expect(deny.OWNER_TAG_KEY).to.equal(DENY_ADVISOR_DEFAULTS.ownerTagKey);
    expect(deny.DECODE_EXTERNAL_ID).to.equal("trailwatch-deny-decode-o-abc123defg");
    expect(deny.DECODE_HOME_REGION).to.equal("eu-west-1");
    expect(deny).to.not.have.property("DIGEST_OPTIONS");
    expect(get("lambda/eventSourceMapping:EventSourceMapping", "denyPlain-processor-source").inputs.maximumBatchingWindowInSeconds).to.equal(DENY_ADVISOR_DEFAULTS.batchWindowSeconds);
    for (const f of fns("denyPlain")) expect(get("cloudwatch/logGroup:LogGroup", `${f.name}-logs`).inputs.retentionInDays, f.name).to.equal(DENY_ADVISOR_DEFAULTS.logRetentionDays);
  });

  it("the stack config's defaults are the components' defaults", () => {
    const shape = stackConfigSchema.shape;
    const sg = shape.sgRevertBot.parse(undefined);
    const scp = shape.scpWatch.parse(undefined);
    const deny = shape.denyAdvisor.parse(undefined);
    expect({ minRisk: sg.minRisk, trustedCidrs: sg.trustedCidrs, expireAfterMinutes: sg.expireAfterMinutes, autoRevertPorts: sg.autoRevertPorts, logRetentionDays: sg.logRetentionDays }).to.deep.equal(SG_REVERT_BOT_DEFAULTS);
    expect(scp).to.deep.equal(SCP_WATCH_DEFAULTS);
    expect({ ownerTagKey: deny.ownerTagKey, batchWindowSeconds: deny.batchWindowSeconds, logRetentionDays: deny.logRetentionDays, decode: deny.decode }).to.deep.equal(DENY_ADVISOR_DEFAULTS);
  });
});
