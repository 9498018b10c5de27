import { expect } from "chai";
import * as path from "path";
import { parseStackConfig, forwarderRegions } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";

const ROOT = path.resolve(__dirname, "..");
/** The shipped production example, as Pulumi would hand it to the program. */
function prodConfig(): Record<string, string> {
  return readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config;
}
function problemsFor(edit: (c: Record<string, string>) => void): string[] {
  const c = prodConfig();
  edit(c);
  const r = parseStackConfig(c);
  if (r.ok) throw new Error("expected the config to be rejected");
  return r.problems;
}
function setJson(c: Record<string, string>, key: string, f: (v: any) => void) {
  const v = JSON.parse(c[`trailwatch:${key}`]);
  f(v);
  c[`trailwatch:${key}`] = JSON.stringify(v);
}

describe("stack config", () => {
  it("accepts the shipped Pulumi.prod.yaml and fills defaults", () => {
    const r = parseStackConfig(prodConfig());
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.accounts).to.deep.equal({ management: "111122223333", security: "444455556666", logArchive: "777788889999" });
    expect(r.config.forwarder.mode).to.equal("stackset");
    expect(r.config.deployment.roleName).to.equal("OrganizationAccountAccessRole");
    expect(r.config.eventBus.archiveRetentionDays).to.equal(90);
  });

  for (const key of ["organizationId", "accounts", "homeRegion", "regions", "memberTargets"]) {
    it(`names the missing required key trailwatch:${key}`, () => {
      const problems = problemsFor((c) => delete c[`trailwatch:${key}`]);
      expect(problems).to.include.members([`trailwatch:${key}: required key is missing (expected ${key === "regions" || key === "memberTargets" ? "array" : key === "accounts" ? "object" : "string"})`]);
    });
  }

  for (const sub of ["management", "security", "logArchive"]) {
    it(`names a missing account trailwatch:accounts.${sub}`, () => {
      const problems = problemsFor((c) => setJson(c, "accounts", (a) => delete a[sub]));
      expect(problems).to.deep.equal([`trailwatch:accounts.${sub}: required key is missing (expected string)`]);
    });
  }

  it("rejects account ids that are not 12 digits, naming key, expectation and value", () => {
    const problems = problemsFor((c) => setJson(c, "accounts", (a) => (a.logArchive = "12345")));
    expect(problems).to.deep.equal([
      'trailwatch:accounts.logArchive: expected a 12-digit AWS account id (quote it in YAML), found "12345"',
    ]);
  });

  it("explains an unquoted (numeric) account id", () => {
    const problems = problemsFor((c) => setJson(c, "accounts", (a) => (a.security = 444455556666)));
    expect(problems).to.deep.equal([
      "trailwatch:accounts.security: expected string, found number 444455556666 (quote ids in YAML so they stay strings)",
    ]);
  });

  it("rejects a security account equal to the management account", () => {
    const problems = problemsFor((c) => setJson(c, "accounts", (a) => (a.security = a.management)));
    expect(problems[0]).to.match(/^trailwatch:accounts\.security: expected an account other than the management account .* found "111122223333"$/);
  });

  it("rejects bad regions and names the list index", () => {
    const problems = problemsFor((c) => {
      c["trailwatch:homeRegion"] = "europe-1";
      c["trailwatch:regions"] = JSON.stringify(["eu-west-1", "eu-wset-1"]);
    });
    expect(problems).to.include('trailwatch:homeRegion: expected an AWS region name such as eu-west-1, found "europe-1"');
    expect(problems).to.include('trailwatch:regions[1]: expected an AWS region name such as eu-west-1, found "eu-wset-1"');
  });

  it("rejects duplicates in lists", () => {
    const problems = problemsFor((c) => (c["trailwatch:regions"] = JSON.stringify(["eu-west-1", "us-east-1", "eu-west-1"])));
    expect(problems).to.deep.equal(['trailwatch:regions[2]: expected unique regions, found "eu-west-1" twice']);
  });

  it("rejects wrong types", () => {
    const problems = problemsFor((c) => {
      setJson(c, "features", (f) => (f.orgTrail = "yes"));
      setJson(c, "eventBus", (b) => (b.archiveRetentionDays = 0));
      c["trailwatch:memberTargets"] = "r-8x1f";
    });
    expect(problems).to.deep.equal([
      'trailwatch:eventBus.archiveRetentionDays: expected number to be >=1, found number 0',
      'trailwatch:features.orgTrail: expected boolean, found "yes"',
      'trailwatch:memberTargets: expected array, found "r-8x1f"',
    ]);
  });

  it("reports every problem at once, not the first only", () => {
    const problems = problemsFor((c) => {
      delete c["trailwatch:organizationId"];
      c["trailwatch:homeRegion"] = "nowhere";
      setJson(c, "slack", (s) => (s.channelId = "#security"));
      c["trailwatch:regoins"] = "[]";
    });
    expect(problems).to.have.length(4);
    expect(problems.join("\n")).to.contain("trailwatch:regoins: unknown key");
    expect(problems.join("\n")).to.contain('trailwatch:slack.channelId: expected a Slack channel id such as C0123ABCD45, found "#security"');
  });

  it("requires homeRegion among regions, approvers, and accounts in direct mode", () => {
    const problems = problemsFor((c) => {
      c["trailwatch:homeRegion"] = "ap-southeast-2";
      setJson(c, "slack", (s) => (s.approverUserIds = []));
      setJson(c, "forwarder", (f) => (f.mode = "direct"));
    });
    expect(problems).to.deep.equal([
      'trailwatch:forwarder.directAccounts: expected at least one account id when mode is "direct", found none',
      'trailwatch:regions: expected a list that includes homeRegion "ap-southeast-2", found [eu-west-1, eu-central-1, us-east-1]',
      "trailwatch:slack.approverUserIds: expected at least one approver (approverUserIds or approverUserGroupId), found none",
    ]);
  });

  it("rejects an unknown forwarder mode with the allowed values", () => {
    const problems = problemsFor((c) => setJson(c, "forwarder", (f) => (f.mode = "stacksets")));
    expect(problems).to.deep.equal(['trailwatch:forwarder.mode: expected one of "stackset", "direct", found "stacksets"']);
  });

  it("accepts only the log retention values CloudWatch Logs has", () => {
    const problems = problemsFor((c) => {
      c["trailwatch:denyAdvisor"] = JSON.stringify({ logRetentionDays: 45 });
    });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^trailwatch:denyAdvisor\.logRetentionDays: expected one of 1, 3, 5, 7, 14, 30, 60, 90, .*3653, found number 45$/);
  });

  it("always adds us-east-1 to the forwarder regions (IAM and Organizations events exist only there)", () => {
    const c = prodConfig();
    c["trailwatch:regions"] = JSON.stringify(["eu-west-1"]);
    const r = parseStackConfig(c);
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(forwarderRegions(r.config)).to.deep.equal(["eu-west-1", "us-east-1"]);
  });
});

