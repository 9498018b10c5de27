/**
 * SCP rollout watch logic: policy denies from the SCP/RCP fixtures (real Stratus deny records with the catalogue's
 * message forms), the metric line, windows from Organizations policy events (built from the CloudTrail record shape
 * of organizations.amazonaws.com events: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_cloudtrail-integration.html),
 * digests and the threshold alert.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import {
  DETACH_ACTION,
  OTHER_ACTION,
  SCP_METRIC_NAMESPACE,
  alertMessage,
  boundedAction,
  digestMessage,
  metricLine,
  openingMessage,
  policyChangeOf,
  policyDenyOf,
  type RolloutWindow,
} from "../functions/scp/watch";
import { stratusRecords } from "./sharedData";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures/scp-denies.json"), "utf8")) as { cases: { name: string; expect: string; record: CloudTrailRecord }[] };

function orgEvent(eventName: string, requestParameters: Record<string, string>, over: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: "1.08",
    userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice", accountId: "111122223333" },
    eventTime: "2026-11-20T10:00:00Z",
    eventSource: "organizations.amazonaws.com",
    eventName,
    awsRegion: "us-east-1",
    sourceIPAddress: "203.0.113.7",
    userAgent: "aws-cli/2.15.0",
    requestParameters,
    responseElements: null,
    eventID: `evt-${eventName}`,
    eventType: "AwsApiCall",
    recipientAccountId: "111122223333",
    ...over,
  } as CloudTrailRecord;
}

describe("SCP watch: policy denies", () => {
  for (const c of fixture.cases)
    it(`${c.expect}: ${c.name}`, async () => {
      const d = await policyDenyOf(c.record);
      if (c.expect === "none") return expect(d).to.equal(null);
      expect(d, "not recognised as an org policy deny").to.not.equal(null);
      expect(d!.policyType).to.equal(c.expect);
      const tail = /:policy\/o-[a-z0-9]+\/[a-z_]+\/(p-[a-z0-9_]+)/.exec(c.record.errorMessage ?? "");
      expect(d!.policyId).to.equal(tail ? tail[1] : "unknown");
      expect(d!.accountId).to.equal(c.record.recipientAccountId);
      expect(d!.action).to.match(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
    });

  it("a deny that is not an org policy's, and a success, are not counted", async () => {
    const ok = stratusRecords().find((r) => !r.record.errorCode)!.record;
    expect(await policyDenyOf(ok)).to.equal(null);
  });

  it("counts a deny three ways in one EMF line at 1-minute resolution, the action bounded to the top list", async () => {
    const d = (await policyDenyOf(fixture.cases.find((c) => c.name === "SCP with a policy ARN tail")!.record))!;
    const line = metricLine(d, boundedAction(d.action, ["s3:GetObject"]), new Date("2026-11-20T10:01:00Z"));
    expect((line._aws as any).CloudWatchMetrics).to.deep.equal([
      { Namespace: SCP_METRIC_NAMESPACE, Dimensions: [["PolicyId"], ["AccountId"], ["Action"]], Metrics: [{ Name: "Denies", Unit: "Count", StorageResolution: 60 }] },
    ]);
    expect(line).to.include({ PolicyId: "p-examplescp1", Action: OTHER_ACTION, Denies: 1, fullAction: d.action });
    expect(boundedAction(d.action, [d.action!])).to.equal(d.action);
    expect(boundedAction(null, [])).to.equal(OTHER_ACTION);
  });
});

describe("SCP watch: rollout windows", () => {
  it("AttachPolicy opens a window on the policy and target; DetachPolicy and UpdatePolicy too", () => {
    expect(policyChangeOf(orgEvent("AttachPolicy", { policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" }))).to.deep.equal({
      policyId: "p-examplescp1",
      change: "attached",
      targetId: "ou-8x1f-abcd1234",
      who: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice",
      eventTime: "2026-11-20T10:00:00Z",
      eventId: "evt-AttachPolicy",
    });
    expect(policyChangeOf(orgEvent("DetachPolicy", { policyId: "p-1", targetId: "111111111111" }))!.change).to.equal("detached");
    expect(policyChangeOf(orgEvent("UpdatePolicy", { policyId: "p-1", content: "{}" }))).to.deep.include({ change: "updated", targetId: null });
  });

  it("failed calls, other events and the real LeaveOrganization record open nothing", () => {
    expect(policyChangeOf(orgEvent("AttachPolicy", { policyId: "p-1", targetId: "r-8x1f" }, { errorCode: "AccessDeniedException" }))).to.equal(null);
    expect(policyChangeOf(orgEvent("CreatePolicy", { name: "x" }))).to.equal(null);
    const leave = stratusRecords().find((r) => r.record.eventName === "LeaveOrganization")!.record;
    expect(policyChangeOf(leave)).to.equal(null);
  });

  const window: RolloutWindow = {
    policyId: "p-examplescp1",
    openedAt: "2026-11-20T10:00:00Z",
    closesAt: "2026-11-20T11:00:00Z",
    change: policyChangeOf(orgEvent("AttachPolicy", { policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" }))!,
    threshold: 25,
  };

  it("says who changed which policy on which target when the window opens", () => {
    expect(openingMessage(window).text).to.equal(
      "SCP rollout watch: p-examplescp1 attached to ou-8x1f-abcd1234 by PlatformAdmin/alice; watching its denies until 2026-11-20T11:00:00Z",
    );
  });

  it("digests denies by account and action, with the change since the last digest and sample principals", () => {
    const counts = {
      byAccountAction: { "210987654321|s3:PutObject": 7, "210987654321|ec2:RunInstances": 2, "333344445555|s3:PutObject": 4 },
      samplePrincipals: ["arn:aws:sts::210987654321:assumed-role/ci/build-42"],
    };
    const m = digestMessage(window, counts, 5, new Date("2026-11-20T10:20:00Z"));
    expect(m.text).to.equal("p-examplescp1: 13 denies since 2026-11-20T10:00:00Z (+8 since the last digest)");
    const fields = (m.blocks[1] as any).fields.map((f: any) => f.text);
    expect(fields[0]).to.equal("*By account*\n• 210987654321: 9\n• 333344445555: 4");
    expect(fields[1]).to.equal("*By action*\n• s3:PutObject: 11\n• ec2:RunInstances: 2");
    expect(JSON.stringify(m.blocks)).to.contain("build-42").and.contain("Window closes in 40 min.");
  });

  it("alerts past the threshold and offers Detach only when rollback is on and there is a target", () => {
    const on = alertMessage(window, 30, { rollback: true });
    expect(on.text).to.equal("p-examplescp1 caused 30 denies since 2026-11-20T10:00:00Z (threshold 25)");
    const button = (on.blocks[1] as any).elements[0];
    expect(button.action_id).to.equal(DETACH_ACTION);
    expect(JSON.parse(button.value)).to.deep.equal({ policyId: "p-examplescp1", targetId: "ou-8x1f-abcd1234" });
    expect(alertMessage(window, 30, { rollback: false }).blocks).to.have.length(1);
    const updated = { ...window, change: policyChangeOf(orgEvent("UpdatePolicy", { policyId: "p-examplescp1" }))! };
    expect(alertMessage(updated, 30, { rollback: true }).blocks).to.have.length(1);
  });
});
