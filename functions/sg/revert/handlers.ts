/**
 * The SgRevertBot's four handlers, each behind small interfaces so the same code runs in Lambda and in tests:
 * - detect: a security-group change from the central bus -> review items (PENDING, or DENIED for auto-revert) ->
 *   one Slack message, handed to the Slack outbox, which records its ts on the items once Slack accepted it;
 * - decide: a Slack button click (already signature-checked by Bolt) -> approver check -> conditional transition;
 *   a Deny leaves DENIED items for the worker (the table's stream hands them over, asynchronously);
 * - revert: DENIED items -> assume the spoke role in the target account -> revoke by rule id -> verify -> update;
 * - expire: PENDING items past their time -> EXPIRED -> message updated; reviews whose message was never posted are
 *   handed to the outbox again (it posts a notice id once).
 */
import { assessRisk, parseSecurityGroupChange, type RiskLevel } from "../change";
import { cloudTrailRecordOf, type CloudTrailRecord } from "../../cloudtrail";
import { reviewMessage, notApproverText, type ReviewButtonValue } from "./messages";
import type { ReviewItem, ReviewStore } from "./state";
import type { NoticeSender } from "../../slack/outboxAdapters";
import { reviewNotice } from "../../slack/notices";
import { isApprover, type SlackPort } from "../../slack/port";

/** Slack as the handlers use it (functions/slack/port.ts). */
export type { SlackPort } from "../../slack/port";

export interface BotSettings {
  channel: string;
  /** Changes below this risk are recorded, not posted. */
  minRisk: RiskLevel;
  trustedCidrs: string[];
  expireAfterMinutes: number;
  approverUserIds: string[];
  approverUserGroupId?: string;
  /** Auto-revert world-open ingress to these ports (22, 3389, ...); empty = off. */
  autoRevertPorts: number[];
  accountNames?: Record<string, string>;
}

const RISK_ORDER: RiskLevel[] = ["low", "medium", "high", "critical"];
type Log = (line: object) => void;

export type DetectOutcome = {
  outcome: "ignored" | "not-reviewable" | "below-threshold" | "duplicate" | "queued" | "requeued" | "auto-reverting";
  ruleIds?: string[];
  risk?: RiskLevel;
};

/** Where review messages go: the Slack outbox, and the review table it records each message's ts in. */
export interface ReviewPosting {
  outbox: NoticeSender;
  table: string;
}

/** Hand one change's review message to the outbox (the same change always makes the same notice id). */
export async function queueReview(items: ReviewItem[], deps: { posting: ReviewPosting; settings: BotSettings }): Promise<void> {
  const message = reviewMessage(items, { accountNames: deps.settings.accountNames });
  await deps.posting.outbox.send(reviewNotice(message, { changeId: items[0].changeId, ruleIds: items.map((i) => i.ruleId) }, { channel: deps.settings.channel, table: deps.posting.table }));
}

/**
 * A CloudTrail security-group event (the EventBridge event's detail). A retried delivery finds the items already
 * recorded: if their message was never posted (the earlier try failed after recording them), it is queued again.
 */
