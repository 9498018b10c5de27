/**
 * The security-group review in Slack: one Block Kit message per change (who, where, what, when, a console link,
 * Approve / Deny), rewritten in place as it is decided, reverted or expires; buttons go once it is decided.
 * https://api.slack.com/reference/block-kit/blocks
 */
import type { ReviewItem, ReviewState } from "./state";
import { describePorts } from "../change";
import { accountLabel, codeSpan, fitMessage, link, linesWithin, mrkdwnText, principalShort, slackDate, SLACK_LIMITS, userMention } from "../../slack/text";

export const APPROVE_ACTION = "sg_review_approve";
export const DENY_ACTION = "sg_review_deny";

/** Button value: which change and rules the click is about (Slack caps a value at 2000 characters). */
export interface ReviewButtonValue {
  changeId: string;
  ruleIds: string[];
}

const RISK_ICON: Record<string, string> = { critical: ":red_circle:", high: ":large_orange_circle:", medium: ":large_yellow_circle:", low: ":white_circle:" };
const STATE_TEXT: Record<ReviewState, string> = {
  PENDING: "waiting for a decision",
  APPROVED: "approved: kept",
  DENIED: "denied: reverting",
  EXPIRED: "expired without a decision: kept",
  REVERTED: "reverted",
  REVERT_FAILED: "revert FAILED",
};

/** Blocks a review may spend on its rule list: the rest go to the head, fields, context lines and buttons. */
const RULE_BLOCKS = SLACK_LIMITS.blocks - 6;

/** The EC2 console's page of the group; the ids are encoded, so the link cannot be bent elsewhere. */
function consoleLink(i: ReviewItem): string {
  const region = /^[a-z]{2}(-[a-z]+)+-\d$/.test(i.region) ? i.region : "us-east-1";
  return `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#SecurityGroup:groupId=${encodeURIComponent(i.groupId)}`;
}

function ruleLine(i: ReviewItem): string {
  const r = i.rule;
  const what = `${i.direction} ${describePorts(r)} ${i.direction === "ingress" ? "from" : "to"} ${r.source}`;
  const line = `${codeSpan(i.ruleId, 60)} ${mrkdwnText(what, 300)}${r.description ? ` _${mrkdwnText(r.description, 260)}_` : ""}`;
  const state = i.state === "PENDING" ? "" : ` → *${STATE_TEXT[i.state]}*${i.result ? ` (${mrkdwnText(i.result, 300)})` : ""}`;
  return `${r.openToWorld ? ":warning: *open to the world* " : ""}${line}${state}`;
}

/** The rule lines as sections of at most 3,000 characters, whole lines only, within the block budget. */
function ruleSections(items: ReviewItem[]): { blocks: object[]; listed: ReviewItem[] } {
  const blocks: object[] = [];
  let rest = items;
  const listed: ReviewItem[] = [];
  while (rest.length > 0 && blocks.length < RULE_BLOCKS) {
    const last = blocks.length === RULE_BLOCKS - 1;
    const { text, shown } = linesWithin(rest.map(ruleLine), SLACK_LIMITS.sectionText, (n) => (last ? `… and ${n} more rule${n === 1 ? "" : "s"} not listed here` : ""));
    const take = Math.max(shown, 0);
    blocks.push({ type: "section", text: { type: "mrkdwn", text: text.replace(/\n$/, "") || "…" } });
    listed.push(...rest.slice(0, take));
    rest = rest.slice(take);
    if (take === 0) break;
  }
  return { blocks, listed };
}

/**
 * At most this many rules per click: the Slack app decides them (one conditional write each) before it answers, and
 * Slack wants the answer within 3 seconds: https://api.slack.com/interactivity/handling#acknowledgment_response
 */
export const MAX_RULES_PER_DECISION = 40;

/** The rule ids a button acts on: the pending ones listed, as many as a click can decide and a button value holds. */
function decidable(changeId: string, listedPending: ReviewItem[]): ReviewButtonValue {
  const value: ReviewButtonValue = { changeId, ruleIds: [] };
  for (const i of listedPending.slice(0, MAX_RULES_PER_DECISION)) {
    const next = { changeId, ruleIds: [...value.ruleIds, i.ruleId] };
    if (JSON.stringify(next).length > SLACK_LIMITS.buttonValue) break;
    value.ruleIds = next.ruleIds;
  }
  return value;
}

