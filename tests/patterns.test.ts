import { expect } from "chai";
import { matchesPattern, validatePattern } from "../functions/eventPattern";
import * as patterns from "../functions/patterns";
import { toEnvelope, type CloudTrailRecord } from "../functions/cloudtrail";
import { allRecords } from "./sharedData";

const isDeny = (c?: string) => !!c && (/^AccessDenied/.test(c) || /UnauthorizedOperation$/.test(c) || c === "AuthorizationError" || c === "VpceAccessDenied");

/** A real deny record (Stratus, ec2-get-password-data) with its message replaced: SCP/RCP messages exist in no public
 * data set, so these are built from AWS's message catalogue (troubleshoot_access-denied.md) and current message tails. */
function withMessage(message: string): CloudTrailRecord {
  const base = allRecords().find((r) => r.record.errorCode === "AccessDenied")!.record;
  return { ...base, errorMessage: message };
}

describe("event patterns on real CloudTrail data", () => {
  const all = allRecords();

  it("are valid patterns: every fixed pattern of the registry and every forwarded stream", () => {
    expect(Object.keys(patterns.PATTERNS)).to.have.length.greaterThan(10);
    for (const [name, p] of Object.entries(patterns.PATTERNS)) expect(validatePattern(p), name).to.deep.equal([]);
    for (const s of patterns.forwardedStreams({ changes: true })) expect(validatePattern(s.pattern), s.ruleName).to.deep.equal([]);
  });

  it("denyPattern matches every deny in the Stratus and Panther data and no other record", () => {
    const matched = all.filter((r) => matchesPattern(patterns.denyPattern, toEnvelope(r.record)));
    const expected = all.filter((r) => isDeny(r.record.errorCode));
    expect(expected.length).to.equal(89);
    expect(matched.map((r) => r.origin)).to.deep.equal(expected.map((r) => r.origin));
    for (const r of all.filter((x) => !x.record.errorCode)) expect(matchesPattern(patterns.denyPattern, toEnvelope(r.record)), r.origin).to.equal(false);
  });

  it("securityGroupChangePattern matches the real successful AuthorizeSecurityGroupIngress, no failed call", () => {
    const matched = all.filter((r) => matchesPattern(patterns.securityGroupChangePattern, toEnvelope(r.record)));
    expect(matched.map((r) => r.origin)).to.include("stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json[0]");
    for (const r of matched) {
      expect(r.record.errorCode, r.origin).to.equal(undefined);
      expect(["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "ModifySecurityGroupRules"]).to.include(r.record.eventName);
    }
    const failed = all.filter((r) => r.record.eventName?.startsWith("AuthorizeSecurityGroup") && r.record.errorCode);
    for (const r of failed) expect(matchesPattern(patterns.securityGroupChangePattern, toEnvelope(r.record)), r.origin).to.equal(false);
  });

  it("roleChangePattern matches successful IAM role events only", () => {
    const roleEvents = all.filter((r) => r.record.eventSource === "iam.amazonaws.com" && /Role/.test(r.record.eventName ?? ""));
    const matched = all.filter((r) => matchesPattern(patterns.roleChangePattern, toEnvelope(r.record)));
    expect(matched.length).to.be.greaterThan(3);
    for (const r of matched) expect(r.record.errorCode, r.origin).to.equal(undefined);
    const names = new Set(matched.map((r) => r.record.eventName));
    expect(names.has("CreateRole")).to.equal(true);
    for (const r of roleEvents.filter((x) => x.record.eventName === "GetRole" || x.record.eventName === "ListRoles"))
      expect(matchesPattern(patterns.roleChangePattern, toEnvelope(r.record))).to.equal(false);
  });

  it("scpDenyPattern matches SCP messages with and without a policy ARN tail, and no other deny", () => {
    const scp = [
      "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy",
      "User: arn:aws:sts::111122223333:assumed-role/dev/alice is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:eu-west-1:111122223333:instance/* with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-7k2mq9x4ab/service_control_policy/p-abc12345",
      "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: s3:PutObject due to an explicit deny in a Service Control Policy",
    ];
    for (const m of scp) expect(matchesPattern(patterns.scpDenyPattern, toEnvelope(withMessage(m))), m).to.equal(true);
    const rcp = "User: arn:aws:iam::111122223333:user/x is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\" with an explicit deny in a resource control policy";
    expect(matchesPattern(patterns.rcpDenyPattern, toEnvelope(withMessage(rcp)))).to.equal(true);
    expect(matchesPattern(patterns.scpDenyPattern, toEnvelope(withMessage(rcp)))).to.equal(false);
    for (const r of all.filter((x) => isDeny(x.record.errorCode))) expect(matchesPattern(patterns.scpDenyPattern, toEnvelope(r.record)), r.origin).to.equal(false);
    const ok = { ...withMessage(scp[0]) };
    delete ok.errorCode;
    expect(matchesPattern(patterns.scpDenyPattern, toEnvelope(ok))).to.equal(false);
  });
});
