/**
 * A newcomer's first `pulumi up`, through the plan CLI: with Slack off the plan needs no Slack secret and declares
 * nothing that posts; with Slack on but its secrets not given yet it deploys the Slack app (so the app manifest with
 * its request URL exists) and creates the secrets without a value; a feature that works through Slack, on while
 * Slack is off, fails the plan naming the key. And preview mode: every provider assumes the read-only preview role.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { deploymentMode, providerRoleArn } from "../stacks/providers";
import { ConfigError, parseStackConfig } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";
import { ofType, one, runPlan, ROOT, type PlanRun } from "./planFixture";

type Doc = { config: Record<string, any> };
function prodDoc(): Doc {
  return yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as Doc;
}
function writeStack(name: string, doc: Doc): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-cfg-")), `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}
function withoutSlack(doc: Doc): Doc {
  delete doc.config["trailwatch:slack"];
  delete doc.config["trailwatch:slackBotToken"];
  delete doc.config["trailwatch:slackSigningSecret"];
  return doc;
}
function outputs(plan: PlanRun): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(plan.dir, "outputs.json"), "utf8"));
}
/** Every Lambda's environment variables, by function name. */
function lambdaEnvs(plan: PlanRun): Record<string, Record<string, string>> {
  return Object.fromEntries(ofType(plan, "aws:lambda/function:Function").map((f) => [f.name, f.inputs.environment?.variables ?? {}]));
}

describe("first deploy: Slack off", function () {
  this.timeout(600_000);
  let plan: PlanRun;
  before(() => {
    const doc = withoutSlack(prodDoc());
    Object.assign(doc.config["trailwatch:features"], { denyAdvisor: false, sgRevertBot: false, scpWatch: false });
    plan = runPlan(["--stack", "noslack", "--config", writeStack("noslack", doc)]);
    if (plan.status !== 0) throw new Error(`plan failed (${plan.status}):\n${plan.stderr}`);
  });

  it("plans with no Slack key at all and declares no secret, no Slack app, nothing that reads a Slack token", () => {
    expect(ofType(plan, "aws:secretsmanager/secret:Secret")).to.deep.equal([]);
    expect(ofType(plan, "aws:secretsmanager/secretVersion:SecretVersion")).to.deep.equal([]);
    expect(ofType(plan, "aws:lambda/functionUrl:FunctionUrl")).to.deep.equal([]);
    for (const [name, env] of Object.entries(lambdaEnvs(plan))) expect(Object.keys(env).filter((k) => k.startsWith("SLACK_")), name).to.deep.equal([]);
    const out = outputs(plan);
    expect(out).to.not.have.any.keys("slackAppManifest", "slackRequestUrl", "slackSetup");
  });

  it("still routes GuardDuty findings and Config non-compliance to the four severity topics, without the Slack notifier", () => {
    expect(ofType(plan, "aws:sns/topic:Topic", /^findings-(low|medium|high|critical)$/).map((t) => t.name).sort()).to.deep.equal([
      "findings-critical",
      "findings-high",
      "findings-low",
      "findings-medium",
    ]);
    expect(ofType(plan, "aws:cloudwatch/eventRule:EventRule", /^findings-guardduty-(low|medium|high|critical)/)).to.have.length(4);
    expect(ofType(plan, "aws:cloudwatch/eventRule:EventRule", /^findings-config-noncompliant/)).to.have.length(1);
    expect(ofType(plan, "aws:lambda/function:Function", /^findings-notifier/)).to.deep.equal([]);
    expect(ofType(plan, "aws:cloudwatch/eventRule:EventRule", /slack/)).to.deep.equal([]);
    expect(ofType(plan, "aws:guardduty/detector:Detector")).to.have.length(3);
  });
});