describe("stack config: cross-key rules", () => {
  it("accepts Slack on without its secrets yet (the first pulumi up), and existing secret names instead of secure values", () => {
    const c = prodConfig();
    delete c["trailwatch:slackSigningSecret"];
    delete c["trailwatch:slackBotToken"];
    expect(parseStackConfig(c).ok).to.equal(true);
    c["trailwatch:secrets"] = JSON.stringify({ slackSigningSecret: "trailwatch/prod/signing" });
    expect(parseStackConfig(c).ok).to.equal(true);
  });

  /** The prod example with Slack removed: no channel, no secrets. */
  const withoutSlack = (c: Record<string, string>) => {
    delete c["trailwatch:slack"];
    delete c["trailwatch:slackBotToken"];
    delete c["trailwatch:slackSigningSecret"];
  };

  it("with trailwatch:slack unset, names each feature that works through Slack, and nothing else", () => {
    const problems = problemsFor(withoutSlack);
    const tail = "found true; or set trailwatch:slack (channelId and approvers: the Slack secrets can follow after the first pulumi up)";
    expect(problems).to.deep.equal([
      `trailwatch:features.denyAdvisor: expected false while trailwatch:slack is unset (the deny advisor posts its digests to the Slack channel), ${tail}`,
      `trailwatch:features.scpWatch: expected false while trailwatch:slack is unset (rollout windows, digests and /trailwatch-watch live in the Slack channel), ${tail}`,
      `trailwatch:features.sgRevertBot: expected false while trailwatch:slack is unset (security-group changes are reviewed with buttons in the Slack channel), ${tail}`,
    ]);
  });

  it("with trailwatch:slack unset and those features off, needs no Slack secret; GuardDuty, Config and the change feed stay on", () => {
    const c = prodConfig();
    withoutSlack(c);
    setJson(c, "features", (f) => Object.assign(f, { denyAdvisor: false, sgRevertBot: false, scpWatch: false, changeFeed: true }));
    const r = parseStackConfig(c);
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.slack).to.equal(undefined);
    expect(r.config.features).to.include({ guardDuty: true, configAggregation: true, changeFeed: true });
  });

  it("with trailwatch:slack unset, refuses the change feed's Slack digest and Slack credentials nothing would use", () => {
    const problems = problemsFor((c) => {
      withoutSlack(c);
      setJson(c, "features", (f) => Object.assign(f, { denyAdvisor: false, sgRevertBot: false, scpWatch: false, changeFeed: true }));
      c["trailwatch:changeFeed"] = JSON.stringify({ slackDigest: { enabled: true } });
      c["trailwatch:slackBotToken"] = "xoxb-placeholder";
      c["trailwatch:secrets"] = JSON.stringify({ slackSigningSecret: "trailwatch/prod/signing" });
    });
    expect(problems).to.deep.equal([
      "trailwatch:changeFeed.slackDigest.enabled: expected false while trailwatch:slack is unset (the digest is posted to the Slack channel), found true",
      "trailwatch:secrets.slackSigningSecret: set while trailwatch:slack is unset (nothing would use it): set trailwatch:slack or remove the key",
      "trailwatch:slackBotToken: set while trailwatch:slack is unset (nothing would use it): set trailwatch:slack or remove the key (pulumi config rm trailwatch:slackBotToken)",
    ]);
  });

  it("refuses features that read the central bus when the backbone is off", () => {
    const problems = problemsFor((c) => setJson(c, "features", (f) => (f.eventBackbone = false)));
    expect(problems).to.deep.equal([
      "trailwatch:features.configAggregation: expected false while features.eventBackbone is false (configAggregation uses the central bus), found true",
      "trailwatch:features.denyAdvisor: expected false while features.eventBackbone is false (denyAdvisor uses the central bus), found true",
      "trailwatch:features.guardDuty: expected false while features.eventBackbone is false (guardDuty uses the central bus), found true",
      "trailwatch:features.scpWatch: expected false while features.eventBackbone is false (scpWatch uses the central bus), found true",
      "trailwatch:features.sgRevertBot: expected false while features.eventBackbone is false (sgRevertBot uses the central bus), found true",
    ]);
  });
});

