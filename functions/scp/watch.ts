/**
 * SCP rollout watch, the pure part: which denies an SCP or RCP caused (per account, action and policy id), the metric
 * line that counts them, the rollout windows Organizations policy events open, and the Slack messages of a window.
 * The SCP watch's Lambdas (./handlers.ts) build on these; `replay` groups SCP denies the same way.
 */
import type { CloudTrailRecord } from "../cloudtrail";
import { accountOf, cloudTrailRecordOf, principalArnOf } from "../cloudtrail";
import { analyzeDeny, policyIdOf } from "../deny/analyze";
import { accountLabel, codeSpan, fitMessage, inlineList, linesWithin, link, mrkdwnText, plainText, principalShort, slackDate, SLACK_LIMITS, userMention } from "../slack/text";

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

/**
 * The SCP / RCP deny a record is, or null (other denies, successes, no record at all). The record (the bus event's
 * `detail`) goes through the boundary first. An error in the analysis is not swallowed: a deny the function could not
 * read must fail the invocation (and be retried, then kept), not vanish from the counts.
 */
export async function policyDenyOf(detail: CloudTrailRecord | unknown): Promise<PolicyDeny | null> {
  const record = cloudTrailRecordOf(detail);
  if (!record) return null;
  const f = await analyzeDeny(record);
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
  /** The policy's name when the event carries it (UpdatePolicy's request or response); added field. */
  policyName?: string | null;
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
export function policyChangeOf(detail: CloudTrailRecord | unknown): PolicyChange | null {
  const record = cloudTrailRecordOf(detail);
  if (!record || record.eventSource !== "organizations.amazonaws.com" || record.errorCode) return null;
  if (record.eventName === "MoveAccount") {
    // requestParameters: accountId, sourceParentId, destinationParentId (Organizations MoveAccount API).
    // https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html
    const move = (record.requestParameters ?? {}) as { accountId?: unknown; sourceParentId?: unknown; destinationParentId?: unknown };
    if (typeof move.accountId !== "string" || !/^\d{12}$/.test(move.accountId)) return null;
    return {
      policyId: accountWindowId(move.accountId),
      change: "moved",
      targetId: typeof move.destinationParentId === "string" ? move.destinationParentId : null,
      fromId: typeof move.sourceParentId === "string" ? move.sourceParentId : null,
      who: record.userIdentity?.arn ?? principalArnOf(record),
      eventTime: record.eventTime ?? null,
      eventId: record.eventID ?? null,
    };
  }
  // Own keys only: "constructor" is no Organizations event.
  const name = record.eventName ?? "";
  const change = Object.prototype.hasOwnProperty.call(CHANGES, name) ? CHANGES[name] : undefined;
  const params = (record.requestParameters ?? {}) as { policyId?: unknown; targetId?: unknown };
  if (!change || typeof params.policyId !== "string" || params.policyId === "") return null;
  return {
    policyId: params.policyId,
    change,
    targetId: change === "updated" || typeof params.targetId !== "string" ? null : params.targetId,
    // The session (who at the keyboard), not the role alone.
    who: record.userIdentity?.arn ?? principalArnOf(record),
    eventTime: record.eventTime ?? null,
    eventId: record.eventID ?? null,
    ...(policyNameOf(record) ? { policyName: policyNameOf(record) } : {}),
  };
}

function policyNameOf(record: CloudTrailRecord): string | null {
  const req = (record.requestParameters ?? {}) as { name?: unknown };
  const res = (record.responseElements ?? {}) as { policy?: { policySummary?: { name?: unknown } } };
  const n = res?.policy?.policySummary?.name ?? req.name;
  return typeof n === "string" ? n.slice(0, 128) : null;
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
function top(counts: Map<string, number>, n: number): [string, number][] {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n);
}

export function totalOf(counts: WindowCounts): number {
  return Object.values(counts.byAccountAction).reduce((a, b) => a + b, 0);
}

/** Account id -> name, for the messages (config names over Organizations'). */
export interface ScpMessageOptions {
  accountNames?: Record<string, string>;
}

/** An account, OU or root id as a reader knows it: the account's name when known. */
function targetLabel(targetId: string, names: Record<string, string>, rich: boolean): string {
  return /^\d{12}$/.test(targetId) ? `account ${accountLabel(targetId, names)}` : rich ? codeSpan(targetId, 80) : mrkdwnText(targetId, 80);
}

/** "attached to ou-xyz by role/admin/alice" (rich: with mrkdwn emphasis, for blocks; else for the notification text) */
function describeChange(w: RolloutWindow, names: Record<string, string>, rich = true): string {
  const c = w.change;
  if (c.change === "manual") return `watch started by hand by ${userMention(c.who)}`;
  const who = c.who ? mrkdwnText(principalShort(c.who, 120), 300) : "unknown";
  if (c.change === "moved") {
    const from = c.fromId ? ` from ${targetLabel(c.fromId, names, rich)}` : "";
    const to = c.targetId ? ` to ${targetLabel(c.targetId, names, rich)}` : "";
    return `moved${from}${to} by ${rich ? `*${who}*` : who}: the SCPs of its new parents apply`;
  }
  return `${c.change}${c.targetId ? ` ${c.change === "attached" ? "to" : "from"} ${targetLabel(c.targetId, names, rich)}` : ""} by ${rich ? `*${who}*` : who}`;
}

/** The policy as the messages name it: its name when the event carried one, and its id. */
function policyLabel(w: RolloutWindow, rich = true): string {
  const name = (w.change as { policyName?: string | null }).policyName;
  const id = rich ? codeSpan(w.policyId, 140) : mrkdwnText(w.policyId, 140);
  return name ? `${mrkdwnText(name, 128)} (${id})` : id;
}

function policyConsoleLink(policyId: string): string {
  return `https://us-east-1.console.aws.amazon.com/organizations/v2/home/policies/service-control-policy/${encodeURIComponent(policyId)}`;
}

export function openingMessage(w: RolloutWindow, opts: ScpMessageOptions = {}): { text: string; blocks: object[] } {
  const names = opts.accountNames ?? {};
  const text = `SCP rollout watch: ${policyLabel(w, false)} ${describeChange(w, names, false)}`;
  const lines = [
    `:eyes: *SCP rollout watch:* ${policyLabel(w)} ${describeChange(w, names)}`,
    `${w.change.change === "manual" ? "" : `at ${slackDate((w.change as PolicyChange).eventTime)} · `}watching its denies until ${slackDate(w.closesAt)} · ${link(policyConsoleLink(w.policyId), "policy in the console")}`,
    w.change.change === "moved"
      ? `Alert at ${w.threshold} SCP/RCP denies in ${mrkdwnText(w.policyId.replace(/^account\//, "account "), 40)}; digests follow in this thread.`
      : `Alert at ${w.threshold} denies caused by this policy; digests follow in this thread.`,
  ];
  return fitMessage({ text: `${text}; watching its denies until ${new Date(w.closesAt).toISOString().replace(/\.000Z$/, "Z")}`, blocks: [{ type: "section", text: { type: "mrkdwn", text: lines.join("\n") } }] });
}

/** Top accounts and actions of a window's counts, as a two-field section. */
function breakdown(counts: WindowCounts, names: Record<string, string>, n: number): object {
  // Maps, not objects: an account or action key such as "__proto__" or "constructor" counts like any other.
  const byAccount = new Map<string, number>();
  const byAction = new Map<string, number>();
  for (const [k, c] of Object.entries(counts.byAccountAction)) {
    const [account, action = "unknown"] = k.split("|");
    byAccount.set(account, (byAccount.get(account) ?? 0) + c);
    byAction.set(action, (byAction.get(action) ?? 0) + c);
  }
  const list = (pairs: [string, number][], label: (k: string) => string, all: number) => {
    if (!pairs.length) return "none";
    const { text: body } = linesWithin(pairs.map(([k, c]) => `• ${label(k)}: ${c}`), SLACK_LIMITS.field - 40);
    return all > pairs.length ? `${body}\n… and ${all - pairs.length} more` : body;
  };
  return {
    type: "section",
    fields: [
      { type: "mrkdwn", text: `*By account*\n${list(top(byAccount, n), (a) => accountLabel(a, names), byAccount.size)}` },
      { type: "mrkdwn", text: `*By action*\n${list(top(byAction, n), (a) => codeSpan(a, 120), byAction.size)}` },
    ],
  };
}

/** The digest posted every few minutes while a window is open: by account and action, the change since the last digest. */
export function digestMessage(w: RolloutWindow, counts: WindowCounts, previousTotal: number, now: Date, opts: ScpMessageOptions = {}): { text: string; blocks: object[] } {
  const names = opts.accountNames ?? {};
  const total = totalOf(counts);
  const delta = total - previousTotal;
  const change = `(${delta >= 0 ? "+" : ""}${delta} since the last digest)`;
  const text = `${mrkdwnText(w.policyId, 140)}: ${total} denies since ${new Date(w.openedAt).toISOString().replace(/\.000Z$/, "Z")} ${change}`;
  const head = `${policyLabel(w)}: ${total} denies since ${slackDate(w.openedAt)} ${change}`;
  const blocks: object[] = [{ type: "section", text: { type: "mrkdwn", text: `*${head}*` } }, breakdown(counts, names, 5)];
  if (counts.samplePrincipals.length)
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: `Denied principals include: ${inlineList(counts.samplePrincipals.map((p) => mrkdwnText(principalShort(p, 100), 300)), 5)}` }],
    });
  const left = Math.max(0, Math.round((new Date(w.closesAt).getTime() - now.getTime()) / 60000));
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: left > 0 ? `Window closes in ${left} min.` : "Window closed." }] });
  return fitMessage({ text, blocks });
}