/** Who made the change, short: `role/ops/deployer`, and the session (the person) on its own line. */
function whoText(principalArn: string | null, sessionName?: string | null): string {
  // principalArn is the role (sessionIssuer) on CloudTrail-derived changes: the session comes from the change's
  // sessionName (role session name, sourceIdentity or Identity Center user), else an assumed-role ARN's last part.
  const session = sessionName ?? principalArn?.match(/:assumed-role\/[^/]+\/(.+)$/s)?.[1];
  // IAM Identity Center: the session name is the person, the role's name carries the permission set.
  const sso = principalArn?.match(/:assumed-role\/AWSReservedSSO_(.+)_[0-9a-f]{16}\/(.+)$/s);
  if (sso) return `*${mrkdwnText(sso[2], 200)}*\nIdentity Center, permission set ${mrkdwnText(sso[1], 100)}`;
  return `${mrkdwnText(principalShort(principalArn, 150), 400)}${session ? `\nsession ${codeSpan(session, 140)}` : ""}`;
}

/** The message for the items of one change (all share changeId). */
export function reviewMessage(items: ReviewItem[], opts: { accountNames?: Record<string, string>; reviewable?: boolean } = {}): { text: string; blocks: object[] } {
  const first = items[0];
  const c = first.change;
  const account = accountLabel(first.accountId, opts.accountNames);
  const region = mrkdwnText(first.region, 30);
  const group = mrkdwnText(first.groupId, 60);
  const head = `Security group ${group} changed in ${account} ${region}: ${first.risk.level} risk`;
  const { blocks: rules, listed } = ruleSections(items);
  const blocks: object[] = [
    { type: "section", text: { type: "mrkdwn", text: `${RISK_ICON[first.risk.level] ?? ""} *${head}*` } },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Who*\n${whoText(c.principalArn, c.sessionName)}` },
        { type: "mrkdwn", text: `*Where*\n${account}, ${region}\n${link(consoleLink(first), first.groupId)}` },
        { type: "mrkdwn", text: `*When*\n${slackDate(c.eventTime)}` },
        { type: "mrkdwn", text: `*Event*\n${mrkdwnText(c.eventName, 100)}` },
      ],
    },
    ...rules,
  ];
  if (first.risk.reasons.length) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: mrkdwnText(first.risk.reasons.join("; "), SLACK_LIMITS.contextText) }] });
  const decided = items.find((i) => i.decidedBy);
  if (decided) {
    // A person decided (a Slack user id from the click) or the bot did (auto-revert): only the former is a mention.
    const by = /^[UW][A-Z0-9]{2,20}$/.test(decided.decidedBy!) ? userMention(decided.decidedBy) : mrkdwnText(decided.decidedBy, 80);
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `Decided by ${by} at ${slackDate(decided.decidedAt)}` }] });
  }
  const pending = items.filter((i) => i.state === "PENDING");
  const value = decidable(first.changeId, listed.filter((i) => i.state === "PENDING"));
  if (value.ruleIds.length > 0 && opts.reviewable !== false) {
    const n = value.ruleIds.length;
    if (n < pending.length)
      blocks.push({
        type: "context",
        elements: [{ type: "mrkdwn", text: `:information_source: The buttons decide the first ${n} waiting rule${n === 1 ? "" : "s"} listed above (${codeSpan(value.ruleIds[0], 40)} to ${codeSpan(value.ruleIds[n - 1], 40)}); the other ${pending.length - n} stay waiting and expire undecided (kept) unless decided in the console.` }],
      });
    const json = JSON.stringify(value);
    blocks.push({
      type: "actions",
      block_id: `sg_review:${first.changeId}`.slice(0, SLACK_LIMITS.blockId),
      elements: [
        { type: "button", action_id: APPROVE_ACTION, text: { type: "plain_text", text: n < pending.length ? `Approve these ${n} (keep)` : "Approve (keep)" }, style: "primary", value: json },
        {
          type: "button",
          action_id: DENY_ACTION,
          text: { type: "plain_text", text: n < pending.length ? `Deny these ${n} (revert)` : "Deny (revert)" },
          style: "danger",
          value: json,
          confirm: {
            title: { type: "plain_text", text: "Revert these rules?" },
            text: { type: "mrkdwn", text: `Revoke ${n} rule${n === 1 ? "" : "s"} from ${group}.` },
            confirm: { type: "plain_text", text: "Revert" },
            deny: { type: "plain_text", text: "Cancel" },
          },
        },
      ],
    });
  }
  const stateText = pending.length > 0 ? "waiting for a decision" : [...new Set(items.map((i) => STATE_TEXT[i.state]))].join(", ");
  return fitMessage({ text: `${head} (${stateText})`, blocks });
}

/** What a person who may not decide is told (only they see it). */
export function notApproverText(userId: string): string {
  return `${userMention(userId)}, only the security team's approvers can approve or revert security-group changes; nothing was changed. Ask in this channel if this change needs a decision.`;
}
