import { expect } from "chai";
import { beatOf, handleHeartbeat, quietForwarders, HeartbeatStore, Beat, HEARTBEAT_NAMESPACE } from "../functions/heartbeat";

/** A scheduled event as EventBridge emits it for a member's heartbeat rule, forwarded unchanged to the central bus.
 * Shape: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html */
function scheduled(account: string, region: string, time: string, rule = "trailwatch-heartbeat") {
  return {
    version: "0",
    id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account,
    time,
    region,
    resources: [`arn:aws:events:${region}:${account}:rule/${rule}`],
    detail: {},
  };
}

function memoryStore(): HeartbeatStore & { rows: Map<string, Beat> } {
  const rows = new Map<string, Beat>();
  return {
    rows,
    async record(b) {
      const k = `${b.account}#${b.region}`;
      const prev = rows.get(k);
      if (!prev || prev.lastSeen < b.lastSeen) rows.set(k, b);
    },
    async all() {
      return [...rows.values()];
    },
  };
}

describe("forwarder heartbeat", () => {
  it("recognizes a forwarded heartbeat and ignores the checker's own schedule", () => {
    expect(beatOf(scheduled("123456789012", "eu-west-1", "2026-11-23T10:00:00Z"))).to.deep.equal({ account: "123456789012", region: "eu-west-1", lastSeen: "2026-11-23T10:00:00Z" });
    expect(beatOf(scheduled("123456789012", "eu-west-1", "2026-11-23T10:00:00Z", "tw-prod-central-heartbeat-check"))).to.equal(null);
    expect(beatOf({ source: "aws.ec2", "detail-type": "Scheduled Event" })).to.equal(null);
  });

  it("reports exactly the forwarders quiet for longer than the threshold", () => {
    const now = new Date("2026-11-23T10:30:00Z");
    const beats: Beat[] = [
      { account: "222222222222", region: "us-east-1", lastSeen: "2026-11-23T10:29:00Z" },
      { account: "111111111111", region: "eu-west-1", lastSeen: "2026-11-23T09:59:59Z" },
      { account: "111111111111", region: "us-east-1", lastSeen: "2026-11-23T10:00:01Z" },
    ];
    expect(quietForwarders(beats, now, 30).map((b) => `${b.account}/${b.region}`)).to.deep.equal(["111111111111/eu-west-1"]);
  });

  it("records beats and emits an EMF metric line with the quiet count on a check", async () => {
    const store = memoryStore();
    const lines: string[] = [];
    const opts = { now: new Date("2026-11-23T11:00:00Z"), quietMinutes: 30, log: (l: string) => lines.push(l) };
    await handleHeartbeat(scheduled("111111111111", "eu-west-1", "2026-11-23T10:00:00Z"), store, opts);
    await handleHeartbeat(scheduled("111111111111", "us-east-1", "2026-11-23T10:58:00Z"), store, opts);
    const result = await handleHeartbeat({ source: "aws.events", "detail-type": "Scheduled Event", resources: ["arn:aws:events:eu-west-1:444455556666:rule/tw-prod-central-heartbeat-check"] }, store, opts);
    expect(result).to.deep.equal({ quiet: [{ account: "111111111111", region: "eu-west-1", lastSeen: "2026-11-23T10:00:00Z" }] });
    const emf = JSON.parse(lines[0]);
    expect(emf._aws.CloudWatchMetrics[0]).to.deep.equal({ Namespace: HEARTBEAT_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: "QuietForwarders", Unit: "Count" }] });
    expect(emf.QuietForwarders).to.equal(1);
    expect(emf._aws.Timestamp).to.equal(Date.parse("2026-11-23T11:00:00Z"));
  });
});

describe("heartbeat handler module (functions/heartbeat/handler.ts)", () => {
  it("fails at cold start naming the variable that is missing or malformed, not at the first tick", async () => {
    const { makeHeartbeatHandler, HEARTBEAT_TABLE_ENV, QUIET_MINUTES_ENV, EXPECTED_GRACE_MINUTES_ENV } = await import("../functions/heartbeat/handler");
    expect(() => makeHeartbeatHandler({ [QUIET_MINUTES_ENV]: "30" })).to.throw(/environment variable HEARTBEAT_TABLE is not set/);
    expect(() => makeHeartbeatHandler({ [HEARTBEAT_TABLE_ENV]: "t" })).to.throw(/environment variable QUIET_MINUTES is not set/);
    expect(() => makeHeartbeatHandler({ [HEARTBEAT_TABLE_ENV]: "t", [QUIET_MINUTES_ENV]: "thirty" })).to.throw(/QUIET_MINUTES must be a positive number of minutes, found "thirty"/);
    expect(() => makeHeartbeatHandler({ [HEARTBEAT_TABLE_ENV]: "t", [QUIET_MINUTES_ENV]: "30", [EXPECTED_GRACE_MINUTES_ENV]: "-1" })).to.throw(/EXPECTED_GRACE_MINUTES/);
    expect(makeHeartbeatHandler({ [HEARTBEAT_TABLE_ENV]: "t", [QUIET_MINUTES_ENV]: "30" })).to.be.a("function");
  });
});
