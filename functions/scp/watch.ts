/**
 * SCP rollout watch, the pure part: which denies an SCP or RCP caused (per account, action and policy id), the metric
 * line that counts them, the rollout windows Organizations policy events open, and the Slack messages of a window.
 * Components and Lambdas (issue 7) build on these; `replay` already groups SCP denies the same way.
 */
import type { CloudTrailRecord } from "../cloudtrail";
import { accountOf, principalArnOf } from "../cloudtrail";
import { analyzeDeny, policyIdOf } from "../deny/analyze";

export const SCP_METRIC_NAMESPACE = "trailwatch/SCP";
export const OTHER_ACTION = "other";

export interface PolicyDeny {
  /** `p-...` from the message's policy ARN, `unknown` when the message does not carry one. */
  policyId: string;
  policyType: "scp" | "rcp";
  accountId: string | null;
  action: string | null;
  principalArn: string | null;
  eventTime: string | null;
  eventId: string | null;
}

/** The SCP / RCP deny a record is, or null (other denies, successes). */
export async function policyDenyOf(record: CloudTrailRecord): Promise<PolicyDeny | null> {
  const f = await analyzeDeny(record).catch(() => null);
  if (!f || (f.cause !== "service-control-policy" && f.cause !== "resource-control-policy")) return null;
  return {
    policyId: policyIdOf(f.policyArn) ?? "unknown",
    policyType: f.cause === "service-control-policy" ? "scp" : "rcp",
    accountId: f.accountId ?? accountOf(record),
    action: f.action,
    principalArn: f.principalArn ?? principalArnOf(record),
    eventTime: f.eventTime,
    eventId: f.eventId,
  };
}

/** Keep the Action dimension bounded: the top actions keep their name, every other action counts as `other`. */
export function boundedAction(action: string | null, topActions: readonly string[]): string {
  return action && topActions.includes(action) ? action : OTHER_ACTION;
}

/**
 * One CloudWatch embedded metric format line counting a deny three ways (by policy, by account, by action: three
 * single-dimension series, never their product), at 1-minute resolution.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function metricLine(deny: PolicyDeny, action: string, now: Date): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: SCP_METRIC_NAMESPACE,
          Dimensions: [["PolicyId"], ["AccountId"], ["Action"]],
          Metrics: [{ Name: "Denies", Unit: "Count", StorageResolution: 60 }],
        },
      ],
    },
    PolicyId: deny.policyId,
    AccountId: deny.accountId ?? "unknown",
    Action: action,
    Denies: 1,
    // Not dimensions: searchable in Logs Insights, no metric cardinality.
    policyType: deny.policyType,
    fullAction: deny.action,
    principalArn: deny.principalArn,
    eventId: deny.eventId,
  };
}

export interface PolicyChange {
  /** The policy's id, or for a move the account's window id (`accountWindowId`). */
  policyId: string;
  change: "attached" | "detached" | "updated" | "moved";
  /** The root, OU or account the policy was attached to or detached from (a move: the new parent); null for an update. */
  targetId: string | null;
  /** A move: the parent the account left. */
  fromId?: string | null;
  who: string | null;
  eventTime: string | null;
  eventId: string | null;
}

const CHANGES: Record<string, PolicyChange["change"]> = { AttachPolicy: "attached", DetachPolicy: "detached", UpdatePolicy: "updated" };

/**
 * The window of one account: every SCP/RCP deny in it counts, whatever policy the message names. `MoveAccount`
 * changes which SCPs apply to the account (those of its new parents), without naming any policy, so its window is the
 * account's. (An attach or detach on an OU above the account opens that policy's window, which counts the denies of
 * every account below.)
 */
export const accountWindowId = (accountId: string): string => `account/${accountId}`;

/**
 * An Organizations policy change that opens a rollout window. These events exist only in us-east-1 and name the
 * policy id, not its type (SCP, RCP, tag, backup...): a window on a non-SCP policy simply sees no denies.
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_cloudtrail-integration.html
 */
export function policyChangeOf(record: CloudTrailRecord): PolicyChange | null {
  if (record.eventSource !== "organizations.amazonaws.com" || record.errorCode) return null;
  if (record.eventName === "MoveAccount") {
    // requestParameters: accountId, sourceParentId, destinationParentId (Organizations MoveAccount API).
    const move = (record.requestParameters ?? {}) as { accountId?: string; sourceParentId?: string; destinationParentId?: string };
    if (typeof move.accountId !== "string" || !/^\d{12}$/.test(move.accountId)) return null;
    return {
      policyId: accountWindowId(move.accountId),
      change: "moved",
      targetId: move.destinationParentId ?? null,
      fromId: move.sourceParentId ?? null,
      who: record.userIdentity?.arn ?? principalArnOf(record),
      eventTime: record.eventTime ?? null,
      eventId: record.eventID ?? null,
    };
  }
  const change = CHANGES[record.eventName ?? ""];
  const params = (record.requestParameters ?? {}) as { policyId?: string; targetId?: string };
  if (!change || typeof params.policyId !== "string") return null;
  return {
    policyId: params.policyId,
    change,
    targetId: change === "updated" ? null : (params.targetId ?? null),
    // The session (who at the keyboard), not the role alone.
    who: record.userIdentity?.arn ?? principalArnOf(record),
    eventTime: record.eventTime ?? null,
    eventId: record.eventID ?? null,
  };
}

