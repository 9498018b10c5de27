/**
 * Every deny form AWS emits, classified right (issue 18, item 1), and the deny path never throwing on what real
 * CloudTrail holds (issue 19: unknown services, Object.prototype names, long messages). The records are real Stratus
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
