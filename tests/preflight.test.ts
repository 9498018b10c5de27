/**
 * `npm run preflight` against a fixture organization behind a local stub that speaks each service's wire protocol
 * (tests/awsStub.ts): the real SDK clients, signed requests, assumed roles. A ready organization passes every check;
 * each known problem is reported by its check with its fix; no or wrong credentials stop with one line and exit 2.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { preflight, preflightChecks } from "../cli/preflight";
import type { Report } from "../cli/checklist";
import { startStub, accessKeyFor, type Stub } from "./awsStub";
import { HOME, LOG_ARCHIVE, MGMT, SECURITY, STACK, healthyBefore, key, orgHandler, type OrgState } from "./fixtureOrg";
import { withAwsEnv } from "./cliEnv";

const PROD = path.resolve(__dirname, "../Pulumi.prod.yaml");

async function run(
  state: OrgState,
  argv: string[] = [],
  env: Record<string, string | undefined> = {},
  latencyMs = 0,
): Promise<{ code: number; out: string; err: string; report?: Report; stub: Stub }> {
  let url = "";
  const stub = await startStub(orgHandler(state, () => url), { latencyMs });
  url = stub.url;
  let out = "";
  let err = "";
  try {
    const code = await withAwsEnv(stub.url, MGMT, env, () =>
      preflight(["--stack", STACK, "--config", PROD, ...argv], { out: (s) => (out += s), err: (s) => (err += s) }),
    );
    const report = argv.includes("--json") && out ? (JSON.parse(out) as Report) : undefined;
    return { code, out, err, report, stub };
  } finally {
    await stub.close();
  }
}

const check = (r: Report, id: string) => {
  const c = r.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
};

describe("npm run preflight (local stubs, real SDK clients)", function () {
  this.timeout(60_000);

  it("passes every check on an organization ready for the first deploy, and exits 0", async () => {
    const ready = healthyBefore();
    // A service-linked recorder is another kind than the customer managed one trailwatch creates: no conflict.
    ready.recorders.set(key(ready.members[0], HOME), [{ name: "AWSConfigurationRecorderForSecurityHub", servicePrincipal: "securityhub.amazonaws.com" }]);
    const { code, report, stub, err } = await run(ready, ["--json"]);
    expect(err).to.equal("");
    expect(code).to.equal(0);
    expect(report!.checks.map((c) => c.id)).to.deep.equal(preflightChecks.map((c) => c.id));
    for (const c of report!.checks) expect(c.status, `${c.id}: ${JSON.stringify(c.findings)}`).to.equal("pass");
    // The real request path: the caller is identified by STS, members are entered by AssumeRole of deployment.roleName
    // with the configured session name, Organizations is called in its partition's region (us-east-1).
    const assumes = stub.calls.filter((c) => c.service === "sts" && c.operation === "AssumeRole");
    expect(assumes.map((c) => c.input.RoleArn)).to.include.members([`arn:aws:iam::${SECURITY}:role/OrganizationAccountAccessRole`, `arn:aws:iam::${LOG_ARCHIVE}:role/OrganizationAccountAccessRole`]);
    expect(new Set(assumes.map((c) => c.input.RoleSessionName))).to.deep.equal(new Set(["trailwatch-deploy"]));
    expect(assumes.every((c) => c.account === MGMT)).to.equal(true);
    const orgCalls = stub.calls.filter((c) => c.service === "organizations");
    expect(orgCalls.length).to.be.greaterThan(3);
    expect(new Set(orgCalls.map((c) => `${c.account}/${c.region}`))).to.deep.equal(new Set([`${MGMT}/us-east-1`]));
    // Member-account reads run with the member's assumed credentials, not the management account's.
    const recorderCalls = stub.calls.filter((c) => c.operation === "DescribeConfigurationRecorders");
    expect(new Set(recorderCalls.map((c) => c.account)).size).to.equal(6); // management, security, log archive, 3 members
  });

  it("the human checklist lists every check top to bottom with a summary line", async () => {
    const { code, out } = await run(healthyBefore());
    expect(code).to.equal(0);
    const lines = out.trim().split("\n");
    expect(lines[0]).to.match(/^trailwatch preflight: stack prod, organization o-7k2mq9x4ab, 6 accounts x 3 regions/);
    expect(lines.filter((l) => l.startsWith("[PASS]"))).to.have.length(preflightChecks.length);
    expect(lines[lines.length - 1]).to.match(new RegExp(`^preflight: ${preflightChecks.length} passed, 0 warnings, 0 failed`));
  });

  it("reports each known problem of a broken organization with its fix, and exits 1", async () => {
    const s = healthyBefore();
    const [m1, m2, m3] = s.members;
    s.featureSet = "CONSOLIDATED_BILLING";
    s.stackSetsAccess = "DISABLED";
    s.serviceAccess.add("cloudtrail.amazonaws.com");
    s.serviceAccess.add("guardduty.amazonaws.com");
    s.delegated.set("guardduty.amazonaws.com", [m3]);
    s.delegated.set("config.amazonaws.com", [SECURITY]);
    s.trails.push(
      { Name: "trailwatch-org", TrailARN: `arn:aws:cloudtrail:${HOME}:${MGMT}:trail/trailwatch-org`, HomeRegion: HOME, IsOrganizationTrail: false },
      { Name: "aws-controltower-BaselineCloudTrail", TrailARN: `arn:aws:cloudtrail:us-east-1:${MGMT}:trail/aws-controltower-BaselineCloudTrail`, HomeRegion: "us-east-1", IsOrganizationTrail: true },
    );
    s.recorders.set(key(m1, "eu-central-1"), [{ name: "aws-controltower-BaselineConfigRecorder" }]);
    s.channels.set(key(m1, "eu-central-1"), [{ name: "aws-controltower-BaselineConfigDeliveryChannel", s3BucketName: "aws-controltower-logs" }]);
    s.recorders.set(key(MGMT, HOME), [{ name: "default" }]);
    s.detectors.set(key(SECURITY, "eu-central-1"), ["12abc34d567e8fa901bc2d34e56789f0"]);
    s.detectors.set(key(m2, HOME), ["aaaabbbbccccdddd"]);
    s.noRole.add(LOG_ARCHIVE);
    s.iamPrincipals.clear();
    s.regionsOff.set(m2, ["eu-central-1"]);
    s.rules.set(key(m1, "us-east-1"), 296);
    s.rules.set(key(m3, HOME), 240);
    s.rules.set(key(m2, "us-east-1"), 40);
    s.wildcardRules.set(key(m2, "us-east-1"), 30);
    const { code, report, out } = await run(s, ["--json"]);
    expect(code).to.equal(1);
    const r = report!;
    const findings = (id: string, status: string) => check(r, id).findings.filter((f) => f.status === status);

    expect(findings("organization", "fail")[0].fix).to.match(/^aws organizations enable-all-features/);
    const adopted = findings("trusted-access", "warn");
    expect(adopted.map((f) => f.message)).to.deep.equal([
      "cloudtrail.amazonaws.com is already enabled (since 2025-01-01): the stack takes it over as org-trail-trusted-access, and pulumi destroy or features.orgTrail: false would disable it for the whole organization",
    ]);
    expect(adopted[0].fix).to.contain("pulumi state delete the org-trail-trusted-access resource");
    const access = findings("trusted-access", "fail");
    expect(access).to.have.length(1);
    expect(access[0].message).to.contain("trailwatch-prod-forwarders");
    expect(access[0].fix).to.equal(`aws cloudformation activate-organizations-access --region ${HOME} (management account)`);

    const admins = check(r, "delegated-admins").findings;
    const gd = admins.find((f) => f.message.startsWith("guardduty.amazonaws.com"))!;
    expect(gd.status).to.equal("fail");
    expect(gd.message).to.contain(m3);
    expect(gd.fix).to.contain(`aws guardduty disable-organization-admin-account --admin-account-id ${m3}`);
    const cfg = admins.find((f) => f.message.startsWith("config.amazonaws.com"))!;
    expect(cfg.status).to.equal("warn");
    expect(cfg.message).to.contain("AccountAlreadyRegisteredException");

    const trails = check(r, "org-trails").findings;
    expect(trails.find((f) => f.status === "fail")!.fix).to.match(/set trailwatch:orgTrail.name .* aws cloudtrail delete-trail --name arn:aws:cloudtrail:eu-west-1:111122223333:trail\/trailwatch-org --region eu-west-1/);
    expect(trails.find((f) => f.status === "warn")!.message).to.contain("aws-controltower-BaselineCloudTrail");

    const rec = findings("config-recorders", "fail");
    expect(rec.map((f) => f.message.split(":")[0]).sort()).to.deep.equal([`${MGMT} ${HOME}`, `${m1} eu-central-1`, `${m1} eu-central-1`]);
    expect(rec.find((f) => f.message.includes("aws-controltower-BaselineConfigRecorder"))!.fix).to.contain("AWS Control Tower");
    expect(rec.find((f) => f.message.includes('"default"'))!.fix).to.equal(
      `in ${MGMT}: aws configservice delete-configuration-recorder --configuration-recorder-name default --region ${HOME}, or set trailwatch:features.configAggregation: false`,
    );

    const det = findings("guardduty-detectors", "fail");
    expect(det).to.have.length(1);
    expect(det[0].message).to.match(new RegExp(`^${SECURITY} eu-central-1`));
    expect(det[0].fix).to.match(/^pulumi import aws:guardduty\/detector:Detector guardduty-detector-eu-central-1 12abc34d567e8fa901bc2d34e56789f0/);

    const role = findings("deployment-role", "fail");
    expect(role).to.have.length(1);
    expect(role[0].message).to.contain(`arn:aws:iam::${LOG_ARCHIVE}:role/OrganizationAccountAccessRole`);
    expect(role[0].fix).to.contain(`create role OrganizationAccountAccessRole in ${LOG_ARCHIVE}`);

    const refs = findings("references", "fail");
    expect(refs.map((f) => f.message)).to.deep.equal([`orgTrail.readerArns: arn:aws:iam::${SECURITY}:role/SecurityAuditor does not exist`]);

    const regions = findings("regions", "fail");
    expect(regions).to.have.length(1);
    expect(regions[0].fix).to.equal(`aws account enable-region --account-id ${m2} --region-name eu-central-1 (management account; takes minutes to hours), or remove eu-central-1 from trailwatch:regions`);
    // The account that cannot be entered is named once, as not checked, not as a region problem.
    expect(check(r, "regions").findings.filter((f) => f.status === "warn").map((f) => f.message)).to.deep.equal([
      `${LOG_ARCHIVE}: not checked, cannot assume OrganizationAccountAccessRole there (AccessDenied)`,
    ]);

    const quotas = check(r, "quotas").findings;
    expect(quotas.find((f) => f.status === "fail")!.message).to.equal(`${m1} us-east-1: the default bus has 296 rules, the forwarder adds 7: 303 is over the default quota of 300`);
    expect(quotas.filter((f) => f.status === "warn").map((f) => f.message)).to.include(`${m3} ${HOME}: the default bus will have 247 of 300 rules (default quota)`);
    const wild = quotas.find((f) => f.message.includes("wildcard"))!;
    expect(wild.message).to.equal(`${m2} us-east-1: the default bus has 30 rules with wildcard filters, the forwarder adds 1: over the fixed limit of 30`);
    expect(wild.status).to.equal("fail");

    // Every check has a failing case here, and the human report prints each fix under its check.
    for (const c of preflightChecks.filter((c) => c.id !== "caller")) expect(check(r, c.id).status, c.id).to.not.equal("pass");
    const human = await run(s);
    expect(human.out).to.contain("[FAIL] Organization has all features");
    expect(human.out).to.contain(`         fix: aws cloudformation activate-organizations-access --region ${HOME} (management account)`);
    expect(out.trim()).to.not.contain("\n"); // --json is one line
  });

  it("finds missing Slack and webhook secrets, and a direct-mode member without the deployment role", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-preflight-"));
    const s = healthyBefore();
    const [m1] = s.members;
    const text = fs
      .readFileSync(PROD, "utf8")
      .replace(/  trailwatch:slackBotToken:\n    secure: \S+\n/, "")
      .replace("  trailwatch:forwarder:\n    mode: stackset\n", `  trailwatch:secrets:\n    slackBotToken: trailwatch/prod/bot\n  trailwatch:forwarder:\n    directAccounts: ["${m1}"]\n    mode: direct\n`)
      .replace("    changeFeed: false", "    changeFeed: true")
      .concat(`  trailwatch:changeFeed:\n    webhooks:\n      - { name: firehydrant, kind: firehydrant, url: "https://api.firehydrant.io/v1/changes/events", secret: trailwatch/prod/firehydrant }\n`);
    const file = path.join(dir, "Pulumi.prod.yaml");
    fs.writeFileSync(file, text);
    s.secrets.set("trailwatch/prod/firehydrant", "x");
    s.noRole.add(m1);
    const { code, report } = await run(s, ["--json", "--config", file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(code).to.equal(1);
    const refs = check(report!, "references").findings;
    expect(refs.find((f) => f.status === "fail")!.message).to.equal(`secrets.slackBotToken: secret trailwatch/prod/bot does not exist in the security account ${SECURITY} (${HOME})`);
    expect(refs.find((f) => f.status === "fail")!.fix).to.equal(`in ${SECURITY}: aws secretsmanager create-secret --name trailwatch/prod/bot --secret-string '<value>' --region ${HOME}`);
    expect(refs.find((f) => f.message.startsWith("changeFeed.webhooks[0]"))!.status).to.equal("pass");
    const role = check(report!, "deployment-role").findings.find((f) => f.status === "fail")!;
    expect(role.message).to.contain(`arn:aws:iam::${m1}:role/OrganizationAccountAccessRole (direct-mode member account)`);
  });

  it("no credentials: one line on stderr, exit 2", async () => {
    const { code, err, out } = await run(healthyBefore(), [], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(code).to.equal(2);
    expect(out).to.equal("");
    expect(err.trim().split("\n")).to.have.length(1);
    expect(err).to.match(/^preflight: no usable AWS credentials .*sign in to the management account 111122223333/);
  });

  it("credentials for another account: one line naming both accounts, exit 2", async () => {
    const { code, err } = await run(healthyBefore(), [], { AWS_ACCESS_KEY_ID: accessKeyFor(SECURITY) });
    expect(code).to.equal(2);
    expect(err.trim().split("\n")).to.have.length(1);
    expect(err).to.contain(`credentials are for account ${SECURITY}`);
    expect(err).to.contain(`stack prod's management account is ${MGMT}`);
  });

  it("deployment.managementRoleArn: the management account is entered through it; a refused role is one line, exit 2", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-preflight-"));
    const file = path.join(dir, "Pulumi.prod.yaml");
    fs.writeFileSync(file, fs.readFileSync(PROD, "utf8").replace("    roleName: OrganizationAccountAccessRole\n", `    roleName: OrganizationAccountAccessRole\n    managementRoleArn: arn:aws:iam::${MGMT}:role/TrailwatchDeployer\n`));
    try {
      // Signed in to the security account, the management account is reached through the role.
      const ok = await run(healthyBefore(), ["--json", "--config", file], { AWS_ACCESS_KEY_ID: accessKeyFor(SECURITY) });
      expect(ok.code).to.equal(0, JSON.stringify(ok.report?.checks.filter((c) => c.status !== "pass")));
      expect(ok.stub.calls.find((c) => c.operation === "AssumeRole")!.input.RoleArn).to.equal(`arn:aws:iam::${MGMT}:role/TrailwatchDeployer`);
      const refused = healthyBefore();
      refused.noRole.add(MGMT);
      const bad = await run(refused, ["--config", file], { AWS_ACCESS_KEY_ID: accessKeyFor(SECURITY) });
      expect(bad.code).to.equal(2);
      expect(bad.err.trim().split("\n")).to.have.length(1);
      expect(bad.err).to.match(new RegExp(`^preflight: cannot assume trailwatch:deployment.managementRoleArn arn:aws:iam::${MGMT}:role/TrailwatchDeployer with these credentials: AccessDenied`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bad arguments exit 2 with the usage; an invalid config exits 1 with every problem", async () => {
    expect((await run(healthyBefore(), ["--bogus"])).code).to.equal(2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-preflight-"));
    const file = path.join(dir, "Pulumi.prod.yaml");
    fs.writeFileSync(file, fs.readFileSync(PROD, "utf8").replace("trailwatch:homeRegion: eu-west-1", "trailwatch:homeRegion: moon-1"));
    const bad = await run(healthyBefore(), ["--config", file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain("trailwatch:homeRegion");
  });

  it("keeps AWS calls within --concurrency (seen by the server) and checks 50 accounts x 3 regions within seconds", async () => {
    const s = healthyBefore(47); // + management, security, log archive = 50
    const started = Date.now();
    // 5 ms per answer, as a network would take: the calls overlap, up to the bound.
    const { code, report, stub } = await run(s, ["--json", "--concurrency", "8"], {}, 5);
    const seconds = (Date.now() - started) / 1000;
    console.log(`      preflight, 50 accounts x 3 regions: ${seconds.toFixed(2)} s, ${stub.calls.length} AWS calls, at most ${stub.maxConcurrent} at once`);
    expect(code).to.equal(0, JSON.stringify(report!.checks.filter((c) => c.status !== "pass")));
    expect(stub.maxConcurrent).to.be.at.most(8).and.at.least(2);
    expect(stub.calls.filter((c) => c.operation === "DescribeConfigurationRecorders")).to.have.length(150);
    expect(seconds).to.be.below(30);
  });
});