export async function detectChange(
  detail: CloudTrailRecord | unknown,
  deps: { store: ReviewStore; posting: ReviewPosting; settings: BotSettings; now: Date; log?: Log },
): Promise<DetectOutcome> {
  // The bus event's detail, as delivered: through the boundary first.
  const record = cloudTrailRecordOf(detail);
  const change = record ? parseSecurityGroupChange(record) : null;
  if (!change) return { outcome: "ignored" };
  const risk = assessRisk(change, { trustedCidrs: deps.settings.trustedCidrs });
  if (RISK_ORDER.indexOf(risk.level) < RISK_ORDER.indexOf(deps.settings.minRisk)) {
    deps.log?.({ level: "INFO", message: "below the posting threshold", eventId: change.eventId, risk: risk.level });
    return { outcome: "below-threshold", risk: risk.level };
  }
  // Reverting needs the rule ids the response names (Authorize* events); a Modify changes rules in place.
  const revocable = change.rules.filter((r) => r.ruleId && (r.direction ?? change.direction));
  if (!change.groupId || !change.accountId || !change.region || !change.eventId || revocable.length === 0 || change.eventName === "ModifySecurityGroupRules") {
    deps.log?.({ level: "INFO", message: "change has no revocable rule ids; not reviewed", eventId: change.eventId, eventName: change.eventName });
    return { outcome: "not-reviewable", risk: risk.level };
  }
  const auto =
    deps.settings.autoRevertPorts.length > 0 &&
    revocable.some((r) => (r.direction ?? change.direction) === "ingress" && r.openToWorld && (r.fromPort === null || deps.settings.autoRevertPorts.some((p) => r.fromPort! <= p && p <= (r.toPort ?? r.fromPort!))));
  const ruleIds = revocable.map((r) => r.ruleId!);
  const expiresAt = Math.floor(deps.now.getTime() / 1000) + deps.settings.expireAfterMinutes * 60;
  const items: ReviewItem[] = revocable.map((rule) => ({
    ruleId: rule.ruleId!,
    state: auto ? "DENIED" : "PENDING",
    changeId: change.eventId!,
    ruleIds,
    groupId: change.groupId!,
    accountId: change.accountId!,
    region: change.region!,
    direction: (rule.direction ?? change.direction)!,
    rule,
    change,
    risk,
    expiresAt,
    ...(auto ? { decidedBy: "trailwatch (auto-revert)", decidedAt: deps.now.toISOString() } : {}),
  }));
  const created = [];
  for (const item of items) if (await deps.store.create(item)) created.push(item);
  if (created.length === 0) {
    const recorded = (await deps.store.get(ruleIds)).filter((i) => i.changeId === change.eventId);
    if (recorded.length === 0 || recorded.some((i) => i.ts)) return { outcome: "duplicate", ruleIds };
    await queueReview(recorded, deps);
    deps.log?.({ level: "INFO", message: "review recorded earlier but never posted: queued again", eventId: change.eventId, ruleIds });
    return { outcome: "requeued", ruleIds: recorded.map((i) => i.ruleId), risk: risk.level };
  }
  await queueReview(created, deps);
  return { outcome: auto ? "auto-reverting" : "queued", ruleIds: created.map((i) => i.ruleId), risk: risk.level };
}

/** Who may decide (functions/slack/port.ts: shared with the SCP watch's detach button). */
export { isApprover } from "../../slack/port";

export type DecideOutcome = { outcome: "not-approver" | "decided" | "already-decided"; changed: string[] };

/** A click on Approve (keep) or Deny (revert). Only PENDING rules move; a second click finds none and does nothing. */
export async function decide(
  click: { user: string; channel: string; decision: "approve" | "deny"; value: ReviewButtonValue },
  deps: { store: ReviewStore; slack: SlackPort; settings: BotSettings; now: Date; log?: Log },
): Promise<DecideOutcome> {
  if (!(await isApprover(click.user, deps.settings, deps.slack))) {
    await deps.slack.ephemeral(click.channel, click.user, notApproverText(click.user));
    deps.log?.({ level: "WARN", message: "click by a non-approver ignored", user: click.user, changeId: click.value.changeId });
    return { outcome: "not-approver", changed: [] };
  }
  const to = click.decision === "approve" ? "APPROVED" : "DENIED";
  const decidedAt = deps.now.toISOString();
  const changed: string[] = [];
  for (const ruleId of click.value.ruleIds) if (await deps.store.transition(ruleId, ["PENDING"], to, { decidedBy: click.user, decidedAt })) changed.push(ruleId);
  deps.log?.({ level: "INFO", message: "decision", user: click.user, decision: to, changed, changeId: click.value.changeId });
  if (changed.length === 0) return { outcome: "already-decided", changed };
  await refreshMessage(click.value.ruleIds, deps);
  return { outcome: "decided", changed };
}

/** Rewrite the change's message from the current state of all its rules. */
export async function refreshMessage(ruleIds: string[], deps: { store: ReviewStore; slack: SlackPort; settings: BotSettings }): Promise<void> {
  let items = await deps.store.get(ruleIds);
  // A click decides the rules its button listed; the message shows every rule of the change.
  const all = items[0]?.ruleIds ?? [];
  if (all.length > items.length) items = await deps.store.get(all);
  const withMessage = items.find((i) => i.channel && i.ts);
  if (!withMessage) return;
  await deps.slack.update(withMessage.channel!, withMessage.ts!, reviewMessage(items, { accountNames: deps.settings.accountNames }));
}

/** What the worker needs from EC2 in the target account (behind the assumed spoke role). */
export interface Ec2Port {
  revoke(args: { accountId: string; region: string; groupId: string; direction: "ingress" | "egress"; ruleIds: string[] }): Promise<"revoked" | "gone">;
  /** The rule ids among `ruleIds` that still exist in the group. */
  remaining(args: { accountId: string; region: string; groupId: string; ruleIds: string[] }): Promise<string[]>;
}

