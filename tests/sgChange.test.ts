import { expect } from "chai";
import { assessRisk, isWorldCidr, parseSecurityGroupChange, type SgChange } from "../functions/sg/change";
import { parseRoleChange, roleKey } from "../functions/roles";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import { allRecords, stratusRecords } from "./sharedData";

const real = (name: string, pred: (r: CloudTrailRecord) => boolean = () => true) =>
  allRecords().find((x) => x.record.eventName === name && pred(x.record))!.record;

describe("security-group changes", () => {
  it("reads the rule id, ports and CIDR from the real Stratus response (securityGroupRuleSet)", () => {
    const r = stratusRecords().find((x) => x.record.eventName === "AuthorizeSecurityGroupIngress")!.record;
    const c = parseSecurityGroupChange(r)!;
    expect(c).to.deep.include({ groupId: "sg-003dc7f1f1c686164", direction: "ingress", accountId: r.recipientAccountId, region: r.awsRegion });
    expect(c.rules).to.deep.equal([
      { ruleId: "sgr-09b3e3d2ca1edf2a2", protocol: "tcp", fromPort: 22, toPort: 22, source: "208.236.235.254/0", openToWorld: true, direction: "ingress", description: null },
    ]);
    // A /0 prefix is the whole internet whatever address it is written with.
    expect(assessRisk(c).level).to.equal("critical");
  });

  it("reads ipPermissions.items with string ports, and protocol -1 as all traffic", () => {
    const console443 = parseSecurityGroupChange(real("AuthorizeSecurityGroupIngress", (r) => r.requestParameters?.ipPermissions?.items?.[0]?.fromPort === "443" && !r.errorCode))!;
    expect(console443.rules).to.have.length(1);
    expect(console443.rules[0]).to.deep.include({ ruleId: null, protocol: "tcp", fromPort: 443, toPort: 443, source: "0.0.0.0/16", openToWorld: false });
    const egress = parseSecurityGroupChange(real("AuthorizeSecurityGroupEgress"))!;
    expect(egress.direction).to.equal("egress");
    expect(egress.rules[0]).to.deep.include({ protocol: "all", fromPort: null, toPort: null, source: "0.0.0.0/0", openToWorld: true });
    // Every default security group has this rule: noted, low.
    expect(assessRisk(egress).level).to.equal("low");
  });

  it("does not report failed calls as changes", () => {
    const failed = allRecords().filter((x) => /SecurityGroup(Ingress|Egress)$/.test(x.record.eventName ?? "") && x.record.errorCode);
    expect(failed.length).to.be.greaterThan(0);
    for (const f of failed) expect(parseSecurityGroupChange(f.record), f.origin).to.equal(null);
  });

  it("reads the legacy flat form and ModifySecurityGroupRules (rule ids, no direction)", () => {
    const flat = parseSecurityGroupChange({ eventSource: "ec2.amazonaws.com", eventName: "AuthorizeSecurityGroupIngress", requestParameters: { groupId: "sg-1", ipProtocol: "tcp", fromPort: "3389", toPort: "3389", cidrIp: "0.0.0.0/0" }, responseElements: { _return: true } })!;
    expect(flat.rules[0]).to.deep.include({ protocol: "tcp", fromPort: 3389, source: "0.0.0.0/0", openToWorld: true });
    expect(assessRisk(flat).reasons[0]).to.contain("RDP (3389)");
    const modify = parseSecurityGroupChange({
      eventSource: "ec2.amazonaws.com",
      eventName: "ModifySecurityGroupRules",
      requestParameters: { ModifySecurityGroupRulesRequest: { GroupId: "sg-2", SecurityGroupRule: { SecurityGroupRuleId: "sgr-0abc", SecurityGroupRule: { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, CidrIpv6: "::/0" } } } },
      responseElements: { ModifySecurityGroupRulesResponse: { return: true } },
    })!;
    expect(modify).to.deep.include({ groupId: "sg-2", direction: null });
    expect(modify.rules[0]).to.deep.include({ ruleId: "sgr-0abc", fromPort: 5432, source: "::/0", openToWorld: true, direction: null });
    expect(assessRisk(modify).level).to.equal("critical");
  });

  it("weighs ingress far above egress, and trusts the team's CIDRs", () => {
    const change = (direction: "ingress" | "egress", source: string, from = 8443): SgChange => ({
      eventId: "e", eventTime: "t", eventName: "x", accountId: "1", region: "r", principalArn: null, groupId: "sg-1", direction,
      rules: [{ ruleId: "sgr-1", protocol: "tcp", fromPort: from, toPort: from, source, openToWorld: isWorldCidr(source), direction, description: null }],
    });
    expect(assessRisk(change("ingress", "0.0.0.0/0")).level).to.equal("high");
    expect(assessRisk(change("egress", "0.0.0.0/0")).level).to.equal("low");
    expect(assessRisk(change("ingress", "203.0.113.0/24")).level).to.equal("medium");
    expect(assessRisk(change("ingress", "203.0.113.0/24"), { trustedCidrs: ["203.0.113.0/22"] }).level).to.equal("low");
    // A trusted network does not make a wider CIDR trusted.
    expect(assessRisk(change("ingress", "203.0.0.0/16"), { trustedCidrs: ["203.0.113.0/24"] }).level).to.equal("medium");
    expect(assessRisk(change("ingress", "10.20.0.0/16", 22)).level).to.equal("low");
    expect(assessRisk(change("ingress", "0.0.0.0/0", 22)).level).to.equal("critical");
  });
});

describe("role changes", () => {
  it("keeps CreateRole's ARN with its path, builds the others from roleName, skips failed calls", () => {
    const create = allRecords().find((x) => x.record.eventName === "CreateRole" && !x.record.errorCode)!.record;
    const line = parseRoleChange(create)!;
    expect(line.roleArn).to.equal(create.responseElements!.role.arn);
    const attach = allRecords().find((x) => x.record.eventName === "AttachRolePolicy" && !x.record.errorCode)!.record;
    expect(parseRoleChange(attach)!.roleArn).to.equal(`arn:aws:iam::${attach.recipientAccountId}:role/${attach.requestParameters!.roleName}`);
    expect(parseRoleChange({ ...attach, errorCode: "AccessDenied" })).to.equal(null);
  });

  it("keys the inventory on account and role name, so a pathed role, its sessions and its tag events meet", () => {
    expect(roleKey("arn:aws:iam::123456789012:role/teams/payments/deployer")).to.equal("arn:aws:iam::123456789012:role/deployer");
    expect(roleKey("arn:aws:sts::123456789012:assumed-role/deployer/session-1")).to.equal("arn:aws:iam::123456789012:role/deployer");
    expect(roleKey("arn:aws:iam::123456789012:role/deployer")).to.equal("arn:aws:iam::123456789012:role/deployer");
  });
});
