/**
 * One rendered example per Slack message type, built by the real builders from fixed inputs (some hostile, so the
 * page shows what escaping looks like). tests/slackExamples.test.ts checks docs/slack-messages.md is this output;
 * `UPDATE_SLACK_DOCS=1 npx mocha tests/slackExamples.test.ts` rewrites it.
 */
import { buildDenyDigest } from "../functions/deny/digest";
import { slackDigest } from "../functions/changeFeed/formats";
import { toChangeRecord } from "../functions/changeFeed/normalize";
import { reviewMessage } from "../functions/sg/revert/messages";
import type { ReviewItem } from "../functions/sg/revert/state";
import { alertMessage, digestMessage, openingMessage, type RolloutWindow } from "../functions/scp/watch";
import { findingMessage, fromConfigComplianceEvent, fromGuardDutyEvent } from "../functions/findings/messages";
import type { CloudTrailRecord } from "../functions/cloudtrail";
import { guardDutyEvent } from "./fixtures/guardDutyFinding";

const NAMES = { "210987654321": "payments-prod", "333344445555": "data-prod" };
const ROLE = "arn:aws:iam::210987654321:role/ci/ci-deployer";

/** mrkdwn as a reader sees it, roughly: dates show their fallback, links their label, entities their character. */
export function readable(mrkdwn: string): string {
  return mrkdwn
    .replace(/<!date\^\d+\^[^|]*\|([^>]*)>/g, "$1")
    .replace(/<(https:[^|>]*)\|([^>]*)>/g, "[$2]")
    .replace(/<@([A-Z0-9]+)>/g, "@$1")
    .replace(/<!subteam\^([A-Z0-9]+)>/g, "@$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function render(title: string, m: { text: string; blocks: object[] }): string {
  const lines: string[] = [];
  for (const b of m.blocks as any[]) {
    if (b.type === "header") lines.push(`# ${b.text.text}`);
    else if (b.type === "divider") lines.push("---");
    else if (b.type === "section") {
      if (b.text) lines.push(readable(b.text.text));
      if (b.fields) lines.push(b.fields.map((f: any) => readable(f.text).replace(/\n/g, " ")).map((f: string) => `| ${f}`).join("\n"));
    } else if (b.type === "context") lines.push(b.elements.map((e: any) => `> ${readable(e.text ?? "")}`).join("\n"));
    else if (b.type === "actions") lines.push(b.elements.map((e: any) => `[ ${e.text.text} ]`).join(" "));
  }
  return [`## ${title}`, "", `Notification text: ${readable(m.text)}`, "", "````text", ...lines, "````", "", "<details><summary>Block Kit JSON</summary>", "", "```json", JSON.stringify(m, null, 1), "```", "", "</details>", ""].join("\n");
}

function sgItems(state: ReviewItem["state"], extra: Partial<ReviewItem> = {}): ReviewItem[] {
  const change = {
    eventId: "0f1e2d3c-0000-4000-8000-000000000001",
    eventTime: "2026-11-20T10:00:00Z",
    eventName: "AuthorizeSecurityGroupIngress",
    accountId: "210987654321",
    region: "eu-west-1",
    principalArn: "arn:aws:sts::210987654321:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
    groupId: "sg-0123456789abcdef0",
    direction: "ingress" as const,
    rules: [],
  };
  const rules = [
    { ruleId: "sgr-0aaa1111bbbb2222c", protocol: "tcp", fromPort: 22, toPort: 22, source: "0.0.0.0/0", openToWorld: true, direction: "ingress" as const, description: "temp <!channel> debug" },
    { ruleId: "sgr-0ddd3333eeee4444f", protocol: "tcp", fromPort: 443, toPort: 443, source: "10.0.0.0/8", openToWorld: false, direction: "ingress" as const, description: null },
  ];
  return rules.map((rule) => ({
    ruleId: rule.ruleId!,
    state,
    changeId: change.eventId,
    ruleIds: rules.map((r) => r.ruleId!),
    groupId: change.groupId,
    accountId: change.accountId,
    region: change.region,
    direction: "ingress",
    rule,
    change,
    risk: { level: "critical", reasons: ["SSH open to the world"] },
    expiresAt: 1795255200,
    ...extra,
  }));
}

const WINDOW: RolloutWindow = {
  policyId: "p-examplescp1",
  openedAt: "2026-11-20T10:00:00Z",
  closesAt: "2026-11-20T11:00:00Z",
  change: { policyId: "p-examplescp1", change: "attached", targetId: "ou-8x1f-abcd1234", who: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice", eventTime: "2026-11-20T10:00:00Z", eventId: "evt-1", policyName: "deny-leave-org" },
  threshold: 25,
};

function stopLogging(): CloudTrailRecord {
  return {
    eventVersion: "1.09", eventID: "3b5c7d9e-0000-4000-8000-000000000002", eventTime: "2026-11-20T10:04:00Z", eventSource: "cloudtrail.amazonaws.com", eventName: "StopLogging", awsRegion: "eu-west-1",
    recipientAccountId: "210987654321", sourceIPAddress: "203.0.113.9", userAgent: "aws-cli/2.15.0",
    userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::210987654321:assumed-role/ops/bob", accountId: "210987654321", sessionContext: { sessionIssuer: { type: "Role", arn: "arn:aws:iam::210987654321:role/ops", userName: "ops" } } },
    requestParameters: { name: "arn:aws:cloudtrail:eu-west-1:210987654321:trail/org-trail" }, responseElements: null,
  } as unknown as CloudTrailRecord;
}

export function renderSlackExamples(): string {
  const deny = buildDenyDigest(
    [
      {
        finding: { principalArn: ROLE, action: "ssm:GetParameter", resource: "arn:aws:ssm:eu-west-1:210987654321:parameter/app/db-url", accountId: "210987654321", cause: "identity-based-policy", explicit: false, policyArn: null, suggestion: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: ["arn:aws:ssm:eu-west-1:210987654321:parameter/app/db-url"] }] }, permissionSet: null, eventId: "9a8b7c6d-0000-4000-8000-000000000003", region: "eu-west-1" } as any,
        count: 4,
        firstSeen: "2026-11-20T09:58:00Z",
        owner: "U02ALICE001",
      },
      {
        finding: { principalArn: "arn:aws:iam::333344445555:role/<!channel>/etl", action: "s3:PutObject", resource: "arn:aws:s3:::data-lake/raw/x", accountId: "333344445555", cause: "service-control-policy", explicit: true, policyArn: null, suggestion: null, whyNot: "an SCP denies it: an Allow on the role will not fix it; ask the owner of the SCP", eventId: "9a8b7c6d-0000-4000-8000-000000000004", region: "eu-west-1" } as any,
        count: 1,
        firstSeen: "2026-11-20T10:01:00Z",
        owner: "<@U0ATTACKER>",
      },
    ],
    { accountNames: NAMES, mentionable: ["U02ALICE001"] },
  );
  const env = { accounts: { "210987654321": { environment: "prod", owner: "platform" } }, defaultEnvironment: "dev" };
  const changes = slackDigest([toChangeRecord(stopLogging(), env as any)], "prod", { outsideIacOnly: true, accountNames: NAMES });
  const pending = reviewMessage(sgItems("PENDING"), { accountNames: NAMES });
  const reverted = reviewMessage(sgItems("REVERTED", { decidedBy: "trailwatch (auto-revert)", decidedAt: "2026-11-20T10:00:05Z", result: "revoked at 2026-11-20T10:00:07Z" }), { accountNames: NAMES });
  const counts = { byAccountAction: { "210987654321|organizations:LeaveOrganization": 21, "333344445555|s3:PutObject": 6 }, samplePrincipals: ["arn:aws:iam::210987654321:role/ci/ci-deployer"] };
  const gd = guardDutyEvent(8.2, { count: 3 }) as any;
  gd.detail.service.action = { actionType: "AWS_API_CALL", awsApiCallAction: { api: "GetSecretValue", serviceName: "secretsmanager.amazonaws.com", userAgent: "aws-cli/2.15.0", remoteIpDetails: { ipAddressV4: "198.51.100.7", country: { countryName: "Netherlands" } } } };
  const cfg = fromConfigComplianceEvent({
    source: "aws.config", "detail-type": "Config Rules Compliance Change", account: "210987654321", region: "eu-west-1",
    detail: { resourceId: "sg-0123456789abcdef0", awsRegion: "eu-west-1", awsAccountId: "210987654321", configRuleName: "restricted-ssh", resourceType: "AWS::EC2::SecurityGroup", newEvaluationResult: { complianceType: "NON_COMPLIANT", annotation: "Port 22 open to 0.0.0.0/0" } },
  })!;
  return [
    "# Slack messages",
    "",
    "One example of each message trailwatch posts, generated from the builders (`tests/slackExamples.ts`; the test",
    "`tests/slackExamples.test.ts` fails when this page and the builders disagree). The text block shows roughly what a",
    "reader sees (dates as their UTC fallback; Slack shows each reader's local time); the JSON is what is posted. Every",
    "value from an event is escaped (`<!channel>` in a role path stays text), cut to Block Kit's limits with",
    "\"… and N more\", and mentions come only from Slack ids (approvers, clicks) or allow-listed owner tags.",
    "",
    render("Deny digest (deny advisor)", deny),
    render("Change digest (change feed)", changes),
    render("Security-group review, waiting for a decision", pending),
    render("Security-group review, auto-reverted", reverted),
    render("SCP rollout watch: window opened", openingMessage(WINDOW, { accountNames: NAMES })),
    render("SCP rollout watch: digest", digestMessage(WINDOW, counts, 20, new Date("2026-11-20T10:30:00Z"), { accountNames: NAMES })),
    render("SCP rollout watch: threshold alert", alertMessage(WINDOW, 27, { rollback: true, accountNames: NAMES, counts })),
    render("GuardDuty finding", findingMessage(fromGuardDutyEvent(gd)!, NAMES)),
    render("AWS Config non-compliance", findingMessage(cfg, NAMES)),
  ].join("\n");
}
