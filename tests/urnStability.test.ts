/**
 * Refactoring must not rename deployed resources. A resource's URN is its identity in the stack's state: one that
 * changes (a new name, a new parent component, a new parent type) is deleted and created again on the next
 * `pulumi up` (a StackSet redeployed to every account, a DynamoDB table emptied, a trail's bucket replaced), unless
 * the new code declares the old URN as an alias.
 * https://www.pulumi.com/docs/iac/concepts/resources/names/#urns
 * https://www.pulumi.com/docs/iac/concepts/options/aliases/
 *
 * The fixture holds the URNs of the prod plan (and of prod with the change feed on) before the reusable-components
 * refactor. Every one must still be planned, or be named below with the alias that carries it over.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { prodPlan, runPlan, ROOT } from "./planFixture";

const before = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns-before-components-refactor.json"), "utf8")) as { prod: string[]; changeFeedOnly: string[] };

/** URNs that moved on purpose, old -> new; the new resource must carry the old URN in its aliases. */
const MOVED: Record<string, string> = {};

function aliasesOf(resources: { urn: string; inputs: any }[], urn: string): string[] {
  const r = resources.find((x) => x.urn === urn) as any;
  return r?.aliases ?? [];
}

describe("URN stability (a refactor renames no deployed resource)", function () {
  this.timeout(600_000);

  it("every prod URN from before the refactor is still planned", () => {
    const plan = prodPlan();
    const now = new Set(plan.resources.map((r) => r.urn));
    const lost = before.prod.filter((u) => !now.has(u) && !(u in MOVED));
    expect(lost, `URNs no longer planned (would be replaced on pulumi up):\n${lost.join("\n")}`).to.deep.equal([]);
    for (const [from, to] of Object.entries(MOVED)) if (before.prod.includes(from)) expect(aliasesOf(plan.resources, to)).to.include(from);
  });

  it("every change-feed URN from before the refactor is still planned", () => {
    const yaml = require("js-yaml");
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"));
    doc.config["trailwatch:features"].changeFeed = true;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tw-urn-")), "Pulumi.prod.yaml");
    fs.writeFileSync(file, yaml.dump(doc));
    const plan = runPlan(["--stack", "prod", "--config", file]);
    expect(plan.status, plan.stderr).to.equal(0);
    const now = new Set(plan.resources.map((r) => r.urn));
    const lost = before.changeFeedOnly.filter((u) => !now.has(u) && !(u in MOVED));
    expect(lost, `URNs no longer planned:\n${lost.join("\n")}`).to.deep.equal([]);
  });
});
