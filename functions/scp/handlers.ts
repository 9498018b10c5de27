/**
 * The SCP watch's handlers: count each SCP/RCP deny (metric line, window counts, the threshold alert), open windows
 * from Organizations policy events or by hand, post digests and close windows on a schedule, and detach a policy an
 * approver asked to roll back.
 */
import type { CloudTrailRecord } from "../cloudtrail";
import type { SlackPort } from "../slack/port";
import { accountWindowId, alertMessage, boundedAction, digestMessage, metricLine, openingMessage, policyChangeOf, policyDenyOf, type PolicyChange, type RolloutWindow } from "./watch";
import type { WindowStore } from "./store";
import { fitMessage, mrkdwnText, slackDate, userMention } from "../slack/text";
import type { NoticeSender } from "../slack/outboxAdapters";
import { scpWindowNotice } from "../slack/notices";

/** New messages go through the Slack outbox (posted once; the window records their ts once Slack accepted them). */
export interface ScpPosting {
  outbox: NoticeSender;
  table: string;
}

export interface ScpWatchSettings {
  channel: string;
  windowMinutes: number;
  threshold: number;
  /** Offer "Detach policy" to approvers in the alert. */
  rollback: boolean;
  /** How many actions keep their own Action dimension value per day. */
  topActions: number;
  approverUserIds: string[];
  approverUserGroupId?: string;
  /** Account id -> name for the messages (added; optional). */
  accountNames?: Record<string, string>;
}

type Log = (line: object) => void;
export interface Notifier {
  /** Publish to the alert topic. */
  publish(subject: string, message: string): Promise<void>;
}

export function windowFor(policyId: string, change: RolloutWindow["change"], minutes: number, threshold: number, now: Date): RolloutWindow {
  return { policyId, openedAt: now.toISOString(), closesAt: new Date(now.getTime() + minutes * 60_000).toISOString(), change, threshold };
}

/** Open (or extend) a window and say so in the channel; a re-opened window posts into its existing thread. */
export async function openWindow(w: RolloutWindow, deps: { store: WindowStore; posting: ScpPosting; settings: ScpWatchSettings }): Promise<{ extended: boolean }> {
  const { extended } = await deps.store.open(w);
  const existing = extended ? await deps.store.get(w.policyId) : null;
  const to = { channel: deps.settings.channel, table: deps.posting.table };
  if (extended && existing?.ts) await deps.posting.outbox.send(scpWindowNotice({ ...openingMessage(w, { accountNames: deps.settings.accountNames }), thread_ts: existing.ts }, w, "reopened", to));
  else await deps.posting.outbox.send(scpWindowNotice(openingMessage(w, { accountNames: deps.settings.accountNames }), w, "opened", { ...to, record: "ts" }));
  return { extended };
}

/** An Organizations policy change from the central bus. */
export async function onPolicyChange(record: CloudTrailRecord, deps: { store: WindowStore; posting: ScpPosting; settings: ScpWatchSettings; now: Date }): Promise<PolicyChange | null> {
  const change = policyChangeOf(record);
  if (!change) return null;
  await openWindow(windowFor(change.policyId, change, deps.settings.windowMinutes, deps.settings.threshold, deps.now), deps);
  return change;
}

export type CountOutcome = { outcome: "not-a-policy-deny" } | { outcome: "counted"; policyId: string; action: string; inWindow: boolean; alerted: boolean };

/** One SCP/RCP deny: always a metric line; in an open window also a count, and the alert once past the threshold. */
export async function countDeny(
  record: CloudTrailRecord,
  deps: { store: WindowStore; posting: ScpPosting; notifier: Notifier; settings: ScpWatchSettings; now: Date; emit: (line: object) => void; log?: Log },
): Promise<CountOutcome> {
  const deny = await policyDenyOf(record);
  if (!deny) return { outcome: "not-a-policy-deny" };
  const day = deps.now.toISOString().slice(0, 10);
  const top = await deps.store.topActions(day, deps.settings.topActions);
  // Until N actions were seen today, every action keeps its name.
  const action = top.length < deps.settings.topActions && deny.action ? deny.action : boundedAction(deny.action, top);
  deps.emit(metricLine(deny, action, deps.now));
  if (deny.action) await deps.store.countAction(day, deny.action);
  // The policy's window, and the account's (opened by MoveAccount: any policy's deny there counts).
  const windows = [...(deny.policyId === "unknown" ? [] : [deny.policyId]), ...(deny.accountId ? [accountWindowId(deny.accountId)] : [])];
  let inWindow = false;
  let alerted = false;
  for (const windowId of windows) {
    const counted = await deps.store.count(windowId, `${deny.accountId ?? "unknown"}|${deny.action ?? "unknown"}`, deny.principalArn);
    if (!counted) continue;
    inWindow = true;
    const stored = counted.total >= deps.settings.threshold && !counted.alerted ? await deps.store.get(windowId) : null;
    if (stored && counted.total >= stored.window.threshold && (await deps.store.claimAlert(windowId))) {
      const m = alertMessage(stored.window, counted.total, { rollback: deps.settings.rollback, accountNames: deps.settings.accountNames, counts: stored.counts });
      // claimAlert made this the window's one alert; the outbox posts it once and records its ts for the detach result.
      await deps.posting.outbox.send(
        scpWindowNotice(stored.ts ? { ...m, thread_ts: stored.ts, reply_broadcast: true } : m, stored.window, "alert", { channel: deps.settings.channel, table: deps.posting.table, record: "alertTs" }),
      );
      await deps.notifier.publish(`trailwatch: SCP ${windowId} denies past threshold`, m.text);
      deps.log?.({ level: "WARN", message: "rollout threshold crossed", policyId: windowId, total: counted.total });
      alerted = true;
    }
  }
  return { outcome: "counted", policyId: deny.policyId, action, inWindow, alerted };
}

