/**
 * EC2's encoded messages decoded in the account that produced them, through a per-account decode
 * spoke (ExternalId, sts:DecodeAuthorizationMessage only, deployed like the SG spokes); failures keep the undecoded
 * finding. The processor runs from the plan's archive against dynalite, Secrets Manager and Slack stubs, and an STS
 * stub (query protocol) that answers AssumeRole and DecodeAuthorizationMessage as STS does.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 */
import { expect } from "chai";
import * as http from "http";
import * as path from "path";
import { prodPlan, one, ofType, json } from "./planFixture";
import { createTable, scanAll, startDynalite, startSecretsStub, startSlackStub, useLocalAwsEnv } from "./localServices";
import { constructedRecords } from "./sharedData";
import { toEnvelope } from "../functions/cloudtrail";
import { readDecodedMessage, DECODE_SPOKE_ROLE_NAME } from "../functions/deny/decode";
import { processDenyBatch } from "../functions/deny/batch";

/** A DecodedMessage as STS returns it (fields per the API reference's description; values made up). */
function decodedDoc(explicitDeny: boolean, statementId?: string, resource = "arn:aws:ec2:eu-west-1:457448411975:instance/i-0f1e2d3c4b5a69788"): string {
  return JSON.stringify({
    allowed: false,
    explicitDeny,
    matchedStatements: { items: statementId ? [{ statementId, effect: "DENY", principals: { items: [{ value: "AROAEXAMPLE" }] }, actions: { items: [{ value: "ec2:StopInstances" }] }, resources: { items: [{ value: "*" }] }, conditions: { items: [] } }] : [] },
    failures: { items: [] },
    context: { principal: { id: "AROAEXAMPLE:s", arn: "arn:aws:sts::457448411975:assumed-role/r/s" }, action: "ec2:StopInstances", resource, conditions: { items: [] } },
  });
}

interface StsCall {
  action: string;
  params: Record<string, string>;
  authorization: string;
}

