/**
 * The deployment guide stays true to the program: its relative links and anchors resolve, and every switch it
 * tells users to set exists in the config schema (a renamed key must not leave the guide pointing at nothing).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./planFixture";
import { parseStackConfig } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
const anchors = (md: string) =>
  new Set([...md.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-")));

describe("docs/deploy.md", () => {
  for (const file of ["README.md", "docs/deploy.md"])
    it(`${file}: every relative link points at a file in the repository, and every anchor at a heading`, () => {
      const md = read(file);
      const links = [...md.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
      expect(links.length, file).to.be.greaterThan(0);
      for (const link of links) {
        const [target, anchor] = link.split("#");
        const resolved = target ? path.join(path.dirname(file), target) : file;
        expect(fs.existsSync(path.join(ROOT, resolved)), `${file}: ${link}`).to.equal(true);
        if (anchor) expect([...anchors(read(resolved))], `${file}: ${link}`).to.include(anchor);
      }
    });

  it("the Control Tower example and every switch the guide names exist in the config schema", () => {
    const md = read("docs/deploy.md");
    const example = md.slice(md.indexOf("Example, a Control Tower landing zone"));
    const yamlBlock = example.slice(example.indexOf("```yaml") + 7, example.indexOf("```", example.indexOf("```yaml") + 7));
    const raw = readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config;
    // Apply the example's keys over the shipped config (minus the trail keys the guide says must stay unset).
    const t = JSON.parse(raw["trailwatch:orgTrail"]);
    for (const k of ["administrator", "readerArns", "insights"]) delete t[k];
    t.existingLogGroup = /existingLogGroup: (\S+)/.exec(yamlBlock)![1];
    raw["trailwatch:orgTrail"] = JSON.stringify(t);
    raw["trailwatch:deployment"] = JSON.stringify({ roleName: /roleName: (\S+)/.exec(yamlBlock)![1] });
    raw["trailwatch:guardDuty"] = JSON.stringify({ ...JSON.parse(raw["trailwatch:guardDuty"]), existingAdministrator: true });
    raw["trailwatch:configAggregation"] = JSON.stringify({ existing: { memberRecorders: true, aggregator: true } });
    const r = parseStackConfig(raw);
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.deployment.roleName).to.equal("AWSControlTowerExecution");
    expect(r.config.orgTrail.existingLogGroup).to.equal("aws-controltower/CloudTrailLogs");
    for (const key of ["delegatedAdministrator", "memberRecorders", "managementRecorders", "aggregator"]) {
      expect(md, key).to.contain(`configAggregation.existing.${key}`);
      expect(r.config.configAggregation.existing, key).to.have.property(key);
    }
  });
});
