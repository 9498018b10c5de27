/**
 * The components' `transform` hooks (components/transform.ts) reach every child of their kind, and the org context is
 * all a consumer passes: a program outside the stacks builds the backbone from it and customizes each kind of child.
 */
import { expect } from "chai";
import { runMockProgram } from "./planFixture";

type R = { type: string; name: string; inputs: any };

describe("transform hooks on the backbone components (a consumer's program on the mock runtime)", function () {
  this.timeout(300_000);
  let resources: R[] = [];
  const of = (type: string) => resources.filter((r) => r.type === `aws:${type}`);

  before(() => {
    resources = runMockProgram<R[]>("tests/fixtures/transformProgram.ts");
  });

  it("CentralEventBus: every queue, rule, target, alarm and its function, role, log group, table, topic and key", () => {
    const queues = of("sqs/queue:Queue").filter((q) => q.name.startsWith("tx-") && !q.name.startsWith("tx-gd"));
    expect(queues.map((q) => q.name).sort()).to.deep.equal(["tx-delivery-dlq", "tx-sub-dlq", "tx-sub-queue"]);
    for (const q of queues) expect(q.inputs.messageRetentionSeconds, q.name).to.equal(1_000_000);
    const rules = of("cloudwatch/eventRule:EventRule").filter((r) => r.name.startsWith("tx-") && !r.name.startsWith("tx-gd"));
    expect(rules.map((r) => r.name).sort()).to.deep.equal(["tx-heartbeat-check", "tx-heartbeats-rule", "tx-sub-rule"]);
    for (const r of rules) expect(r.inputs.description, r.name).to.equal(`transformed ${r.name}`);
    const targets = of("cloudwatch/eventTarget:EventTarget").filter((r) => r.name.startsWith("tx-") && !r.name.startsWith("tx-gd"));
    expect(targets).to.have.length(3);
    for (const t of targets) expect(JSON.parse(t.inputs.input), t.name).to.deep.equal({ child: t.name });
    for (const a of of("cloudwatch/metricAlarm:MetricAlarm").filter((x) => /^tx-(delivery|sub|quiet)/.test(x.name))) expect(a.inputs.tags, a.name).to.deep.equal({ child: a.name });
    expect(resources.find((r) => r.name === "tx-heartbeat" && r.type === "aws:lambda/function:Function")!.inputs.memorySize).to.equal(512);
    expect(resources.find((r) => r.name === "tx-heartbeat-role")!.inputs.tags).to.deep.equal({ child: "tx-heartbeat-role" });
    expect(resources.find((r) => r.name === "tx-heartbeat-logs")!.inputs.retentionInDays).to.equal(7);
    expect(resources.find((r) => r.name === "tx-heartbeats" && r.type === "aws:dynamodb/table:Table")!.inputs.deletionProtectionEnabled).to.equal(true);
    expect(resources.find((r) => r.name === "tx-alerts")!.inputs.tags).to.deep.equal({ child: "tx-alerts" });
    expect(resources.find((r) => r.name === "tx-key")!.inputs.deletionWindowInDays).to.equal(7);
  });

  it("OrganizationForwarders, OrgTrail, GuardDutyOrg: their StackSet, instances, trail, buckets, alarms, detectors", () => {
    expect(resources.find((r) => r.name === "tx-forwarders-stackset")!.inputs.description).to.equal("mine");
    expect(resources.find((r) => r.name === "tx-forwarders-instances")!.inputs.callAs).to.equal("DELEGATED_ADMIN");
    expect(resources.find((r) => r.name === "tx-trail-trail")!.inputs.enableLogFileValidation).to.equal(false);
    for (const b of ["tx-trail-logs", "tx-trail-access-logs"]) expect(resources.find((r) => r.name === b && r.type === "aws:s3/bucket:Bucket")!.inputs.forceDestroy, b).to.equal(true);
    expect(resources.find((r) => r.name === "tx-trail-silent")!.inputs.tags).to.deep.equal({ child: "tx-trail-silent" });
    const detectors = of("guardduty/detector:Detector");
    expect(detectors.length).to.be.greaterThan(1);
    for (const d of detectors) expect(d.inputs.findingPublishingFrequency, d.name).to.equal("SIX_HOURS");
  });

  it("the org context is all they need: OrgTrail defaults its trail name, retention and silence alarm (components/defaults.ts)", () => {
    expect(resources.find((r) => r.name === "tx-trail-trail")!.inputs.name).to.equal("trailwatch-org");
    expect(resources.find((r) => r.name === "tx-trail-log-group")!.inputs.retentionInDays).to.equal(365);
    expect(resources.find((r) => r.name === "tx-trail-silent")!.inputs.evaluationPeriods).to.equal(12);
  });
});