/** AssumeRole and DecodeAuthorizationMessage; `decodeFails` answers the decode with STS's 403 AccessDenied. */
async function startStsStub(state: { decoded: string; decodeFails: boolean }): Promise<{ url: string; calls: StsCall[]; close(): Promise<void> }> {
  const calls: StsCall[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      calls.push({ action: params.Action, params, authorization: String(req.headers.authorization ?? "") });
      res.setHeader("content-type", "text/xml");
      if (params.Action === "AssumeRole") {
        res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIADECODESPOKE</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:x</AssumedRoleId><Arn>${params.RoleArn}/x</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`);
      } else if (params.Action === "DecodeAuthorizationMessage" && !state.decodeFails) {
        const esc = state.decoded.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
        res.end(`<DecodeAuthorizationMessageResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><DecodeAuthorizationMessageResult><DecodedMessage>${esc}</DecodedMessage></DecodeAuthorizationMessageResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DecodeAuthorizationMessageResponse>`);
      } else {
        res.statusCode = 403;
        res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:DecodeAuthorizationMessage</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

function sqsMessage(id: string, body: unknown) {
  return { messageId: id, receiptHandle: `rh-${id}`, body: JSON.stringify(body), attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:eu-west-1:444455556666:q", awsRegion: "eu-west-1" };
}

describe("decoding encoded messages: the decoded document", () => {
  it("reads explicit/implicit, the matched statements and the context; anything else is not a decoded message", () => {
    expect(readDecodedMessage(decodedDoc(true, "DenyStop"))).to.deep.equal({ explicit: true, statements: ["DenyStop"], action: "ec2:StopInstances", resource: "arn:aws:ec2:eu-west-1:457448411975:instance/i-0f1e2d3c4b5a69788" });
    expect(readDecodedMessage(decodedDoc(false))!.explicit).to.equal(false);
    for (const bad of ["", "{", "null", '{"allowed":true,"explicitDeny":false}', '{"explicitDeny":"yes"}', 42, null]) expect(readDecodedMessage(bad), String(bad)).to.equal(null);
  });

  it("the batch keeps the undecoded finding when decoding fails, and uses the decoded one when it works", async () => {
    const record = constructedRecords()[0].record; // EC2 StopInstances, encoded-only message
    const stored: any[] = [];
    const deps = (decode: any) => ({
      store: { record: async (f: any) => (stored.push(f), { key: "k", count: 1, firstSeen: "t", suggestionHash: "h", needsNotice: false }), markNotified: async () => undefined },
      ownerOf: async () => null,
      post: async () => undefined,
      log: () => undefined,
      now: () => new Date("2026-11-20T10:00:00Z"),
      decode,
    });
    const msg = [{ messageId: "a", body: JSON.stringify(toEnvelope(record)) }];
    expect(await processDenyBatch(msg, deps(async () => decodedDoc(true, "DenyStop")))).to.deep.equal({ batchItemFailures: [] });
    expect(stored[0]).to.deep.include({ explicit: true, suggestion: null, decoded: { explicit: true, statements: ["DenyStop"] } });
    expect(stored[0].whyNot).to.match(/explicit Deny .*matched statement DenyStop/);
    for (const failure of [async () => { throw Object.assign(new Error("expired"), { name: "ExpiredTokenException" }); }, async () => "not json", async () => { throw new Error("Rate exceeded"); }]) {
      stored.length = 0;
      expect(await processDenyBatch(msg, deps(failure))).to.deep.equal({ batchItemFailures: [] });
      expect(stored[0]).to.deep.include({ explicit: null, decoded: null });
      expect(stored[0].suggestion).to.not.equal(null);
    }
  });
});

describe("decoding encoded messages: spokes and the processor from the plan", function () {
  this.timeout(180_000);

  it("deploys a decode spoke in every account like the SG spokes: StackSet to memberTargets, the management account directly", () => {
    const plan = prodPlan();
    const set = one(plan, "aws:cloudformation/stackSet:StackSet", "deny-advisor-decode-spokes").inputs;
    expect(set).to.deep.include({ permissionModel: "SERVICE_MANAGED", capabilities: ["CAPABILITY_NAMED_IAM"] });
    expect(set.autoDeployment).to.deep.equal({ enabled: true, retainStacksOnAccountRemoval: false });
    const role = json(set.templateBody).Resources.DecodeRole.Properties;
    expect(role.RoleName).to.equal(DECODE_SPOKE_ROLE_NAME);
    expect(role.Policies).to.deep.equal([{ PolicyName: "decode-authorization-messages", PolicyDocument: { Version: "2012-10-17", Statement: [{ Sid: "DecodeOnly", Effect: "Allow", Action: "sts:DecodeAuthorizationMessage", Resource: "*" }] } }]);
    expect(role.AssumeRolePolicyDocument.Statement).to.deep.equal([
      { Sid: "DenyProcessorWithExternalId", Effect: "Allow", Principal: { AWS: { Ref: "ProcessorRoleArn" } }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } } } },
    ]);
    const processorRole = one(plan, "aws:iam/role:Role", /^deny-advisor-processor/);
    expect(set.parameters.ExternalId).to.equal("trailwatch-deny-decode-o-7k2mq9x4ab");
    expect(set.parameters.ProcessorRoleArn).to.match(/^arn:aws:iam::444455556666:role\/deny-advisor-processor/);
    const inst = one(plan, "aws:cloudformation/stackInstances:StackInstances", "deny-advisor-decode-spokes-instances").inputs;
    const sg = one(plan, "aws:cloudformation/stackInstances:StackInstances", "sg-bot-spokes-instances").inputs;
    expect(inst.deploymentTargets).to.deep.equal(sg.deploymentTargets);
    expect(inst.regions).to.have.length(1);
    const mgmtRole = one(plan, "aws:iam/role:Role", "deny-advisor-decode-spokes-management");
    const sgMgmt = one(plan, "aws:iam/role:Role", "sg-bot-spoke-management");
    expect(mgmtRole.provider).to.equal(sgMgmt.provider);
    expect(mgmtRole.inputs.name).to.equal(DECODE_SPOKE_ROLE_NAME);
    expect(json(mgmtRole.inputs.assumeRolePolicy).Statement[0].Condition).to.deep.equal({ StringEquals: { "sts:ExternalId": "trailwatch-deny-decode-o-7k2mq9x4ab" } });
    expect(json(one(plan, "aws:iam/rolePolicy:RolePolicy", "deny-advisor-decode-spokes-management").inputs.policy).Statement).to.deep.equal([{ Sid: "DecodeOnly", Effect: "Allow", Action: "sts:DecodeAuthorizationMessage", Resource: "*" }]);
    // The processor may assume exactly these roles, in this organization only.
    const statements = ofType(plan, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.parent === processorRole.parent || /deny-advisor-processor/.test(p.name)).flatMap((p) => json(p.inputs.policy).Statement);
    const assume = statements.filter((s: any) => [].concat(s.Action).includes("sts:AssumeRole" as never));
    expect(assume).to.deep.equal([{ Sid: "AssumeDecodeSpokes", Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/${DECODE_SPOKE_ROLE_NAME}`, Condition: { StringEquals: { "aws:ResourceOrgID": "o-7k2mq9x4ab" } } }]);
  });

  it("the archive's processor decodes through the spoke of the deny's account, and keeps the undecoded finding when STS refuses", async () => {
    const plan = prodPlan();
    const fn = one(plan, "aws:lambda/function:Function", "deny-advisor-processor");
    const ddb = await startDynalite();
    const secrets = await startSecretsStub({ "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot": "xoxb-test-token" });
    const slack = await startSlackStub();
    const state = { decoded: decodedDoc(true, "DenyStopInProd"), decodeFails: false };
    const sts = await startStsStub(state);
    try {
      await createTable(ddb.client, "findings", "pk");
      await createTable(ddb.client, "roles", "roleArn");
      useLocalAwsEnv({ DYNAMODB: ddb.url, SECRETS_MANAGER: secrets.url, STS: sts.url });
      Object.assign(process.env, fn.inputs.environment.variables, {
        FINDINGS_TABLE: "findings",
        ROLES_TABLE: "roles",
        SLACK_BOT_TOKEN_SECRET: "arn:aws:secretsmanager:eu-west-1:444455556666:secret:test-bot",
        SLACK_API_URL: slack.apiUrl,
      });
      const dir = path.join(plan.dir, "functions", "deny-advisor-processor") + path.sep;
      for (const key of Object.keys(require.cache)) if (key.startsWith(dir)) delete require.cache[key];
      const handler = require(path.join(dir, "__index.js")).handler;
      const [stop, stopTwo] = constructedRecords().map((r) => r.record);
      expect(await handler({ Records: [sqsMessage("d1", toEnvelope(stop))] })).to.deep.equal({ batchItemFailures: [] });
      const assume = sts.calls.find((c) => c.action === "AssumeRole")!;
      expect(assume.params).to.deep.include({ RoleArn: `arn:aws:iam::${stop.recipientAccountId}:role/${DECODE_SPOKE_ROLE_NAME}`, ExternalId: "trailwatch-deny-decode-o-7k2mq9x4ab" });
      const decode = sts.calls.find((c) => c.action === "DecodeAuthorizationMessage")!;
      expect(decode.params.EncodedMessage).to.equal("T-kSWIRFn32_fxSgyNqzZ8b2aUvRw3sE4tYhJ0kLm9pXo1cVd5eGf7iHj6");
      expect(decode.authorization).to.contain("Credential=ASIADECODESPOKE/"); // with the spoke's credentials
      let rows = await scanAll(ddb.client, "findings");
      expect(rows).to.have.length(1);
      expect(rows[0].explicit).to.deep.equal({ BOOL: true });
      expect(rows[0].suggestion).to.deep.equal({ NULL: true });
      expect(rows[0].whyNot.S).to.match(/matched statement DenyStopInProd/);

      state.decodeFails = true;
      expect(await handler({ Records: [sqsMessage("d2", toEnvelope(stopTwo))] })).to.deep.equal({ batchItemFailures: [] });
      rows = await scanAll(ddb.client, "findings");
      const undecoded = rows.find((r) => r.lastEventId.S === stopTwo.eventID)!;
      expect(undecoded.explicit).to.deep.equal({ NULL: true });
      expect(JSON.parse(undecoded.suggestion.S!).Statement[0].Action).to.deep.equal(["ec2:StopInstances"]);
    } finally {
      // The archive's modules keep clients built for these stubs: later suites must load their own.
      const dir = path.join(plan.dir, "functions", "deny-advisor-processor") + path.sep;
      for (const key of Object.keys(require.cache)) if (key.startsWith(dir)) delete require.cache[key];
      delete process.env.AWS_ENDPOINT_URL_STS;
      delete process.env.DECODE_EXTERNAL_ID;
      await Promise.all([ddb.close(), secrets.close(), slack.close(), sts.close()]);
    }
  });
});
