import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { DIRECT_MODE_ADVISED_MAX } from "../stacks/backbone";
import { limitStackTraces } from "../stacks/program";
import { prodPlan, runPlan, ROOT } from "./planFixture";

describe("npm run plan", function () {
  this.timeout(300_000);
  it("plans the prod stack and writes resources.json with type, name, urn, parent, provider, dependsOn, inputs", () => {
    const plan = prodPlan();
    expect(plan.resources.length).to.be.greaterThan(3);
    for (const r of plan.resources) expect(Object.keys(r)).to.deep.equal(["type", "name", "urn", "parent", "provider", "dependsOn", "inputs"]);
    expect(plan.stdout).to.match(/plan: stack prod: \d+ resources/);
  });

  it("gives every AWS resource an explicit provider pinned to one account", () => {
    const plan = prodPlan();
    // Provider references are URNs; a provider's URN ends with its name.
    const providers = new Map(plan.resources.filter((r) => r.type === "pulumi:providers:aws").map((r) => [r.name, r]));
    for (const p of providers.values()) {
      expect(p.inputs.allowedAccountIds, p.name).to.have.length(1);
      expect(p.inputs.allowedAccountIds[0], p.name).to.match(/^\d{12}$/);
    }
    const aws = plan.resources.filter((r) => r.type.startsWith("aws:"));
    expect(aws.length).to.be.greaterThan(10);
    for (const r of aws) expect(providers.has((r.provider ?? "").split("::").pop()!), `${r.type} ${r.name} uses ${r.provider}`).to.equal(true);
  });

  it("assumes the deployment role in member accounts but uses the caller's credentials in management", () => {
    const plan = prodPlan();
    const sec = plan.resources.find((r) => r.name === "aws-security-eu-west-1")!;
    expect(sec.inputs.assumeRoles).to.deep.equal([{ roleArn: "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole", sessionName: "trailwatch-deploy" }]);
    const mgmt = plan.resources.find((r) => r.name === "aws-management-eu-west-1")!;
    expect(mgmt.inputs.assumeRoles).to.equal(undefined);
    expect(mgmt.inputs.allowedAccountIds).to.deep.equal(["111122223333"]);
  });

  it("is deterministic: two runs write identical resources.json", () => {
    const a = prodPlan();
    const b = runPlan(["--stack", "prod"]);
    expect(b.status).to.equal(0);
    expect(fs.readFileSync(path.join(b.dir, "resources.json"), "utf8")).to.equal(fs.readFileSync(path.join(a.dir, "resources.json"), "utf8"));
  });

  it("exits 1 naming the key when a required key is deleted from a copy of the config", () => {
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-cfg-")), "Pulumi.broken.yaml");
    const text = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").replace(/^  trailwatch:homeRegion: .*\n/m, "");
    fs.writeFileSync(broken, text);
    const r = runPlan(["--stack", "broken", "--config", broken]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain("trailwatch:homeRegion: required key is missing (expected string)");
    expect(r.resources).to.deep.equal([]);
  });

  it("exits 2 with usage on a missing --stack", () => {
    const r = runPlan([]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain("--stack is required");
  });

  it("turns stack frames off while the program runs (Pulumi captures one per promise), unless TRAILWATCH_STACK_TRACES=1", () => {
    const before = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = 10;
      limitStackTraces({ TRAILWATCH_STACK_TRACES: "1" });
      expect(Error.stackTraceLimit).to.equal(10);
      limitStackTraces({});
      expect(Error.stackTraceLimit).to.equal(0);
      expect(new Error("x").stack).to.equal("Error: x");
    } finally {
      Error.stackTraceLimit = before;
    }
  });

  it("warns, naming the key and the way out, when direct mode lists more accounts than a plan handles comfortably", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-cfg-"));
    const variant = (n: number) => {
      const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
      const ids = Array.from({ length: n }, (_, i) => String(200000000000 + i));
      // denyRegions: configured keeps the measured shape (3 regions per account; the threshold was measured so): with
      // the default `all`, each account also gets deny-only forwarders in 14 more regions (README, "Denies in every region").
      doc.config["trailwatch:forwarder"] = { ...(doc.config["trailwatch:forwarder"] ?? {}), mode: "direct", directAccounts: ids, denyRegions: "configured" };
      const file = path.join(dir, `Pulumi.direct${n}.yaml`);
      fs.writeFileSync(file, yaml.dump(doc));
      return file;
    };
    const at = runPlan(["--stack", "prod", "--config", variant(DIRECT_MODE_ADVISED_MAX)]);
    expect(at.status).to.equal(0);
    expect(at.stderr).to.not.contain("directAccounts");
    const over = runPlan(["--stack", "prod", "--config", variant(DIRECT_MODE_ADVISED_MAX + 1)]);
    expect(over.status).to.equal(0);
    expect(over.stderr).to.contain(`warning: [runtime] trailwatch:forwarder.directAccounts lists ${DIRECT_MODE_ADVISED_MAX + 1} accounts`);
    expect(over.stderr).to.contain("Use mode: stackset");
    // The plan itself is still complete: every listed account has its forwarder.
    expect(over.resources.filter((r) => r.type === "trailwatch:backbone:MemberForwarder")).to.have.length(DIRECT_MODE_ADVISED_MAX + 2);
  });
});
