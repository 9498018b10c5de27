/**
 * Each feature's notices for the Slack outbox: the stable id that makes a re-send harmless, and where the posted
 * message is recorded (state and notice together: the feature's item says "notified" only once Slack accepted it).
 * Message content stays in each feature's messages module; this file only wraps it.
 */
import { noticeId, type Notice } from "./outbox";

type Message = { text: string; blocks: object[] };

/** A GuardDuty finding or Config non-compliance, once per finding and severity band. */
export function findingNotice(m: Message, f: { key: string; band?: string | null }, opts: { channel: string; table: string }): Notice {
  const band = f.band ?? "none";
  return {
    id: noticeId("finding", f.key, band),
    source: "findings",
    channel: opts.channel,
    ...m,
    // The claim of this band (a later, higher band's claim replaced the item: its own notice records it).
    onPosted: [{ table: opts.table, pk: f.key, set: { postedTs: "{ts}", postedChannel: "{channel}", notifiedAt: "{postedAt}" }, ifEquals: { band } }],
  };
}

/** The security-group review of one change: one message for all its rules; each rule's item gets the message ts. */
export function reviewNotice(m: Message, change: { changeId: string; ruleIds: string[] }, opts: { channel: string; table: string }): Notice {
  return {
    id: noticeId("sg-review", change.changeId),
    source: "sg-review",
    channel: opts.channel,
    ...m,
    onPosted: change.ruleIds.map((ruleId) => ({ table: opts.table, pk: ruleId, set: { channel: "{channel}", ts: "{ts}" } })),
  };
}

/** A deny digest: its findings are marked notified (with the suggestion they were told) once it is posted. */
export function denyDigestNotice(m: Message, marks: { key: string; hash: string }[], opts: { channel: string; table: string }): Notice {
  const sorted = [...marks].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    id: noticeId("deny-digest", ...sorted.map((k) => `${k.key}#${k.hash}`)),
    source: "deny-advisor",
    channel: opts.channel,
    ...m,
    // Only if the finding still has the suggestion the digest showed (a newer one needs its own notice).
    onPosted: sorted.map((k) => ({ table: opts.table, pk: k.key, set: { notifiedHash: k.hash, notifiedAt: "{postedAt}" }, ifEquals: { suggestionHash: k.hash } })),
  };
}

/** A change-feed digest of one environment for one set of SQS messages (a redelivered batch makes the same id). */
export function changeDigestNotice(m: Message, environment: string, messageIds: string[], opts: { channel: string }): Notice {
  return { id: noticeId("change-digest", environment, ...[...messageIds].sort()), source: "change-feed", channel: opts.channel, ...m };
}

/** The SCP watch's window item (functions/scp/store.ts keys windows this way). */
export const scpWindowKey = (policyId: string) => `window#${policyId}`;

/**
 * An SCP rollout window's message: the opening (its ts becomes the window's thread), the threshold alert (its ts is
 * where a detach result is written), or a digest (`part` says which, and makes the id: one per window and step).
 */
export function scpWindowNotice(
  m: Message & { thread_ts?: string; reply_broadcast?: boolean },
  w: { policyId: string; openedAt: string },
  part: string,
  opts: { channel: string; table: string; record?: "ts" | "alertTs" },
): Notice {
  return {
    id: noticeId("scp-window", w.policyId, w.openedAt, part),
    source: "scp-watch",
    channel: opts.channel,
    ...m,
    onPosted: opts.record ? [{ table: opts.table, pk: scpWindowKey(w.policyId), set: { channel: "{channel}", [opts.record]: "{ts}" } }] : undefined,
  };
}