describe("stack config: orgTrail", () => {
  it("reads the shipped rows and defaults the rest", () => {
    const r = parseStackConfig(prodConfig());
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.orgTrail).to.deep.include({ name: "trailwatch-org", administrator: "delegated", bucketExpirationDays: 400, noncurrentVersionExpirationDays: 90 });
    expect(r.config.orgTrail.alarms.custom.map((row) => row.id)).to.deep.equal(["guardduty-tampering"]);
    expect(r.config.orgTrail.lakeRetentionDays).to.equal(undefined);
  });

  it("checks a custom row's filter pattern before deploy, naming the row, the column and what was expected", () => {
    const problems = problemsFor((c) =>
      setJson(c, "orgTrail", (t) => {
        t.alarms.custom[0].pattern = '{ ($.eventSource = "guardduty.amazonaws.com" }';
      }),
    );
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(
      /^trailwatch:orgTrail\.alarms\.custom\[0\]\.pattern: expected a CloudWatch Logs JSON filter pattern .*: expected '\)', found "\}" at column 4\d$/,
    );
  });

  it("refuses a custom row id that a built-in row uses, an unknown row to switch off, and a bad reader ARN", () => {
    const problems = problemsFor((c) =>
      setJson(c, "orgTrail", (t) => {
        t.alarms.custom[0].id = "root-account-usage";
        t.alarms.disabled = ["root-usage"];
        t.readerArns = ["arn:aws:iam::444455556666:group/Auditors"];
      }),
    );
    expect(problems).to.have.length(3);
    expect(problems[0]).to.match(/^trailwatch:orgTrail\.alarms\.custom\[0\]\.id: expected a row id not used by another row, found "root-account-usage"$/);
    expect(problems[1]).to.match(/^trailwatch:orgTrail\.alarms\.disabled\[0\]: expected one of "elevated-role-assumed", "root-account-usage", .*found "root-usage"$/);
    expect(problems[2]).to.match(/^trailwatch:orgTrail\.readerArns\[0\]: expected an IAM role or user ARN/);
  });

  it("refuses so many elevated role names that the filter pattern would pass CloudWatch's 1024 characters", () => {
    const problems = problemsFor((c) =>
      setJson(c, "orgTrail", (t) => {
        t.alarms.elevatedRoles = Array.from({ length: 12 }, (_, i) => `AdministratorRoleNumber${i}`);
      }),
    );
    expect(problems).to.deep.equal([
      problems.find((p) => p.startsWith("trailwatch:orgTrail.alarms.elevatedRoles: expected fewer role names (the filter pattern they make is too long")),
    ]);
  });
});

