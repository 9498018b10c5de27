/**
 * Every event pattern trailwatch deploys, held to what EventBridge accepts and to how its engine (aws/event-ruler)
 * reads it: the grammar, no path constrained both beside and inside a `$or` (validatePattern), and the event pattern
 * size quota, 2,048 characters by default, adjustable:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html ("Event pattern size").
 */
import { expect } from "chai";
import * as path from "path";
import { json, ofType, prodPlan } from "./planFixture";
import { parseStackConfig, writeCallsPatternChars } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";
import { assertDeployablePattern, EVENT_PATTERN_MAX_CHARS, patternSizeProblem, validatePattern } from "../functions/eventPattern";
import { writeCallsPattern } from "../components/changeFeed";

const ROOT = path.resolve(__dirname, "..");
const prodConfig = () => readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config;

/** Long but valid CloudTrail event names, as a user might list them. */
const names = (n: number) => Array.from({ length: n }, (_, i) => `DescribeSomethingVeryChattyNumber${String(i).padStart(3, "0")}`);

describe("event pattern size quota", () => {
  it("defaults to EventBridge's 2,048 characters and counts the pattern as PutRule receives it", () => {
    expect(EVENT_PATTERN_MAX_CHARS).to.equal(2048);
    const r = parseStackConfig(prodConfig());
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.eventBus.maxPatternChars).to.equal(2048);
    const p = { detail: { eventName: ["x".repeat(2048 - 29)] } };
    expect(JSON.stringify(p).length).to.equal(2048);
    expect(patternSizeProblem(p)).to.equal(null);
    const q = { detail: { eventName: ["x".repeat(2048 - 28)] } };
    expect(patternSizeProblem(q)).to.equal("pattern: 2049 characters, more than EventBridge's event pattern size quota of 2048");
  });

  it("computes the change feed rule's size as the deployed pattern has it", () => {
    for (const extra of [[], ["SendCommand"], names(30)]) expect(writeCallsPatternChars(extra)).to.equal(JSON.stringify(writeCallsPattern(extra)).length);
  });

  it("refuses a noise list that would push the change feed's rule over the quota, naming the key and the sizes; a raised quota takes it", () => {
    const c = prodConfig();
    c["trailwatch:changeFeed"] = JSON.stringify({ noise: { eventNames: names(40) } });
    const size = writeCallsPatternChars(names(40));
    expect(size).to.be.greaterThan(2048).and.below(4096);
    const r = parseStackConfig(c);
    expect(r.ok).to.equal(false);
    expect((r as { problems: string[] }).problems).to.deep.equal([
      `trailwatch:changeFeed.noise.eventNames: expected fewer event names: with the built-in ones they make the change feed's rule pattern ${size} characters, ` +
        "more than EventBridge's event pattern size quota of 2048 (trailwatch:eventBus.maxPatternChars, once the quota is raised)",
    ]);
    c["trailwatch:eventBus"] = JSON.stringify({ ...JSON.parse(c["trailwatch:eventBus"] ?? "{}"), maxPatternChars: 4096 });
    const raised = parseStackConfig(c);
    if (!raised.ok) throw new Error(raised.problems.join("\n"));
  });

  it("accepts only quota values EventBridge can have (2,048 to 4,096)", () => {
    for (const bad of [1024, 5000]) {
      const c = prodConfig();
      c["trailwatch:eventBus"] = JSON.stringify({ ...JSON.parse(c["trailwatch:eventBus"] ?? "{}"), maxPatternChars: bad });
      const r = parseStackConfig(c);
      expect(r.ok, String(bad)).to.equal(false);
      expect((r as { problems: string[] }).problems[0]).to.match(/^trailwatch:eventBus\.maxPatternChars: expected number to be (>=2048|<=4096), found number/);
    }
  });

  it("fails the plan, naming the rule, for a pattern PutRule would refuse or EventBridge would read differently", () => {
    expect(() => assertDeployablePattern("r", { detail: { eventName: ["x".repeat(3000)] } }, 2048, " (hint)")).to.throw(
      "event rule r: pattern: 3029 characters, more than EventBridge's event pattern size quota of 2048 (hint)",
    );
    expect(() => assertDeployablePattern("r", { a: ["x"], $or: [{ a: ["y"] }, { b: ["z"] }] })).to.throw(/event rule r: pattern: path a is constrained both outside and inside a \$or branch/);
    expect(() => assertDeployablePattern("r", { detail: { eventName: ["x"] } })).not.to.throw();
  });
});

describe("every event pattern the prod plan deploys", function () {
  this.timeout(300_000);

  it("is valid for EventBridge's engine and within the default quota: central rules, forwarders (StackSet and direct), GuardDuty forwarders", () => {
    const plan = prodPlan();
    const patterns: { where: string; pattern: unknown }[] = [];
    for (const r of ofType(plan, "aws:cloudwatch/eventRule:EventRule")) if (r.inputs.eventPattern) patterns.push({ where: r.name, pattern: json(r.inputs.eventPattern) });
    for (const s of ofType(plan, "aws:cloudformation/stackSet:StackSet")) {
      const template = s.inputs.templateBody?.startsWith("{") ? JSON.parse(s.inputs.templateBody) : null;
      for (const [id, res] of Object.entries((template?.Resources ?? {}) as Record<string, any>))
        if (res.Type === "AWS::Events::Rule" && res.Properties?.EventPattern) patterns.push({ where: `${s.name}/${id}`, pattern: res.Properties.EventPattern });
    }
    expect(patterns.length).to.be.greaterThan(20);
    expect(patterns.some((p) => p.where.startsWith("forwarders-stackset/"))).to.equal(true);
    for (const { where, pattern } of patterns) {
      expect(validatePattern(pattern), where).to.deep.equal([]);
      expect(patternSizeProblem(pattern), where).to.equal(null);
    }
  });
});