describe("first deploy: a feature that works through Slack, on while Slack is off", function () {
  this.timeout(300_000);
  it("fails the plan (exit 1) naming each such feature and the way out, before any resource", () => {
    const r = runPlan(["--stack", "noslack2", "--config", writeStack("noslack2", withoutSlack(prodDoc()))]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain("invalid stack config (3 problems)");
    for (const f of ["denyAdvisor", "scpWatch", "sgRevertBot"])
      expect(r.stderr).to.match(new RegExp(`trailwatch:features\\.${f}: expected false while trailwatch:slack is unset \\(.+\\), found true; or set trailwatch:slack`));
    expect(r.stderr).to.not.match(/slackBotToken|slackSigningSecret/);
    expect(r.resources).to.deep.equal([]);
  });
});

describe("first deploy: Slack on, secrets not given yet; preview mode", function () {
  this.timeout(600_000);
  let plan: PlanRun;
  before(() => {
    const doc = prodDoc();
    delete doc.config["trailwatch:slackBotToken"];
    delete doc.config["trailwatch:slackSigningSecret"];
    doc.config["trailwatch:deployment"].previewRoleName = "trailwatch-ci-preview";
    const before = process.env.TRAILWATCH_MODE;
    process.env.TRAILWATCH_MODE = "preview";
    try {
      plan = runPlan(["--stack", "pending", "--config", writeStack("pending", doc)]);
    } finally {
      if (before === undefined) delete process.env.TRAILWATCH_MODE;
      else process.env.TRAILWATCH_MODE = before;
    }
    if (plan.status !== 0) throw new Error(`plan failed (${plan.status}):\n${plan.stderr}`);
  });

  it("creates both Slack secrets without a value (no SecretVersion) and says what is left in the slackSetup output", () => {
    const secrets = ofType(plan, "aws:secretsmanager/secret:Secret").map((s) => s.inputs.name).sort();
    expect(secrets).to.deep.equal(["trailwatch/pending/slackBotToken", "trailwatch/pending/slackSigningSecret"]);
    expect(ofType(plan, "aws:secretsmanager/secretVersion:SecretVersion")).to.deep.equal([]);
    const setup: string = outputs(plan).slackSetup;
    expect(setup).to.match(/^pending: no value yet for trailwatch:slackBotToken and trailwatch:slackSigningSecret/);
    expect(setup).to.contain("pulumi config set --secret trailwatch:slackBotToken");
    expect(setup).to.contain("pulumi config set --secret trailwatch:slackSigningSecret");
  });

  it("deploys the Slack app, so the manifest carries the request URL the app is created from", () => {
    const out = outputs(plan);
    const manifest = JSON.parse(out.slackAppManifest);
    expect(manifest.settings.interactivity.request_url).to.equal(out.slackRequestUrl);
    const app = lambdaEnvs(plan)["slack-app"];
    const secretArns = ofType(plan, "aws:secretsmanager/secret:Secret").map((s) => s.name);
    expect(secretArns).to.include.members(["slack-slackBotToken", "slack-slackSigningSecret"]);
    expect(app.SLACK_BOT_TOKEN_SECRET).to.match(/:secret:trailwatch\/pending\/slackBotToken-/);
    expect(app.SLACK_SIGNING_SECRET_SECRET).to.match(/:secret:trailwatch\/pending\/slackSigningSecret-/);
  });

  it("in preview mode, every provider (management included) assumes the preview role in its own account, never the deployment role", () => {
    const providers = ofType(plan, "pulumi:providers:aws");
    expect(providers.length).to.be.greaterThan(3);
    for (const p of providers) {
      const [account] = p.inputs.allowedAccountIds;
      expect(p.inputs.assumeRoles, p.name).to.deep.equal([{ roleArn: `arn:aws:iam::${account}:role/trailwatch-ci-preview`, sessionName: "trailwatch-deploy" }]);
    }
    const accounts = new Set(providers.map((p) => p.inputs.allowedAccountIds[0]));
    expect([...accounts].sort()).to.deep.equal(["111122223333", "444455556666", "777788889999"]);
    expect(JSON.stringify(providers)).to.not.contain("OrganizationAccountAccessRole");
  });
});

describe("deployment mode", () => {
  const config = (() => {
    const r = parseStackConfig(readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config);
    if (!r.ok) throw new Error(r.problems.join("\n"));
    return r.config;
  })();

  it("reads TRAILWATCH_MODE: unset or deploy = deploy, preview = preview, anything else a config error naming it", () => {
    expect(deploymentMode({})).to.equal("deploy");
    expect(deploymentMode({ TRAILWATCH_MODE: "deploy" })).to.equal("deploy");
    expect(deploymentMode({ TRAILWATCH_MODE: "preview" })).to.equal("preview");
    expect(() => deploymentMode({ TRAILWATCH_MODE: "Preview" }))
      .to.throw(ConfigError)
      .with.property("problems")
      .that.deep.equals(['TRAILWATCH_MODE (environment): expected "deploy" or "preview", found "Preview"']);
  });

  it("deploy mode: the deployment role in members, the caller (or managementRoleArn) in management; preview mode: the preview role everywhere", () => {
    expect(providerRoleArn(config, "444455556666", "deploy")).to.equal("arn:aws:iam::444455556666:role/OrganizationAccountAccessRole");
    expect(providerRoleArn(config, "111122223333", "deploy")).to.equal(undefined);
    const withMgmtRole = { ...config, deployment: { ...config.deployment, managementRoleArn: "arn:aws:iam::111122223333:role/trailwatch-deploy" } };
    expect(providerRoleArn(withMgmtRole, "111122223333", "deploy")).to.equal("arn:aws:iam::111122223333:role/trailwatch-deploy");
    expect(providerRoleArn(withMgmtRole, "111122223333", "preview")).to.equal("arn:aws:iam::111122223333:role/trailwatch-preview");
    expect(providerRoleArn(config, "444455556666", "preview")).to.equal("arn:aws:iam::444455556666:role/trailwatch-preview");
  });
});
