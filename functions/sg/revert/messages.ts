/**
 * The security-group review in Slack: one Block Kit message per change (who, where, what, when, a console link,
 * Approve / Deny), rewritten in place as it is decided, reverted or expires; buttons go once it is decided.
 * https://api.slack.com/reference/block-kit/blocks
 */
import type { ReviewItem, ReviewState } from "./state";
import { describePorts } from "../change";

export const APPROVE_ACTION = "sg_review_approve";
export const DENY_ACTION = "sg_review_deny";

/** Button value: which change and rules the click is about (Slack caps a value at 2000 characters). */
export interface ReviewButtonValue {
  changeId: string;
  ruleIds: string[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const RISK_ICON: Record<string, string> = { critical: ":red_circle:", high: ":large_orange_circle:", medium: ":large_yellow_circle:", low: ":white_circle:" };
const STATE_TEXT: Record<ReviewState, string> = {
  PENDING: "waiting for a decision",
  APPROVED: "approved: kept",
  DENIED: "denied: reverting",
  EXPIRED: "expired without a decision: kept",
  REVERTED: "reverted",
  REVERT_FAILED: "revert FAILED",
};

function consoleLink(i: ReviewItem): string {
  return `https://${i.region}.console.aws.amazon.com/ec2/home?region=${i.region}#SecurityGroup:groupId=${i.groupId}`;
}

function ruleLine(i: ReviewItem): string {
  const r = i.rule;
  const what = `${i.direction} ${describePorts(r)} ${i.direction === "ingress" ? "from" : "to"} ${r.source}`;
  const line = `\`${i.ruleId}\` ${esc(what)}${r.description ? ` _${esc(r.description)}_` : ""}`;
  const state = i.state === "PENDING" ? "" : ` → *${STATE_TEXT[i.state]}*${i.result ? ` (${esc(i.result)})` : ""}`;
  return `${r.openToWorld ? ":warning: *open to the world* " : ""}${line}${state}`;
}

/** The message for the items of one change (all share changeId). */
export function reviewMessage(items: ReviewItem[], opts: { accountNames?: Record<string, string>; reviewable?: boolean } = {}): { text: string; blocks: object[] } {
  const first = items[0];
  const c = first.change;
  const account = opts.accountNames?.[first.accountId] ? `${opts.accountNames[first.accountId]} (${first.accountId})` : first.accountId;
  const who = c.principalArn ?? "unknown principal";
  // principalArn is the role (sessionIssuer), so the session comes from the change (issue 18), else an assumed-role ARN.
  const session = c.sessionName ?? who.match(/:assumed-role\/[^/]+\/(.+)$/)?.[1];
  const pending = items.filter((i) => i.state === "PENDING");
  const head = `Security group ${first.groupId} changed in ${account} ${first.region}: ${first.risk.level} risk`;
  const blocks: object[] = [
    { type: "section", text: { type: "mrkdwn", text: `${RISK_ICON[first.risk.level] ?? ""} *${esc(head)}*` } },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Who*\n${esc(who)}${session ? `\nsession \`${esc(session)}\`` : ""}` },
        { type: "mrkdwn", text: `*Where*\n${esc(account)}, ${first.region}\n<${consoleLink(first)}|${first.groupId}>` },
        { type: "mrkdwn", text: `*When*\n${c.eventTime ?? "unknown"}` },
        { type: "mrkdwn", text: `*Event*\n${c.eventName}` },
      ],
    },
    { type: "section", text: { type: "mrkdwn", text: items.map(ruleLine).join("\n").slice(0, 3000) } },
  ];
  if (first.risk.reasons.length) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: esc(first.risk.reasons.join("; ")).slice(0, 3000) }] });
  const decided = items.find((i) => i.decidedBy);
  if (decided) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `Decided by <@${decided.decidedBy}> at ${decided.decidedAt}` }] });
  if (pending.length > 0 && opts.reviewable !== false) {
    const value = JSON.stringify({ changeId: first.changeId, ruleIds: pending.map((i) => i.ruleId) } satisfies ReviewButtonValue);
    blocks.push({
      type: "actions",
      block_id: `sg_review:${first.changeId}`.slice(0, 255),
      elements: [
        { type: "button", action_id: APPROVE_ACTION, text: { type: "plain_text", text: "Approve (keep)" }, style: "primary", value },
        {
          type: "button",
          action_id: DENY_ACTION,
          text: { type: "plain_text", text: "Deny (revert)" },
          style: "danger",
          value,
          confirm: {
            title: { type: "plain_text", text: "Revert these rules?" },
            text: { type: "mrkdwn", text: `Revoke ${pending.length} rule${pending.length === 1 ? "" : "s"} from ${first.groupId}.` },
            confirm: { type: "plain_text", text: "Revert" },
            deny: { type: "plain_text", text: "Cancel" },
          },
        },
      ],
    });
  }
  const status = pending.length > 0 ? "waiting for a decision" : [...new Set(items.map((i) => STATE_TEXT[i.state]))].join(", ");
  return { text: `${head} (${status})`, blocks };
}

/** What a person who may not decide is told (only they see it). */
export function notApproverText(userId: string): string {
  return `<@${userId}>, only the security team's approvers can approve or revert security-group changes; nothing was changed. Ask in this channel if this change needs a decision.`;
}