export type RevertOutcome = { ruleId: string; outcome: "reverted" | "already-gone" | "failed" | "not-denied"; error?: string };

/** Revert DENIED rules (as the stream delivers them), each exactly once: the final transition is conditional too. */
export async function revertRules(streamRuleIds: string[], deps: { store: ReviewStore; slack: SlackPort; ec2: Ec2Port; settings: BotSettings; log?: Log }): Promise<RevertOutcome[]> {
  // One outcome per rule even when the batch carries two stream records for it.
  const ruleIds = [...new Set(streamRuleIds)];
  const items = (await deps.store.get(ruleIds)).filter((i) => i.state === "DENIED");
  const outcomes: RevertOutcome[] = ruleIds.filter((id) => !items.some((i) => i.ruleId === id)).map((ruleId) => ({ ruleId, outcome: "not-denied" as const }));
  for (const item of items) {
    const where = { accountId: item.accountId, region: item.region, groupId: item.groupId };
    let outcome: RevertOutcome;
    try {
      const r = await deps.ec2.revoke({ ...where, direction: item.direction, ruleIds: [item.ruleId] });
      const left = await deps.ec2.remaining({ ...where, ruleIds: [item.ruleId] });
      if (left.length > 0) throw new Error(`rule ${item.ruleId} is still in ${item.groupId} after the revoke`);
      outcome = { ruleId: item.ruleId, outcome: r === "gone" ? "already-gone" : "reverted" };
      await deps.store.transition(item.ruleId, ["DENIED"], "REVERTED", { result: r === "gone" ? "already gone" : `revoked at ${new Date().toISOString()}` });
    } catch (err) {
      const error = (err as Error).message.slice(0, 300);
      outcome = { ruleId: item.ruleId, outcome: "failed", error };
      await deps.store.transition(item.ruleId, ["DENIED"], "REVERT_FAILED", { result: error });
    }
    deps.log?.({ level: outcome.outcome === "failed" ? "ERROR" : "INFO", message: "revert", ...outcome, ...where });
    outcomes.push(outcome);
  }
  const byChange: Record<string, string[]> = {};
  for (const i of items) byChange[i.changeId] = i.ruleIds;
  for (const ids of Object.values(byChange)) await refreshMessage(ids, deps);
  return outcomes;
}

/**
 * Reviews recorded more than `graceMinutes` ago whose message has no ts yet (the outbox has not posted it, or it was
 * never handed over): queue them again. The outbox drops a notice id it already posted, so this is safe to repeat.
 */
export async function requeueUnposted(deps: { store: ReviewStore; posting: ReviewPosting; settings: BotSettings; now: Date; graceMinutes?: number; log?: Log }): Promise<string[]> {
  const nowEpoch = Math.floor(deps.now.getTime() / 1000);
  const recordedBefore = nowEpoch - (deps.graceMinutes ?? 5) * 60;
  const unposted = (await deps.store.unposted(nowEpoch - 86400)).filter((i) => i.expiresAt - deps.settings.expireAfterMinutes * 60 <= recordedBefore);
  const byChange: Record<string, ReviewItem[]> = {};
  for (const i of unposted) (byChange[i.changeId] = byChange[i.changeId] ?? []).push(i);
  for (const [changeId, list] of Object.entries(byChange)) {
    // Every rule of the change, in the change's order, so the message is the same one detect would have sent.
    const all = await deps.store.get(list[0].ruleIds);
    await queueReview(all.length ? all : list, deps);
    deps.log?.({ level: "WARN", message: "review message not posted yet: queued again", changeId, ruleIds: list.map((i) => i.ruleId) });
  }
  return Object.keys(byChange);
}

/** Expire undecided reviews; their messages say so and lose their buttons. */
export async function expireReviews(deps: { store: ReviewStore; slack: SlackPort; settings: BotSettings; now: Date; log?: Log }): Promise<string[]> {
  const due = await deps.store.expired(Math.floor(deps.now.getTime() / 1000));
  const expired: string[] = [];
  for (const item of due) if (await deps.store.transition(item.ruleId, ["PENDING"], "EXPIRED", { decidedAt: deps.now.toISOString() })) expired.push(item.ruleId);
  const byChange: Record<string, string[]> = {};
  for (const i of due) byChange[i.changeId] = i.ruleIds;
  for (const ids of Object.values(byChange)) await refreshMessage(ids, deps);
  if (expired.length) deps.log?.({ level: "INFO", message: "expired", ruleIds: expired });
  return expired;
}
