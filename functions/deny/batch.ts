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
import { findingKey, type DenyStore, type StoredFinding } from "./store";
import type { DigestEntry, DigestOptions, SlackMessage } from "./digest";
import { buildDenyDigest } from "./digest";
import { readDecodedMessage, type Decoder } from "./decode";

export interface SqsRecord {
  messageId: string;
  body: string;
}

export interface BatchDeps {
  store: DenyStore;
  ownerOf(principalArn: string): Promise<string | null>;
  /**
   * Hand the digest to the Slack outbox; `marks` are the findings it announces (key and suggestion hash), which the
   * outbox marks notified once Slack accepted the message (functions/slack/notices.ts denyDigestNotice).
   */
  post(message: SlackMessage, marks: { key: string; hash: string }[]): Promise<void>;
  log(entry: Record<string, unknown>): void;
  now(): Date;
  /** What the digest shows beyond the findings (account names, mentionable ids); added, optional. */
  digestOptions?: DigestOptions;
  /** Decodes EC2's encoded messages in the producing account (the decode spoke); absent: findings stay undecoded. */
  decode?: Decoder;
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

/**
 * The finding with its encoded message decoded in the producing account, or the undecoded finding unchanged when
 * there is nothing to decode or decoding fails (not permitted, throttled, expired, no spoke): never lost for it.
 */
async function withDecoded(record: CloudTrailRecord, finding: Awaited<ReturnType<typeof analyzeDeny>>, deps: BatchDeps) {
  if (!deps.decode || !finding.encodedMessage || !finding.accountId) return finding;
  try {
    const decoded = readDecodedMessage(await deps.decode(finding.accountId, finding.region, finding.encodedMessage));
    if (!decoded) throw new Error("not a decoded authorization message");
    return await analyzeDeny(record, { decoded });
  } catch (err) {
    deps.log({ level: "WARN", message: "encoded message not decoded, undecoded finding kept", accountId: finding.accountId, eventId: finding.eventId, error: String((err as Error)?.name ?? "") + ": " + String((err as Error)?.message ?? err).slice(0, 300) });
    return finding;
  }
}

export async function processDenyBatch(records: SqsRecord[], deps: BatchDeps): Promise<BatchResult> {
  const failures: { itemIdentifier: string }[] = [];
  const notices = new Map<string, { finding: StoredFinding; principalArn: string | null | undefined; count: number; firstSeen: string; hash: string }>();
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
      const full = await withDecoded(record, await analyzeDeny(record), deps);
      const finding: StoredFinding = boundedJson(full);
      // Who and what is denied come from the record's own values, not from the copy cut to 2,048 characters for
      // storage: two principals (or resources) alike in their first 2,048 characters stay two findings (findingKey
      // hashes what is longer), and the owner lookup keeps the role name at the end of the ARN.
      const stored = await deps.store.record(finding, deps.now(), findingKey(full));
      if (stored.needsNotice) notices.set(stored.key, { finding, principalArn: full.principalArn, count: stored.count, firstSeen: stored.firstSeen, hash: stored.suggestionHash });
    } catch (err) {
      failures.push({ itemIdentifier: msg.messageId });
      deps.log({ level: "ERROR", message: "internal error: message failed", messageId: msg.messageId, error: (err as Error).message });
    }
  }
  if (notices.size > 0) {
    const entries: DigestEntry[] = [];
    for (const n of notices.values()) {
      const owner = n.principalArn ? await deps.ownerOf(n.principalArn).catch(() => null) : null;
      entries.push({ finding: n.finding, count: n.count, firstSeen: n.firstSeen, owner });
    }
    try {
      await deps.post(buildDenyDigest(entries, deps.digestOptions), [...notices].map(([key, n]) => ({ key, hash: n.hash })));
    } catch (err) {
      // Only the hand-over to the outbox can fail here (SQS, after the SDK's retries). The findings are stored;
      // unmarked, they are announced with their next occurrence. Not an item failure: retrying the messages would
      // count them twice.
      deps.log({ level: "ERROR", message: "digest not queued", error: (err as Error).message, pending: notices.size });
    }
  }
  deps.log({ level: "INFO", message: "batch done", received: records.length, failed: failures.length, notices: notices.size });
  return { batchItemFailures: failures };
}