export const DETACH_ACTION = "scp_detach";

/** The threshold alert; with rollback on and a target to detach from, approvers get a Detach button. */
export function alertMessage(w: RolloutWindow, total: number, opts: { rollback: boolean; counts?: WindowCounts } & ScpMessageOptions): { text: string; blocks: object[] } {
  const names = opts.accountNames ?? {};
  const head = `${policyLabel(w)} caused ${total} denies since ${slackDate(w.openedAt)} (threshold ${w.threshold})`;
  const blocks: object[] = [{ type: "section", text: { type: "mrkdwn", text: `:rotating_light: *${head}*\n${describeChange(w, names)}` } }];
  // Where the denies are, so the reader can judge the blast radius before detaching.
  if (opts.counts && Object.keys(opts.counts.byAccountAction).length) blocks.push(breakdown(opts.counts, names, 3));
  // The text is also the alert topic's message (email, pager): plain words, the time in UTC.
  const text = `${mrkdwnText(w.policyId, 140)} caused ${total} denies since ${new Date(w.openedAt).toISOString().replace(/\.000Z$/, "Z")} (threshold ${w.threshold})`;
  const c = w.change;
  if (opts.rollback && c.change === "attached" && c.targetId)
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: DETACH_ACTION,
          style: "danger",
          text: { type: "plain_text", text: plainText(`Detach policy from ${c.targetId}`, SLACK_LIMITS.buttonText) },
          value: JSON.stringify({ policyId: w.policyId, targetId: c.targetId }),
          confirm: {
            title: { type: "plain_text", text: "Detach the SCP?" },
            text: { type: "mrkdwn", text: `Detach ${codeSpan(w.policyId, 80)} from ${codeSpan(c.targetId, 80)}. Accounts under it lose the policy's guardrails.` },
            confirm: { type: "plain_text", text: "Detach" },
            deny: { type: "plain_text", text: "Cancel" },
          },
        },
      ],
    });
  return fitMessage({ text, blocks });
}
