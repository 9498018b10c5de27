/**
 * Replay reads every record; the deployed pipeline only gets what the organization trail logs (management events;
 * data events and network activity events only with their selectors) and what a forwarder in the record's region
 * forwards (a rule sees its own region only). Each finding says whether the deployed config would have seen it.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-network-events-with-cloudtrail.html
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { unseenBecause, type DeployedCoverage } from "../functions/coverage";
import { DEFAULT_COVERAGE, DEFAULT_REGIONS, deployedCoverage, parseStackConfig } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";
import { replay, parseReplayArgs } from "../cli/replay";
import { allRecords } from "./sharedData";
import { ROOT } from "./planFixture";
import type { CloudTrailRecord } from "../functions/cloudtrail";

const ALL = allRecords();
const byOrigin = (suffix: string): CloudTrailRecord => {
  const hits = ALL.filter((x) => x.origin.endsWith(suffix));
  if (hits.length !== 1) throw new Error(`expected one record from ${suffix}, found ${hits.length}`);
  return hits[0].record;
};
// Real records: a VPC endpoint policy deny (network activity event, S3), an S3 object write (data event), a
// management-event deny.
const VPCE_DENY = byOrigin('aws_vpce_access_denied.yml "VPC Endpoint Access Denied"');
const PUT_OBJECT = byOrigin('aws_s3_ransomware_note_upload.yml "Ransomware Note - HOW_TO_DECRYPT_FILES.txt"');
const DENY = ALL.find((x) => x.record.errorCode === "AccessDenied" && x.record.awsRegion === "us-east-1" && x.record.managementEvent === true)!.record;

const prod = (): DeployedCoverage => {
  const r = parseStackConfig(readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config);
  if (!r.ok) throw new Error(r.problems.join("\n"));
  return deployedCoverage(r.config);
};

describe("what the deployed config would have seen", () => {
  it("a VPC endpoint deny is a network activity event: unseen without a selector for its event source, seen with one", () => {
    expect(VPCE_DENY.eventCategory).to.equal("NetworkActivity");
    expect(unseenBecause(VPCE_DENY, "deny", DEFAULT_COVERAGE)).to.equal("network-activity-event");
    const withS3 = { ...DEFAULT_COVERAGE, networkActivity: { eventSources: ["s3.amazonaws.com"], deniesOnly: true } };
    expect(unseenBecause(VPCE_DENY, "deny", withS3)).to.equal(null);
    expect(unseenBecause(VPCE_DENY, "deny", { ...withS3, networkActivity: { eventSources: ["ec2.amazonaws.com"], deniesOnly: true } })).to.equal("network-activity-event");
    // deniesOnly logs VpceAccessDenied only: a network activity record without that code is not logged.
    expect(unseenBecause({ ...VPCE_DENY, errorCode: undefined }, "deny", withS3)).to.equal("network-activity-event");
  });

  it("an S3 object write is a data event: unseen unless orgTrail.dataEvents.s3Objects", () => {
    expect(PUT_OBJECT.managementEvent).to.equal(false);
    expect(unseenBecause(PUT_OBJECT, "deny", DEFAULT_COVERAGE)).to.equal("data-event");
    expect(unseenBecause(PUT_OBJECT, "deny", { ...DEFAULT_COVERAGE, dataEvents: { s3Objects: true, lambdaInvokes: false } })).to.equal(null);
    expect(unseenBecause(PUT_OBJECT, "deny", { ...DEFAULT_COVERAGE, dataEvents: { s3Objects: false, lambdaInvokes: true } })).to.equal("data-event");
  });

  it("regions: denies from every default region (denyRegions: all), the other streams from the configured regions only", () => {
    const c = prod();
    expect(c.denyRegions).to.deep.equal([...DEFAULT_REGIONS.aws].sort());
    expect(c.otherRegions).to.deep.equal(["eu-central-1", "eu-west-1", "us-east-1"]);
    expect(unseenBecause(DENY, "deny", c)).to.equal(null);
    expect(unseenBecause({ ...DENY, awsRegion: "us-west-2" }, "deny", c)).to.equal(null);
    // An opt-in region nobody listed: no forwarder there.
    expect(unseenBecause({ ...DENY, awsRegion: "ap-east-1" }, "deny", c)).to.equal("region-not-forwarded");
    expect(unseenBecause({ ...DENY, awsRegion: "us-west-2" }, "sg-change", c)).to.equal("region-not-forwarded");
    expect(unseenBecause({ ...DENY, awsRegion: "eu-west-1" }, "sg-change", c)).to.equal(null);
    // Without a stack config the other streams' regions are unknown: not marked.
    expect(unseenBecause({ ...DENY, awsRegion: "ap-east-1" }, "sg-change", DEFAULT_COVERAGE)).to.equal(null);
  });
});

describe("replay --json marks unseen findings and counts them apart", function () {
  this.timeout(120_000);
  const run = async (argv: string[]) => {
    let out = "";
    let err = "";
    const code = await replay(parseReplayArgs(argv), (s) => (out += s), (s) => (err += s));
    return { code, out, err, lines: out.trim().split("\n").map((l) => JSON.parse(l)) };
  };

  it("adds seen and unseenBecause to every finding, and the summary's unseen counts are those of the lines", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-coverage-"));
    const records = [VPCE_DENY, { ...PUT_OBJECT, errorCode: "AccessDenied", errorMessage: "User is not authorized to perform: s3:PutObject" }, DENY, { ...DENY, eventID: "e-ap-east-1", awsRegion: "ap-east-1" }];
    fs.writeFileSync(path.join(dir, "r.json"), JSON.stringify({ Records: records }));
    const { code, lines } = await run([dir, "--json", "--stack", "prod"]);
    expect(code).to.equal(0);
    const findings = lines.filter((l) => l.kind !== "summary");
    expect(findings).to.have.length(4);
    for (const f of findings) {
      expect(f, JSON.stringify(f)).to.have.property("seen").that.is.a("boolean");
      expect(f.seen).to.equal(f.unseenBecause === null);
    }
    expect(findings.map((f) => f.unseenBecause)).to.deep.equal(["network-activity-event", "data-event", null, "region-not-forwarded"]);
    const summary = lines.at(-1);
    expect(summary.kind).to.equal("summary");
    expect(summary.unseen).to.deep.equal({ "data-event": 1, "network-activity-event": 1, "region-not-forwarded": 1 });
    // The rest of the summary is unchanged: every deny is still counted.
    expect(summary.denies).to.equal(4);
  });

  it("refuses an unknown stack with a clear message", async () => {
    let message = "";
    try {
      await run(["--stack", "nosuch", "--json"]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/no stack config file .*Pulumi\.nosuch\.yaml/);
  });
});