export interface WindowCounts {
  /** "account|action" -> denies since the window opened. */
  byAccountAction: Record<string, number>;
  /** Up to a few principals seen, for the digest. */
  samplePrincipals: string[];
}

export interface RolloutWindow {
  policyId: string;
  openedAt: string;
  closesAt: string;
  change: PolicyChange | { change: "manual"; who: string; targetId: null };
  threshold: number;
}

/** Sum of counts, and the top `n` (key, count) pairs. */
function top(counts: Record<string, number>, n: number): [string, number][] {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n);
}

export function totalOf(counts: WindowCounts): number {
  return Object.values(counts.byAccountAction).reduce((a, b) => a + b, 0);
}

/** "p-abc attached to ou-xyz by alice" */
function describeChange(w: RolloutWindow): string {
  const c = w.change;
  if (c.change === "manual") return `watch started by hand by <@${c.who}>`;
  const who = c.who?.split(/[:/]/).slice(-2).join("/") ?? "unknown";
  if (c.change === "moved") return `moved${c.fromId ? ` from ${c.fromId}` : ""}${c.targetId ? ` to ${c.targetId}` : ""} by ${who}: the SCPs of its new parents apply`;
  return `${c.change}${c.targetId ? ` ${c.change === "attached" ? "to" : "from"} ${c.targetId}` : ""} by ${who}`;
}

export function openingMessage(w: RolloutWindow): { text: string; blocks: object[] } {
  const moved = w.change.change === "moved";
  const text = `SCP rollout watch: ${w.policyId} ${describeChange(w)}; watching its denies until ${w.closesAt}`;
  const alertAt = moved ? `Alert at ${w.threshold} SCP/RCP denies in ${w.policyId.replace(/^account\//, "account ")}.` : `Alert at ${w.threshold} denies caused by ${w.policyId}.`;
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text: `:eyes: *${text}*\n${alertAt}` } }] };
}

/** The digest posted every few minutes while a window is open: by account and action, the change since the last digest. */
export function digestMessage(w: RolloutWindow, counts: WindowCounts, previousTotal: number, now: Date): { text: string; blocks: object[] } {
  const total = totalOf(counts);
  const byAccount: Record<string, number> = {};
  const byAction: Record<string, number> = {};
  for (const [k, n] of Object.entries(counts.byAccountAction)) {
    const [account, action] = k.split("|");
    byAccount[account] = (byAccount[account] ?? 0) + n;
    byAction[action] = (byAction[action] ?? 0) + n;
  }
  const delta = total - previousTotal;
  const text = `${w.policyId}: ${total} denies since ${w.openedAt} (${delta >= 0 ? "+" : ""}${delta} since the last digest)`;
  const list = (pairs: [string, number][]) => (pairs.length ? pairs.map(([k, n]) => `• ${k}: ${n}`).join("\n") : "none");
  const blocks: object[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${text}*` } },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*By account*\n${list(top(byAccount, 5))}` },
        { type: "mrkdwn", text: `*By action*\n${list(top(byAction, 5))}` },
      ],
    },
  ];
  if (counts.samplePrincipals.length) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `Denied principals include: ${counts.samplePrincipals.slice(0, 5).join(", ")}` }] });
  const left = Math.max(0, Math.round((new Date(w.closesAt).getTime() - now.getTime()) / 60000));
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: left > 0 ? `Window closes in ${left} min.` : "Window closed." }] });
  return { text, blocks };
}

export const DETACH_ACTION = "scp_detach";

/** The threshold alert; with rollback on and a target to detach from, approvers get a Detach button. */
export function alertMessage(w: RolloutWindow, total: number, opts: { rollback: boolean }): { text: string; blocks: object[] } {
  const text = `:rotating_light: ${w.policyId} caused ${total} denies since ${w.openedAt} (threshold ${w.threshold})`;
  const blocks: object[] = [{ type: "section", text: { type: "mrkdwn", text: `*${text}*` } }];
  const c = w.change;
  if (opts.rollback && c.change === "attached" && c.targetId)
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: DETACH_ACTION,
          style: "danger",
          text: { type: "plain_text", text: `Detach policy from ${c.targetId}` },
          value: JSON.stringify({ policyId: w.policyId, targetId: c.targetId }),
          confirm: {
            title: { type: "plain_text", text: "Detach the SCP?" },
            text: { type: "mrkdwn", text: `Detach ${w.policyId} from ${c.targetId}. Accounts under it lose the policy's guardrails.` },
            confirm: { type: "plain_text", text: "Detach" },
            deny: { type: "plain_text", text: "Cancel" },
          },
        },
      ],
    });
  return { text: text.replace(/^:\w+: /, ""), blocks };
}
