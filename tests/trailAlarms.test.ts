/**
 * The org trail's metric filter rows against real CloudTrail records (samples/cloudtrail: Stratus Red Team
 * detonations and Panther fixtures), with a small evaluator of the CloudWatch Logs JSON filter syntax
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
 *
 * Each row's pattern must agree, on every one of the 776 records, with a plain statement of what the row is for
 * (the oracle below, written from the CIS/Security Hub control text, not from the pattern), and must match at least
 * one real record and reject at least one near miss.
 */
import { expect } from "chai";
import { FilterSyntaxError, MAX_PATTERN_LENGTH, matchesFilter, parseFilterPattern } from "../functions/logFilter";
import { BUILTIN_ROWS, BUILTIN_ROW_IDS, alarmRows, elevatedRoleRow } from "../functions/trailAlarms";
import { allRecords, type SourcedRecord } from "./sharedData";

type Rec = Record<string, any>;
const is = (r: Rec, source: string, names: string[]) => r.eventSource === source && names.includes(r.eventName);

/** What each built-in row is for, in plain code. */
const ORACLE: Record<string, (r: Rec) => boolean> = {
  "root-account-usage": (r) => r.userIdentity?.type === "Root" && r.userIdentity?.invokedBy === undefined && r.eventType !== "AwsServiceEvent",
  "unauthorized-api-calls": (r) =>
    typeof r.errorCode === "string" &&
    (r.errorCode.endsWith("UnauthorizedOperation") || r.errorCode.startsWith("AccessDenied")) &&
    typeof r.sourceIPAddress === "string" &&
    r.sourceIPAddress !== "delivery.logs.amazonaws.com" &&
    r.eventName !== "HeadBucket",
  "console-signin-without-mfa": (r) =>
    r.eventName === "ConsoleLogin" &&
    typeof r.additionalEventData?.MFAUsed === "string" &&
    r.additionalEventData.MFAUsed !== "Yes" &&
    r.userIdentity?.type === "IAMUser" &&
    r.responseElements?.ConsoleLogin === "Success",
  "iam-policy-changes": (r) =>
    r.eventSource === "iam.amazonaws.com" && /^(Delete|Put)(Group|Role|User)Policy$|^(Create|Delete)Policy(Version)?$|^SetDefaultPolicyVersion$|^(Attach|Detach)(Role|User|Group)Policy$/.test(r.eventName),
  "cloudtrail-changes": (r) => is(r, "cloudtrail.amazonaws.com", ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging", "PutEventSelectors"]),
  "console-authentication-failures": (r) => r.eventName === "ConsoleLogin" && r.errorMessage === "Failed authentication",
  "cmk-disabled-or-deleted": (r) => is(r, "kms.amazonaws.com", ["DisableKey", "ScheduleKeyDeletion"]),
  "s3-bucket-policy-changes": (r) => r.eventSource === "s3.amazonaws.com" && /^(Put|Delete)Bucket(Policy|Cors|Lifecycle|Replication)$|^PutBucketAcl$/.test(r.eventName),
  "config-changes": (r) => is(r, "config.amazonaws.com", ["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"]),
  "security-group-changes": (r) =>
    r.eventSource === "ec2.amazonaws.com" && /^(Authorize|Revoke)SecurityGroup(Ingress|Egress)$|^ModifySecurityGroupRules$|^(Create|Delete)SecurityGroup$/.test(r.eventName),
  "nacl-changes": (r) => r.eventSource === "ec2.amazonaws.com" && /^(Create|Delete)NetworkAcl(Entry)?$|^ReplaceNetworkAcl(Entry|Association)$/.test(r.eventName),
  "network-gateway-changes": (r) => r.eventSource === "ec2.amazonaws.com" && /^(Create|Delete)CustomerGateway$|^(Attach|Create|Delete|Detach)InternetGateway$/.test(r.eventName),
  "route-table-changes": (r) =>
    r.eventSource === "ec2.amazonaws.com" && /^(Create|Replace|Delete)Route$|^(Create|Delete)RouteTable$|^ReplaceRouteTableAssociation$|^DisassociateRouteTable$/.test(r.eventName),
  "vpc-changes": (r) =>
    r.eventSource === "ec2.amazonaws.com" &&
    /^(Create|Delete)Vpc$|^ModifyVpcAttribute$|^(Accept|Create|Delete|Reject)VpcPeeringConnection$|^(Attach|Detach)ClassicLinkVpc$|^(Disable|Enable)VpcClassicLink$/.test(r.eventName),
  "organizations-changes": (r) =>
    r.eventSource === "organizations.amazonaws.com" &&
    /^(Accept|Decline)Handshake$|^(Attach|Detach|Create|Delete|Update)Policy$|^CreateAccount$|^(Create|Delete|Update)OrganizationalUnit$|^DeleteOrganization$|^(Disable|Enable)PolicyType$|^InviteAccountToOrganization$|^LeaveOrganization$|^MoveAccount$|^RemoveAccountFromOrganization$/.test(
      r.eventName,
    ),
};

/** Near misses built from real records: each must not match its row. */
const NEAR_MISSES: Record<string, (records: Rec[]) => Rec> = {
  "root-account-usage": (rs) => ({ ...find(rs, (r) => r.userIdentity?.type === "Root"), userIdentity: { type: "Root", invokedBy: "cloudformation.amazonaws.com" } }),
  "unauthorized-api-calls": (rs) => ({ ...find(rs, (r) => r.errorCode === "AccessDenied"), eventName: "HeadBucket" }),
  "console-signin-without-mfa": (rs) => ({ ...find(rs, (r) => r.eventName === "ConsoleLogin" && r.additionalEventData?.MFAUsed === "No"), userIdentity: { type: "AssumedRole" } }),
  "iam-policy-changes": () => ({ eventSource: "organizations.amazonaws.com", eventName: "CreatePolicy" }),
  "cloudtrail-changes": () => ({ eventSource: "cloudtrail.amazonaws.com", eventName: "DescribeTrails" }),
  "console-authentication-failures": (rs) => find(rs, (r) => r.eventName === "ConsoleLogin" && r.responseElements?.ConsoleLogin === "Success"),
  "cmk-disabled-or-deleted": (rs) => find(rs, (r) => r.eventSource === "kms.amazonaws.com" && r.eventName === "PutKeyPolicy"),
  "s3-bucket-policy-changes": (rs) => find(rs, (r) => r.eventName === "PutBucketVersioning"),
  "config-changes": () => ({ eventSource: "config.amazonaws.com", eventName: "DescribeConfigurationRecorders" }),
  "security-group-changes": (rs) => find(rs, (r) => r.eventName === "DescribeSecurityGroups"),
  "nacl-changes": (rs) => find(rs, (r) => r.eventName === "DescribeNetworkAcls"),
  "network-gateway-changes": () => ({ eventSource: "ec2.amazonaws.com", eventName: "DescribeInternetGateways" }),
  "route-table-changes": (rs) => find(rs, (r) => r.eventName === "DescribeRouteTables"),
  "vpc-changes": (rs) => find(rs, (r) => r.eventName === "DescribeVpcs"),
  "organizations-changes": (rs) => find(rs, (r) => r.eventSource === "organizations.amazonaws.com" && r.eventName === "DescribeAccount"),
};

function find(records: Rec[], f: (r: Rec) => boolean): Rec {
  const r = records.find(f);
  if (!r) throw new Error("no real record for this near miss");
  return r;
}

describe("CloudWatch Logs JSON filter evaluator", () => {
  const m = (pattern: string, event: unknown) => matchesFilter(parseFilterPattern(pattern), event);

  it("compares strings with and without quotes, and * as a wildcard anywhere", () => {
    expect(m("{ $.eventName = CreateTrail }", { eventName: "CreateTrail" })).to.equal(true);
    expect(m('{ $.eventName = "CreateTrail" }', { eventName: "CreateTrails" })).to.equal(false);
    expect(m('{ $.errorCode = "*UnauthorizedOperation" }', { errorCode: "Client.UnauthorizedOperation" })).to.equal(true);
    expect(m('{ $.arn = "*:assumed-role/Admin/*" }', { arn: "arn:aws:sts::1:assumed-role/Admin/alice" })).to.equal(true);
    expect(m('{ $.arn = "*:assumed-role/Admin/*" }', { arn: "arn:aws:sts::1:assumed-role/AdminX/alice" })).to.equal(false);
  });

  it("treats a missing field as no match for every comparison, and NOT EXISTS as its test", () => {
    expect(m('{ $.a != "x" }', {})).to.equal(false);
    expect(m('{ $.a != "x" }', { a: "y" })).to.equal(true);
    expect(m("{ $.a.b NOT EXISTS }", { a: {} })).to.equal(true);
    expect(m("{ $.a.b NOT EXISTS }", { a: { b: null } })).to.equal(false);
    expect(m("{ $.a.b IS NULL }", { a: { b: null } })).to.equal(true);
    expect(m("{ $.ok IS TRUE }", { ok: true })).to.equal(true);
    expect(m("{ $.ok IS FALSE }", { ok: true })).to.equal(false);
  });

  it("compares numbers and indexes arrays", () => {
    expect(m("{ $.severity >= 7 }", { severity: 7.0 })).to.equal(true);
    expect(m("{ $.severity >= 7 }", { severity: 6.9 })).to.equal(false);
    expect(m("{ $.severity >= 7 }", { severity: "8" })).to.equal(false);
    expect(m('{ $.resources[1].type = "AWS::S3::Object" }', { resources: [{ type: "x" }, { type: "AWS::S3::Object" }] })).to.equal(true);
  });

  it("binds && tighter than || and honours parentheses", () => {
    const e = { a: "1", b: "0", c: "0" };
    expect(m('{ $.a = "1" || $.b = "1" && $.c = "1" }', e)).to.equal(true);
    expect(m('{ ($.a = "1" || $.b = "1") && $.c = "1" }', e)).to.equal(false);
  });

  it("rejects malformed patterns naming the column and what was expected", () => {
    const err = (p: string) => {
      try {
        parseFilterPattern(p);
      } catch (e) {
        expect(e).to.be.instanceOf(FilterSyntaxError);
        return (e as Error).message;
      }
      throw new Error(`"${p}" parsed`);
    };
    expect(err('{ $.eventName = "x" ')).to.match(/expected '}', '&&' or '\|\|', found the end at column 21/);
    expect(err('{ eventName = "x" }')).to.match(/expected a selector starting with \$.* at column 3/);
    expect(err("{ $.a > abc }")).to.match(/expected a number after >/);
    expect(err('$.a = "x"')).to.match(/expected '\{'/);
    expect(err(`{ $.a = "${"x".repeat(MAX_PATTERN_LENGTH)}" }`)).to.match(/at most 1024 characters/);
  });
});

describe("org trail alarm rows on real CloudTrail records", () => {
  const sourced: SourcedRecord[] = allRecords();
  const records = sourced.map((s) => s.record as unknown as Rec);

  it("cover the CIS monitoring controls, each pattern valid and within CloudWatch's length limit", () => {
    expect(BUILTIN_ROW_IDS).to.have.members(Object.keys(ORACLE));
    for (const row of BUILTIN_ROWS) {
      expect(row.pattern.length, row.id).to.be.at.most(MAX_PATTERN_LENGTH);
      expect(() => parseFilterPattern(row.pattern), row.id).not.to.throw();
      expect(row.docLink, row.id).to.match(/^https:\/\//);
    }
  });

  for (const row of BUILTIN_ROWS) {
    it(`${row.id}: agrees with its intent on all ${776} records, matches real ones, rejects a near miss`, () => {
      const ast = parseFilterPattern(row.pattern);
      const disagreements = sourced.filter((s) => matchesFilter(ast, s.record) !== ORACLE[row.id](s.record as unknown as Rec));
      expect(disagreements.map((d) => d.origin), "records where the pattern and the intent disagree").to.deep.equal([]);
      const hits = sourced.filter((s) => matchesFilter(ast, s.record));
      expect(hits.length, `${row.id} matches no real record`).to.be.greaterThan(0);
      expect(matchesFilter(ast, NEAR_MISSES[row.id](records)), "near miss matched").to.equal(false);
    });
  }

  it("unauthorized-api-calls applies its exclusions to UnauthorizedOperation too (CIS's unbracketed pattern does not)", () => {
    const ast = parseFilterPattern(BUILTIN_ROWS.find((r) => r.id === "unauthorized-api-calls")!.pattern);
    const real = find(records, (r) => r.errorCode === "Client.UnauthorizedOperation" || r.errorCode === "UnauthorizedOperation");
    expect(matchesFilter(ast, real)).to.equal(true);
    expect(matchesFilter(ast, { ...real, sourceIPAddress: "delivery.logs.amazonaws.com" })).to.equal(false);
    const cis = parseFilterPattern(
      '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") }',
    );
    expect(matchesFilter(cis, { ...real, sourceIPAddress: "delivery.logs.amazonaws.com" })).to.equal(true);
  });

  describe("elevated-role-assumed", () => {
    const row = elevatedRoleRow(["FullAdminRole", "AWSReservedSSO_DevAdmin_*"]);
    const ast = parseFilterPattern(row.pattern);

    it("matches STS AssumeRole naming a listed role, and Identity Center console sign-in into a listed role", () => {
      const hits = sourced.filter((s) => matchesFilter(ast, s.record)).map((s) => s.origin);
      expect(hits.some((o) => o.includes("aws_iam_assume_role_blocklist") && o.includes("IAM Bloc"))).to.equal(true);
      // Panther's Identity Center console sign-in (signin.amazonaws.com AssumeRole as AWSReservedSSO_DevAdmin_...).
      expect(hits.some((o) => o.startsWith("panther:58 "))).to.equal(true);
      for (const s of sourced.filter((x) => matchesFilter(ast, x.record))) {
        const r = s.record as unknown as Rec;
        const named = String(r.requestParameters?.roleArn ?? "") + " " + String(r.userIdentity?.arn ?? "");
        expect(named, s.origin).to.match(/role\/FullAdminRole|assumed-role\/AWSReservedSSO_DevAdmin_[^/]+\//);
      }
    });

    it("does not match other roles, or a role whose name only starts like a listed one", () => {
      const other = find(records, (r) => r.requestParameters?.roleArn === "arn:aws:iam::123456789012:role/example-role");
      expect(matchesFilter(ast, other)).to.equal(false);
      expect(matchesFilter(ast, { ...other, requestParameters: { roleArn: "arn:aws:iam::123456789012:role/FullAdminRoleX" } })).to.equal(false);
      expect(matchesFilter(ast, { ...other, requestParameters: { roleArn: "arn:aws:iam::123456789012:role/team/FullAdminRole" } })).to.equal(true);
    });

    it("matches a console SwitchRole into a listed role (event shape from the AWS sign-in event reference)", () => {
      // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
      const switchRole = {
        eventVersion: "1.08",
        userIdentity: {
          type: "AssumedRole",
          principalId: "AROAEXAMPLEID:alice",
          arn: "arn:aws:sts::123456789012:assumed-role/FullAdminRole/alice",
          accountId: "123456789012",
        },
        eventTime: "2026-11-20T10:00:00Z",
        eventSource: "signin.amazonaws.com",
        eventName: "SwitchRole",
        awsRegion: "us-east-1",
        sourceIPAddress: "192.0.2.10",
        requestParameters: null,
        responseElements: { SwitchRole: "Success" },
        additionalEventData: { SwitchFrom: "arn:aws:iam::123456789012:user/alice", RedirectTo: "https://console.aws.amazon.com/" },
        eventType: "AwsConsoleSignIn",
        recipientAccountId: "123456789012",
      };
      expect(matchesFilter(ast, switchRole)).to.equal(true);
      expect(matchesFilter(ast, { ...switchRole, userIdentity: { ...switchRole.userIdentity, arn: "arn:aws:sts::123456789012:assumed-role/ReadOnly/alice" } })).to.equal(false);
    });
  });

  it("alarmRows: built-ins minus the disabled ones, the elevated row only when roles are named, custom rows last", () => {
    const custom = { id: "mine", title: "Mine", pattern: '{ $.eventName = "X" }', description: "d", docLink: "" };
    const rows = alarmRows({ disabled: ["vpc-changes"], elevatedRoles: [], custom: [custom] });
    expect(rows.map((r) => r.id)).to.deep.equal([...BUILTIN_ROW_IDS.filter((id) => id !== "vpc-changes"), "mine"]);
    const withRoles = alarmRows({ disabled: [], elevatedRoles: ["Admin"], custom: [] });
    expect(withRoles.map((r) => r.id).slice(-1)).to.deep.equal(["elevated-role-assumed"]);
    expect(alarmRows({ disabled: ["elevated-role-assumed"], elevatedRoles: ["Admin"], custom: [] }).map((r) => r.id)).not.to.include("elevated-role-assumed");
  });
});
