/**
 * The shipped GitHub workflows: they parse, use the current major versions of their actions (older ones run on a
 * Node version GitHub removed), name stacks `org/stack`, take the region from a repository variable, and keep
 * pull-request previews away from deploy credentials.
 * OIDC subjects: https://docs.github.com/en/actions/reference/security/oidc (a job with `environment:` presents
 * repo:ORG/REPO:environment:NAME; a pull_request job without one presents repo:ORG/REPO:pull_request).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "./planFixture";

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, unknown> };
type Job = { environment?: string; steps: Step[]; strategy?: { matrix?: { stack?: string[] } } };
type Workflow = { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };

const DIR = path.join(ROOT, ".github", "workflows");
const load = (file: string): Workflow => yaml.load(fs.readFileSync(path.join(DIR, file), "utf8")) as Workflow;
const CURRENT: Record<string, string> = {
  "actions/checkout": "v6",
  "actions/setup-node": "v6",
  "aws-actions/configure-aws-credentials": "v6",
  "pulumi/actions": "v7",
};
const step = (job: Job, action: string): Step => {
  const found = job.steps.filter((s) => s.uses?.startsWith(action + "@"));
  if (found.length !== 1) throw new Error(`expected one ${action} step, found ${found.length}`);
  return found[0];
};

describe("GitHub workflows", () => {
  const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();

  it("are the preview and deploy workflows, and parse as YAML", () => {
    expect(files).to.deep.equal(["deploy.yml", "preview.yml"]);
    for (const f of files) expect(load(f).jobs, f).to.be.an("object");
  });

  it("use only the current major versions of their actions, each action once per job", () => {
    for (const f of files)
      for (const [name, job] of Object.entries(load(f).jobs)) {
        const uses = job.steps.filter((s) => s.uses).map((s) => s.uses!);
        expect(uses.map((u) => u.split("@")[0]).sort(), `${f} ${name}`).to.deep.equal(Object.keys(CURRENT).sort());
        for (const u of uses) expect(u, `${f} ${name}`).to.equal(`${u.split("@")[0]}@${CURRENT[u.split("@")[0]]}`);
      }
  });

  it("install from the lock file and run the tests before any credential is fetched", () => {
    for (const f of files)
      for (const job of Object.values(load(f).jobs)) {
        const i = (pred: (s: Step) => boolean) => job.steps.findIndex(pred);
        const creds = i((s) => !!s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
        expect(i((s) => s.run === "npm ci"), f).to.be.within(0, creds - 1);
        expect(i((s) => s.run === "npm test"), f).to.be.within(0, creds - 1);
      }
  });

  it("name stacks org/stack, take the region from a repository variable, and have a stack config for each stack", () => {
    for (const f of files)
      for (const job of Object.values(load(f).jobs)) {
        expect(step(job, "pulumi/actions").with!["stack-name"], f).to.equal("${{ vars.PULUMI_ORG }}/${{ matrix.stack }}");
        expect(step(job, "aws-actions/configure-aws-credentials").with!["aws-region"], f).to.equal("${{ vars.AWS_REGION }}");
        for (const stack of job.strategy!.matrix!.stack!) expect(fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`)), `${f}: Pulumi.${stack}.yaml`).to.equal(true);
      }
  });

  it("preview: pull_request (never pull_request_target), the preview role, preview mode, no environment, no deploy role", () => {
    const wf = load("preview.yml");
    expect(Object.keys(wf.on)).to.deep.equal(["pull_request"]);
    expect(wf.permissions).to.deep.equal({ "id-token": "write", contents: "read", "pull-requests": "write" });
    const job = wf.jobs.preview;
    expect(job.environment).to.equal(undefined); // so its OIDC subject is repo:ORG/REPO:pull_request
    expect(step(job, "aws-actions/configure-aws-credentials").with!["role-to-assume"]).to.equal("${{ vars.TRAILWATCH_PREVIEW_ROLE_ARN }}");
    const pulumi = step(job, "pulumi/actions");
    expect(pulumi.with!.command).to.equal("preview");
    expect(pulumi.env!.TRAILWATCH_MODE).to.equal("preview");
    expect(fs.readFileSync(path.join(DIR, "preview.yml"), "utf8")).to.not.match(/DEPLOY_ROLE|command: up/);
  });

  it("deploy: push to main only, gated by the stack's environment, the deploy role, deploy mode", () => {
    const wf = load("deploy.yml");
    expect(wf.on).to.deep.equal({ push: { branches: ["main"] } });
    expect(wf.permissions).to.deep.equal({ "id-token": "write", contents: "read" });
    const job = wf.jobs.up;
    expect(job.environment).to.equal("${{ matrix.stack }}"); // OIDC subject repo:ORG/REPO:environment:<stack>
    expect(step(job, "aws-actions/configure-aws-credentials").with!["role-to-assume"]).to.equal("${{ vars.TRAILWATCH_DEPLOY_ROLE_ARN }}");
    const pulumi = step(job, "pulumi/actions");
    expect(pulumi.with!.command).to.equal("up");
    expect(pulumi.env!.TRAILWATCH_MODE).to.equal("deploy");
  });
});
