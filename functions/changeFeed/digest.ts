/**
 * The change feed's Slack digests: a batch of central-bus "invocation result" events (from the SQS queue the Slack
 * rule fills), grouped per environment, one digest each, handed to the Slack outbox.
 */
import { slackDigest } from "./formats";
import type { ChangeRecord } from "./normalize";

/**
 * One Slack digest per environment for a batch of SQS messages, each a central-bus "invocation result" event
 * carrying a change payload. Unreadable messages are logged and dropped (they cannot succeed on retry).
 */
export async function postChangeDigests(
  records: { messageId: string; body: string }[],
  opts: {
    outsideIacOnly: boolean;
    post: (m: { text: string; blocks: object[] }, environment: string, messageIds: string[]) => Promise<void>;
    log: (entry: object) => void;
    /** Account id -> name for this batch's changes (the account directory). */
    accountNames?: (changes: ChangeRecord[]) => Promise<Record<string, string>>;
  },
): Promise<{ posted: number; changes: number; batchItemFailures: { itemIdentifier: string }[] }> {
  const byEnvironment: Record<string, ChangeRecord[]> = {};
  const idsByEnvironment: Record<string, string[]> = {};
  const batchItemFailures: { itemIdentifier: string }[] = [];
  let changes = 0;
  for (const r of records) {
    let change: ChangeRecord | undefined;
    try {
      change = JSON.parse(r.body)?.detail?.responsePayload?.change;
    } catch {
      opts.log({ dropped: r.messageId, reason: "not JSON" });
      continue;
    }
    const env = change?.where?.environment;
    if (!change || typeof env !== "string") {
      opts.log({ dropped: r.messageId, reason: "no change record" });
      continue;
    }
    (byEnvironment[env] = byEnvironment[env] ?? []).push(change);
    (idsByEnvironment[env] = idsByEnvironment[env] ?? []).push(r.messageId);
    changes++;
  }
  let posted = 0;
  const accountNames = opts.accountNames ? await opts.accountNames(Object.values(byEnvironment).flat()) : {};
  for (const env of Object.keys(byEnvironment).sort()) {
    const list = byEnvironment[env].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const message = slackDigest(list, env, { outsideIacOnly: opts.outsideIacOnly, accountNames });
    if (message.blocks.length <= 2) continue; // every change was filtered out
    try {
      await opts.post(message, env, idsByEnvironment[env]);
      posted++;
    } catch (err) {
      // Only this environment's messages come back (partial batch response); the others' digests are not re-sent.
      opts.log({ level: "ERROR", message: "digest not queued", environment: env, error: (err as Error).message });
      batchItemFailures.push(...idsByEnvironment[env].map((itemIdentifier) => ({ itemIdentifier })));
    }
  }
  return { posted, changes, batchItemFailures };
}