/** The schedule: a digest into each open window's thread when its count moved, and the closing digest. */
export async function tick(deps: { store: WindowStore; posting: ScpPosting; settings: ScpWatchSettings; now: Date }): Promise<{ digests: string[]; closed: string[] }> {
  const digests: string[] = [];
  const closed: string[] = [];
  for (const w of await deps.store.listOpen()) {
    const closing = new Date(w.window.closesAt).getTime() <= deps.now.getTime();
    if (w.total !== w.lastDigestTotal || closing) {
      const m = digestMessage(w.window, w.counts, w.lastDigestTotal, deps.now, { accountNames: deps.settings.accountNames });
      const part = `digest-${w.total}${closing ? "-closing" : ""}`;
      await deps.posting.outbox.send(scpWindowNotice(w.ts ? { ...m, thread_ts: w.ts } : m, w.window, part, { channel: w.channel ?? deps.settings.channel, table: deps.posting.table }));
      await deps.store.setDigestTotal(w.window.policyId, w.total);
      digests.push(w.window.policyId);
    }
    if (closing) {
      await deps.store.close(w.window.policyId);
      closed.push(w.window.policyId);
    }
  }
  return { digests, closed };
}

export interface OrganizationsPort {
  /** organizations:DetachPolicy through the management account's detach role. */
  detach(policyId: string, targetId: string): Promise<void>;
}

/** Detach requested policies (the table's stream delivers them); each detach is finished exactly once. */
export async function detachRequested(policyIds: string[], deps: { store: WindowStore; slack: SlackPort; org: OrganizationsPort; log?: Log }): Promise<{ policyId: string; outcome: string }[]> {
  const out: { policyId: string; outcome: string }[] = [];
  for (const policyId of policyIds) {
    const w = await deps.store.get(policyId);
    if (!w?.detach || w.detach.status !== "REQUESTED") {
      out.push({ policyId, outcome: "not-requested" });
      continue;
    }
    let status: "DETACHED" | "FAILED" = "DETACHED";
    let result = `detached from ${w.detach.targetId}`;
    try {
      await deps.org.detach(policyId, w.detach.targetId);
    } catch (e) {
      const name = (e as Error).name;
      // Already detached (by hand, or a retried worker): the goal is reached.
      if (name === "PolicyNotAttachedException") result = `was not attached to ${w.detach.targetId}`;
      else {
        status = "FAILED";
        result = `detach failed: ${name}: ${(e as Error).message}`.slice(0, 300);
      }
    }
    if (!(await deps.store.finishDetach(policyId, status, result))) {
      out.push({ policyId, outcome: "already-finished" });
      continue;
    }
    deps.log?.({ level: status === "FAILED" ? "ERROR" : "INFO", message: "detach", policyId, targetId: w.detach.targetId, by: w.detach.by, result });
    const text = `${mrkdwnText(policyId, 140)} ${mrkdwnText(result, 400)} (requested by ${userMention(w.detach.by)} at ${slackDate(w.detach.at)})`;
    if (w.alertTs && w.channel) await deps.slack.update(w.channel, w.alertTs, fitMessage({ text, blocks: [{ type: "section", text: { type: "mrkdwn", text: `${status === "FAILED" ? ":x:" : ":white_check_mark:"} *${text}*` } }] }));
    out.push({ policyId, outcome: status === "FAILED" ? "failed" : "detached" });
  }
  return out;
}
