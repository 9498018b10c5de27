import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { replay, parseReplayArgs, SAMPLES } from "../cli/replay";
import { SHARED_DATA, allRecords, constructedRecords } from "./sharedData";
import { ROOT } from "./planFixture";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await replay(parseReplayArgs(argv), (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

const isDenyCode = (c?: string) => !!c && (/^AccessDenied/.test(c) || /UnauthorizedOperation$/.test(c) || c === "AuthorizationError" || c === "VpceAccessDenied");

describe("npm run replay", function () {
  this.timeout(120_000);
  const data = [path.join(SHARED_DATA, "stratus-red-team"), path.join(SHARED_DATA, "panther-analysis")];

  it("finds every deny in the Stratus and Panther data and reports no successful call as a deny (--json)", async () => {
    const { code, out } = await run([...data, "--json"]);
    expect(code).to.equal(0);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l));
    const denies = lines.filter((l) => l.kind === "deny");
    const expected = allRecords().filter((r) => isDenyCode(r.record.errorCode));
    expect(denies.map((d) => d.eventId).sort()).to.deep.equal(expected.map((r) => r.record.eventID ?? null).sort());
    for (const d of denies) {
      expect(Object.keys(d)).to.include.members(["kind", "eventId", "eventTime", "accountId", "region", "principalArn", "errorCode", "action", "resource", "cause", "explicit", "policyArn", "suggestion"]);
      expect(isDenyCode(d.errorCode), d.eventId).to.equal(true);
    }
    const summary = lines[lines.length - 1];
    expect(summary.kind).to.equal("summary");
    expect(summary.denies).to.equal(expected.length);
    expect(summary.records).to.equal(allRecords().length);
    expect(summary.skipped).to.equal(0);
  });

  it("reports the real AuthorizeSecurityGroupIngress as an sg-change line with its rule id", async () => {
    const { out } = await run([path.join(SHARED_DATA, "stratus-red-team/detonation-logs/aws.exfiltration.ec2-security-group-open-port-22-ingress.json"), "--json"]);
    const sg = out.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.kind === "sg-change");
    expect(sg).to.have.length(1);
    expect(sg[0]).to.deep.include({ kind: "sg-change", groupId: "sg-003dc7f1f1c686164", accountId: "032092706103", direction: "ingress" });
    expect(sg[0].rules).to.have.length(1);
    expect(sg[0].rules[0]).to.deep.include({ ruleId: "sgr-09b3e3d2ca1edf2a2", protocol: "tcp", fromPort: 22, toPort: 22 });
  });

  it("runs on the shipped samples with no argument and prints a readable report", async () => {
    expect(parseReplayArgs([]).paths).to.deep.equal([SAMPLES]);
    const { code, out } = await run([]);
    expect(code).to.equal(0);
    // The samples are copies of shared/'s Stratus and Panther files, and the constructed deny forms.
    const n = allRecords().length + constructedRecords().length;
    expect(out).to.match(new RegExp(`^trailwatch replay: ${n} records from 37 files\n`));
    expect(out).to.contain("Denies with a least-privilege fix");
    expect(out).to.contain("Denies an Allow cannot fix");
    expect(out).to.match(new RegExp(`\nSummary: ${n} records, \\d+ denies \\(`));
  });

  it("skips bad input with file and line, counts it, and goes on", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-replay-"));
    const good = JSON.parse(fs.readFileSync(path.join(SHARED_DATA, "stratus-red-team/detonation-logs/aws.credential-access.ec2-get-password-data.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "mixed.jsonl"), [JSON.stringify(good[0]), "not json", JSON.stringify({ eventSource: "s3.amazonaws.com" }), JSON.stringify(good[1])].join("\n"));
    const { code, out, err } = await run([dir, "--json"]);
    expect(code).to.equal(0);
    expect(err).to.contain("mixed.jsonl:2: not valid JSON");
    expect(err).to.contain("mixed.jsonl:3: record without eventName");
    const summary = JSON.parse(out.trim().split("\n").pop()!);
    expect(summary).to.include({ records: 2, skipped: 2 });
  });

  it("counts SCP and RCP denies per policy, account and action, and says where the fix belongs", async () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures/scp-denies.json"), "utf8"));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-replay-"));
    // As CloudTrail writes them to S3, gzipped.
    fs.writeFileSync(path.join(dir, "scp.json.gz"), require("zlib").gzipSync(JSON.stringify({ Records: fixture.cases.map((c: any) => c.record) })));
    const json = await run([dir, "--json"]);
    const summary = JSON.parse(json.out.trim().split("\n").pop()!);
    expect(summary.scpDenies).to.deep.include({ policyId: "p-examplescp1", accountId: "307578594326", action: "organizations:LeaveOrganization", count: 1 });
    expect(summary.scpDenies.map((r: any) => r.policyId)).to.include("p-examplercp1");
    expect(summary.suggestions).to.equal(0);
    const human = await run([dir]);
    expect(human.out).to.contain("Denies with a least-privilege fix (0 distinct, grouped by principal)\n  none");
    expect(human.out).to.contain("denied by SCP p-examplescp1: change the SCP or the account's OU, not the role");
    const scpSection = human.out.split("SCP / RCP denies by policy, account and action\n")[1].split("\n\n")[0];
    expect(scpSection).to.match(/^  p-examplescp1 +307578594326  organizations:LeaveOrganization  x1$/m);
  });

  it("is the script users run: exits 2 on an unknown flag", () => {
    const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "cli/replay.ts", "--jsn"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('unknown option "--jsn"');
  });
});
