/** The deny advisor as `npm run plan` declares it for prod: what a reviewer checks in the preview. */
import { expect } from "chai";
import { prodPlan, one, json, ofType } from "./planFixture";
import { denyPattern, roleChangePattern } from "../functions/patterns";

describe("DenyAdvisor in the prod plan", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();
  const key = () => one(plan(), "aws:kms/key:Key", "central-key").inputs;

  it("forwards the deny stream with read-only calls included, to an encrypted queue with a DLQ", () => {
    const rule = one(plan(), "aws:cloudwatch/eventRule:EventRule", "deny-advisor-denies-rule").inputs;
    expect(rule.state).to.equal("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
    expect(json(rule.eventPattern)).to.deep.equal({ source: [{ prefix: "aws." }], ...denyPattern });
    const queue = one(plan(), "aws:sqs/queue:Queue", "deny-advisor-denies-queue").inputs;
    expect(queue.kmsMasterKeyId).to.be.a("string").and.not.equal("");
    const redrive = json(queue.redrivePolicy);
    expect(redrive.maxReceiveCount).to.equal(5);
    expect(redrive.deadLetterTargetArn).to.match(/:deny-advisor-denies-dlq/);
    // SQS wants the visibility timeout at least six times the function timeout for a Lambda source.
    const fn = one(plan(), "aws:lambda/function:Function", "deny-advisor-processor").inputs;
    expect(queue.visibilityTimeoutSeconds).to.be.at.least(6 * fn.timeout);
    const target = one(plan(), "aws:cloudwatch/eventTarget:EventTarget", "deny-advisor-denies-target").inputs;
    expect(target.deadLetterConfig.arn).to.match(/^arn:aws:sqs:/);
    expect(target.retryPolicy.maximumRetryAttempts).to.be.greaterThan(0);
  });

  it("reads the queue in batches with partial batch failure", () => {
    const esm = one(plan(), "aws:lambda/eventSourceMapping:EventSourceMapping", "deny-advisor-processor-source").inputs;
    expect(esm.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);
    expect(esm.batchSize).to.equal(100);
    expect(esm.maximumBatchingWindowInSeconds).to.equal(60);
    expect(esm.eventSourceArn).to.match(/:deny-advisor-denies-queue/);
  });

  it("keeps findings and roles in KMS-encrypted tables, findings with a TTL", () => {
    const findings = one(plan(), "aws:dynamodb/table:Table", "deny-advisor-findings").inputs;
    const roles = one(plan(), "aws:dynamodb/table:Table", "deny-advisor-roles").inputs;
    for (const t of [findings, roles]) {
      expect(t.serverSideEncryption.enabled).to.equal(true);
      expect(t.serverSideEncryption.kmsKeyArn).to.match(/^arn:aws:kms:eu-west-1:444455556666:key\//);
      expect(t.pointInTimeRecovery.enabled).to.equal(true);
    }
    expect(findings.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
    expect(findings.hashKey).to.equal("pk");
    expect(roles.hashKey).to.equal("roleArn");
    expect(key().enableKeyRotation).to.equal(true);
  });

  it("gives the processor only its queue, its table writes, role reads, the key, the Slack secret (owner emails), the outbox and the decode spokes", () => {
    const doc = json(one(plan(), "aws:iam/rolePolicy:RolePolicy", "deny-advisor-processor-policy").inputs.policy);
    const grants = Object.fromEntries(doc.Statement.map((s: any) => [s.Sid, { actions: s.Action, resources: s.Resource }]));
    expect(Object.keys(grants).sort()).to.deep.equal(["AccountNames", "AssumeDecodeSpokes", "BusKey", "Findings", "OwnLogsOnly", "ReceiveDenies", "RoleOwners", "SlackOutbox", "SlackOutboxKey", "SlackToken"]);
    // Account names for the digest: ListAccounts is wildcard-only (tests/accountDirectoryPlan.test.ts), the one "*".
    expect(grants.AccountNames).to.deep.equal({ actions: "organizations:ListAccounts", resources: "*" });
    // The decode spoke in any account, of this organization only (denyDecode.test.ts checks the spokes).
    expect(doc.Statement.find((s: any) => s.Sid === "AssumeDecodeSpokes").Condition).to.deep.equal({ StringEquals: { "aws:ResourceOrgID": "o-7k2mq9x4ab" } });
    expect(grants.Findings.actions).to.deep.equal(["dynamodb:UpdateItem"]);
    expect(grants.RoleOwners.actions).to.deep.equal(["dynamodb:GetItem"]);
    // Digests go through the Slack outbox: SendMessage on its FIFO queue only (the poster holds the token).
    expect(grants.SlackOutbox.actions).to.deep.equal(["sqs:SendMessage"]);
    expect(grants.SlackOutbox.resources).to.have.length(1);
    expect(grants.SlackOutbox.resources[0]).to.match(/^arn:aws:sqs:eu-west-1:444455556666:trailwatch-prod-slack-outbox\.fifo$/);
    for (const s of doc.Statement.filter((x: any) => x.Sid !== "AccountNames")) {
      expect(s.Effect).to.equal("Allow");
      for (const r of [].concat(s.Resource)) expect(r, s.Sid).to.not.equal("*");
      for (const a of [].concat(s.Action) as string[]) expect(a, s.Sid).to.not.match(/\*/);
    }
  });

  it("keeps the role inventory from the role-change stream, with write access to that table only", () => {
    const rule = one(plan(), "aws:cloudwatch/eventRule:EventRule", "deny-advisor-role-changes-rule").inputs;
    expect(json(rule.eventPattern)).to.deep.equal(roleChangePattern);
    const doc = json(one(plan(), "aws:iam/rolePolicy:RolePolicy", "deny-advisor-roles-policy").inputs.policy);
    const actions = doc.Statement.flatMap((s: any) => [].concat(s.Action));
    expect(actions.sort()).to.deep.equal(["dynamodb:UpdateItem", "kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents"]);
    const env = one(plan(), "aws:lambda/function:Function", "deny-advisor-roles").inputs.environment.variables;
    expect(env.OWNER_TAG_KEY).to.equal("owner");
  });

  it("never puts the Slack token in a function's environment or code", () => {
    for (const f of ofType(plan(), "aws:lambda/function:Function")) {
      const env = JSON.stringify(f.inputs.environment ?? {});
      expect(env, f.name).to.not.match(/xox[bp]-/);
      expect(env, f.name).to.not.contain("[secret]");
    }
  });
});
