/**
 * The deny queue's batch handler: SQS messages (EventBridge events from the central bus) -> analysis -> the findings
 * table -> one Slack digest per batch for what is new or changed. Partial batch failure: a message that cannot be
 * processed is returned in `batchItemFailures` and only it is retried (and, after maxReceiveCount, lands in the DLQ
 * untouched); the others are never failed or lost with it.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
import { checkRecord, type CloudTrailRecord, type FieldProblem } from "../cloudtrail";
import { boundedJson } from "../bounded";
import { analyzeDeny, isDenyRecord } from "./analyze";
import type { DenyStore, StoredFinding } from "./store";
import type { DigestEntry, SlackMessage } from "../slack/denyDigest";
import { buildDenyDigest } from "../slack/denyDigest";

export interface SqsRecord {
  messageId: string;
  body: string;
}

export interface BatchDeps {
  store: DenyStore;
  ownerOf(principalArn: string): Promise<string | null>;
  post(message: SlackMessage): Promise<void>;
  log(entry: Record<string, unknown>): void;
  now(): Date;
}

export interface BatchResult {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * The CloudTrail record in an SQS message body, through the boundary (cloudtrail.ts: fields of the wrong type are
 * absent after it, `ignored` says which), or an error saying why there is none.
 */
export function recordFromBody(body: string, ignored: FieldProblem[] = []): CloudTrailRecord {
  const check = checkRecord(JSON.parse(body) as unknown);
  if (!check.ok) throw new Error(`message body is not a CloudTrail record or EventBridge event (${check.problem})`);
  ignored.push(...check.ignored);
  return check.record;
}

export async function processDenyBatch(records: SqsRecord[], deps: BatchDeps): Promise<BatchResult> {
  const failures: { itemIdentifier: string }[] = [];
  const notices = new Map<string, { finding: StoredFinding; count: number; firstSeen: string; hash: string }>();
  for (const msg of records) {
    let record: CloudTrailRecord;
    const ignored: FieldProblem[] = [];
    try {
      record = recordFromBody(msg.body, ignored);
    } catch (err) {
      // Bad input, not a bug: failed so that it ends in the dead-letter queue as it came, never dropped.
      failures.push({ itemIdentifier: msg.messageId });
      deps.log({ level: "WARN", message: "bad input: not a CloudTrail record", messageId: msg.messageId, error: (err as Error).message });
      continue;
    }
    try {
      if (ignored.length) deps.log({ level: "WARN", message: "fields of the wrong type ignored", messageId: msg.messageId, ignored: ignored.slice(0, 10) });
      if (!isDenyRecord(record)) {
        deps.log({ level: "WARN", message: "not a deny, skipped", messageId: msg.messageId, eventName: record.eventName });
        continue;
      }
      const finding: StoredFinding = boundedJson(await analyzeDeny(record));
      const stored = await deps.store.record(finding, deps.now());
      if (stored.needsNotice) notices.set(stored.key, { finding, count: stored.count, firstSeen: stored.firstSeen, hash: stored.suggestionHash });
    } catch (err) {
      failures.push({ itemIdentifier: msg.messageId });
      deps.log({ level: "ERROR", message: "internal error: message failed", messageId: msg.messageId, error: (err as Error).message });
    }
  }
  if (notices.size > 0) {
    const entries: DigestEntry[] = [];
    for (const n of notices.values()) {
      const owner = n.finding.principalArn ? await deps.ownerOf(n.finding.principalArn).catch(() => null) : null;
      entries.push({ finding: n.finding, count: n.count, firstSeen: n.firstSeen, owner });
    }
    try {
      await deps.post(buildDenyDigest(entries));
      for (const [key, n] of notices) await deps.store.markNotified(key, n.hash);
    } catch (err) {
      // The findings are stored; unmarked, they are announced with their next occurrence. Not an item failure:
      // retrying the messages would count them twice.
      deps.log({ level: "ERROR", message: "digest not posted", error: (err as Error).message, pending: notices.size });
    }
  }
  deps.log({ level: "INFO", message: "batch done", received: records.length, failed: failures.length, notices: notices.size });
  return { batchItemFailures: failures };
}
