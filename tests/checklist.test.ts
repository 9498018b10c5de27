/** The pure parts of preflight / verify: arguments, the report, exit codes, the concurrency limiter, the check runner. */
import { expect } from "chai";
import { Limiter, SHOWN_PER_CHECK, StartError, buildReport, exitCode, fail, formatReport, parseCommonArgs, pass, runChecks, warn } from "../cli/checklist";
import { neededServiceAccess, plannedStackSets } from "../cli/preflight";
import { parseStackConfig } from "../stacks/config";

describe("preflight / verify checklist", () => {
  it("parses arguments with node:util parseArgs and refuses what it does not know", () => {
    expect(parseCommonArgs(["--stack", "prod", "--json"], "u")).to.deep.include({ stack: "prod", json: true, concurrency: 16 });
    expect(parseCommonArgs(["--stack", "prod", "--probe", "123456789012", "--probe-region", "us-east-1"], "u", { probe: true })).to.deep.include({ probe: "123456789012", probeRegion: "us-east-1" });
    for (const bad of [[], ["--stack"], ["--stack", "a b"], ["--stack", "p", "--nope"], ["--stack", "p", "--concurrency", "0"], ["--stack", "p", "extra"]])
      expect(() => parseCommonArgs(bad, "usage: x"), bad.join(" ")).to.throw(StartError);
    // --probe is verify's only
    expect(() => parseCommonArgs(["--stack", "p", "--probe", "123456789012"], "u")).to.throw(StartError, /Unknown option '--probe'/);
    expect(() => parseCommonArgs(["--stack", "p", "--probe", "12345"], "u", { probe: true })).to.throw(StartError, /12-digit account id/);
  });

  it("a check that throws is a fail naming the error and the permission to add; the worst finding is the check's status", async () => {
    const denied = Object.assign(new Error("User is not authorized to perform: organizations:ListAWSServiceAccessForOrganization"), { name: "AccessDeniedException" });
    const results = await runChecks(
      [
        { id: "a", title: "A", run: async () => [pass("ok"), warn("hm", "do x")] },
        { id: "b", title: "B", run: async () => Promise.reject(denied) },
        { id: "c", title: "C", run: async () => [] },
      ],
      {},
    );
    expect(results.map((r) => r.status)).to.deep.equal(["warn", "fail", "pass"]);
    expect(results[1].findings[0].message).to.equal("could not check: AccessDeniedException: User is not authorized to perform: organizations:ListAWSServiceAccessForOrganization");
    expect(results[1].findings[0].fix).to.match(/^grant the calling role the read permission named in the message/);
    // A StartError (credentials gone) stops the run instead.
    let thrown: unknown;
    await runChecks([{ id: "x", title: "X", run: async () => Promise.reject(new StartError("no credentials")) }], {}).catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(StartError);
  });

  it("exit code 1 on any fail, 0 with warnings only; the human report caps each check's list and says where the rest are", () => {
    const many = Array.from({ length: SHOWN_PER_CHECK + 5 }, (_, i) => fail(`problem ${i}`, `fix ${i}`));
    const report = buildReport("verify", "prod", [{ id: "x", title: "Thing", status: "fail", findings: [...many, pass("the rest")] }], Date.now());
    expect(exitCode(report)).to.equal(1);
    expect(exitCode(buildReport("verify", "prod", [{ id: "x", title: "T", status: "warn", findings: [warn("w", "f")] }], Date.now()))).to.equal(0);
    const text = formatReport(report, "header");
    expect(text).to.contain(`[FAIL] Thing: ${SHOWN_PER_CHECK + 5} problems, 1 ok`);
    expect(text).to.contain(`       fail: problem ${SHOWN_PER_CHECK - 1}\n         fix: fix ${SHOWN_PER_CHECK - 1}`);
    expect(text).to.not.contain(`problem ${SHOWN_PER_CHECK}\n`);
    expect(text).to.contain("... and 5 more (--json lists every one)");
    expect(text.trim().split("\n").pop()).to.match(/^verify: 0 passed, 0 warnings, 1 failed \(/);
  });

  it("the limiter never runs more than its bound, and hands a freed slot to the next waiter", async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        limiter.run(async () => {
          active++;
          max = Math.max(max, active);
          await new Promise((r) => setTimeout(r, i % 3));
          active--;
        }),
      ),
    );
    expect(max).to.equal(3);
  });

  it("derives the StackSets and trusted access from the features, as the components create them", () => {
    const base = {
      "trailwatch:organizationId": "o-7k2mq9x4ab",
      "trailwatch:accounts": JSON.stringify({ management: "111122223333", security: "444455556666", logArchive: "777788889999" }),
      "trailwatch:homeRegion": "eu-west-1",
      "trailwatch:regions": JSON.stringify(["eu-west-1"]),
      "trailwatch:memberTargets": JSON.stringify(["r-8x1f"]),
      "trailwatch:slack": JSON.stringify({ channelId: "C04SECOPS01", approverUserIds: ["U02ALICE001"] }),
      "trailwatch:slackBotToken": "x",
      "trailwatch:slackSigningSecret": "y",
    };
    const parsed = parseStackConfig(base);
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    expect(plannedStackSets(parsed.config, "prod")).to.deep.equal([
      { name: "trailwatch-prod-forwarders", regions: ["eu-west-1", "us-east-1"] },
      { name: "trailwatch-prod-config", regions: ["eu-west-1"] },
      { name: "trailwatch-prod-sg-revert-spokes", regions: ["eu-west-1"] },
    ]);
    expect(neededServiceAccess(parsed.config).map((s) => s.principal)).to.deep.equal([
      "cloudtrail.amazonaws.com",
      "guardduty.amazonaws.com",
      "config.amazonaws.com",
      "config-multiaccountsetup.amazonaws.com",
    ]);
    const direct = parseStackConfig({ ...base, "trailwatch:forwarder": JSON.stringify({ mode: "direct", directAccounts: ["210987654321"] }), "trailwatch:features": JSON.stringify({ sgRevertBot: false, configAggregation: false }) });
    if (!direct.ok) throw new Error(direct.problems.join("\n"));
    expect(plannedStackSets(direct.config, "prod")).to.deep.equal([]);
  });
});