describe("stack config: defaults written once", () => {
  it("the schema's defaults are the components' (components/defaults.ts), and loading the schema loads no Pulumi", () => {
    const { spawnSync } = require("child_process");
    const script = [
      'const { parseStackConfig } = require("./stacks/config");',
      'const d = require("./components/defaults");',
      'const r = parseStackConfig({ "trailwatch:organizationId": "o-7k2mq9x4ab", "trailwatch:accounts": JSON.stringify({ management: "111122223333", security: "222233334444", logArchive: "333344445555" }), "trailwatch:homeRegion": "eu-west-1", "trailwatch:regions": JSON.stringify(["eu-west-1", "us-east-1"]), "trailwatch:memberTargets": JSON.stringify(["r-8x1f"]), "trailwatch:features": JSON.stringify({ denyAdvisor: false, scpWatch: false, sgRevertBot: false }) });',
      'const pulumi = Object.keys(require.cache).filter((k) => k.includes("node_modules/@pulumi/"));',
      "console.log(JSON.stringify({ ok: r.ok, problems: r.problems, c: r.config, d, pulumi }));",
    ].join("\n");
    const out = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(out.status, out.stderr).to.equal(0);
    const { ok, problems, c, d, pulumi } = JSON.parse(out.stdout.trim().split("\n").pop()!);
    expect(ok, JSON.stringify(problems)).to.equal(true);
    expect(pulumi, "the offline tools load stacks/config.ts: it must not pull in @pulumi").to.deep.equal([]);
    expect(c.eventBus).to.include({ name: d.CENTRAL_EVENT_BUS_DEFAULTS.busName, archiveRetentionDays: d.CENTRAL_EVENT_BUS_DEFAULTS.archiveRetentionDays, heartbeatMinutes: d.CENTRAL_EVENT_BUS_DEFAULTS.heartbeatMinutes, maxPatternChars: d.CENTRAL_EVENT_BUS_DEFAULTS.maxPatternChars });
    expect(c.forwarder).to.include(d.STACK_SET_DEFAULTS);
    expect(c.orgTrail).to.include({ name: d.ORG_TRAIL_DEFAULTS.trailName, bucketExpirationDays: 365, noncurrentVersionExpirationDays: 90, logRetentionDays: 365, silenceMinutes: 60, insights: false });
    expect(c.guardDuty).to.deep.include({ ...d.GUARD_DUTY_DEFAULTS });
    expect(c.configAggregation).to.include({ ...d.CONFIG_AGGREGATION_DEFAULTS });
  });
});
