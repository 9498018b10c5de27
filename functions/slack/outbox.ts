/**
 * The Slack outbox: the one way every feature's notice reaches the channel. Features hand a notice (a stable id, the
 * channel, the message, and where to record the posted message's ts) to an SQS FIFO queue, message group = channel;
 * one poster drains it, paced per channel, so a burst is queued, never dropped and never posted in parallel into one
 * channel. Delivery is idempotent per notice id:
 * - a ledger item per notice (DynamoDB) says POSTED with the message ts once Slack accepted it; a re-enqueued or
 *   redelivered notice finds it and is not posted again (its "posted" updates are re-applied: they are idempotent);
 * - an attempt whose outcome is unknown (a timeout, a 5xx) leaves the ledger POSTING; before posting again the poster
 *   looks for the message in the channel by its message metadata (the notice id), so a post Slack did accept is
 *   recorded, not repeated;
 * - a permanent failure (channel not found, bot not in the channel, invalid blocks...) goes to the dead-letter queue
 *   at once, with the reason, and a log line naming the notice; the DLQ's alarm tells people.
 * Slack: chat.postMessage "generally allows posting one message per second per channel" and answers 429 with
 * Retry-After (seconds) beyond it. https://api.slack.com/docs/rate-limits
 * Message metadata: https://docs.slack.dev/messaging/message-metadata
 * FIFO + partial batch responses: stop at the first failure and report it and every later message, or the group's
 * order breaks. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import { createHash } from "crypto";

/** What a feature hands to the outbox. */
export interface Notice {
  /** Stable per notice (the same notice always gets the same id): the outbox posts an id at most once. */
  id: string;
  /** The feature that sent it, for logs. */
  source: string;
  channel: string;
  text: string;
  blocks: object[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  /** Where to record the posted message (state and notice together): an UpdateItem per entry once Slack accepted it. */
  onPosted?: PostedUpdate[];
}

/**
 * `SET <field> = <value>` on item `pk` of `table` (only if the item exists, and only if `ifEquals` holds).
 * Values may name the posted message: `{ts}`, `{channel}`, `{postedAt}` (ISO time).
 */
export interface PostedUpdate {
  table: string;
  pk: string;
  set: Record<string, string>;
  ifEquals?: Record<string, string>;
}

export const NOTICE_EVENT_TYPE = "trailwatch_notice";
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const CHANNEL = /^[CGD][A-Z0-9]{8,12}$/;

/** The notice in an SQS message body, or why it cannot be one (a permanent failure: it goes to the DLQ). */
export function parseNotice(body: string): Notice | { invalid: string } {
  let v: any;
  try {
    v = JSON.parse(body);
  } catch {
    return { invalid: "body is not JSON" };
  }
  if (!v || typeof v !== "object") return { invalid: "body is not an object" };
  if (typeof v.id !== "string" || v.id.length === 0 || v.id.length > 512) return { invalid: "id: a string of 1-512 characters" };
  if (typeof v.channel !== "string" || !CHANNEL.test(v.channel)) return { invalid: `channel: a Slack channel id, found ${JSON.stringify(v.channel)}` };
  if (typeof v.text !== "string") return { invalid: "text: a string" };
  if (!Array.isArray(v.blocks)) return { invalid: "blocks: an array" };
  for (const u of v.onPosted ?? []) {
    if (typeof u?.table !== "string" || typeof u?.pk !== "string" || typeof u?.set !== "object") return { invalid: "onPosted: {table, pk, set}" };
    for (const k of [...Object.keys(u.set), ...Object.keys(u.ifEquals ?? {})]) if (!FIELD.test(k)) return { invalid: `onPosted: bad field name ${k}` };
  }
  return { source: "unknown", ...v } as Notice;
}

/** SQS FIFO deduplication id (at most 128 characters): a hash of the notice id. */
export function deduplicationId(noticeId: string): string {
  return createHash("sha256").update(noticeId).digest("hex");
}

/** A short stable id from parts (for notices whose natural key is long, e.g. a digest's list of findings). */
export function noticeId(kind: string, ...parts: string[]): string {
  return `${kind}:${createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 32)}`;
}

export type SlackFailure =
  | { kind: "rate-limited"; retryAfterMs: number; reason: string }
  /** The notice can never be posted as it is (or the app cannot post at all): dead-letter it. */
  | { kind: "permanent"; reason: string }
  /** Worth another try; `unknown` when Slack may have posted it anyway (a timeout, a 5xx). */
  | { kind: "transient"; reason: string; unknown: boolean };

/**
 * Slack `error` codes that no retry fixes. chat.postMessage's errors: https://api.slack.com/methods/chat.postMessage#errors
 * Auth errors are here too: every notice would fail the same way until someone fixes the token, so they go to the DLQ
 * (and its alarm) at once and are redriven after the fix.
 */
export const PERMANENT_ERRORS = [
  "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text",
  "too_many_attachments", "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "message_limit_exceeded",
  "restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
  "cannot_reply_to_message", "thread_reply_not_found", "invalid_arguments", "invalid_auth", "not_authed", "account_inactive",
  "token_revoked", "token_expired", "no_permission", "missing_scope", "ekm_access_denied", "team_access_not_granted",
];

/** How an error from @slack/web-api (rejectRateLimitedCalls, no retries) counts. */
export function classifySlackError(err: unknown): SlackFailure {
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number; statusCode?: number; message?: string };
  if (e?.code === "slack_webapi_rate_limited_error") {
    const s = Number(e.retryAfter);
    return { kind: "rate-limited", retryAfterMs: Number.isFinite(s) && s > 0 ? s * 1000 : 1000, reason: `ratelimited (Retry-After ${e.retryAfter ?? "?"})` };
  }
  if (e?.code === "slack_webapi_platform_error") {
    const code = e.data?.error ?? "unknown_error";
    if (code === "ratelimited") return { kind: "rate-limited", retryAfterMs: 1000, reason: code };
    if (PERMANENT_ERRORS.includes(code)) return { kind: "permanent", reason: code };
    // internal_error, fatal_error, service_unavailable, request_timeout...: Slack may have posted before failing.
    return { kind: "transient", reason: code, unknown: true };
  }
  if (e?.code === "slack_webapi_http_error") {
    const status = Number(e.statusCode);
    return { kind: "transient", reason: `HTTP ${status}`, unknown: status >= 500 };
  }
  // slack_webapi_request_error (timeout, connection reset) or anything else: the outcome is unknown.
  return { kind: "transient", reason: (e?.message ?? String(err)).slice(0, 200), unknown: true };
}

export interface LedgerEntry {
  state: "POSTING" | "POSTED" | "DEAD";
  channel: string;
  ts?: string;
  /** When the last attempt started (epoch ms); set while POSTING. */
  attemptAt?: number;
  reason?: string;
}

/** The outbox's memory of each notice and each channel's pace. */
export interface OutboxLedger {
  get(id: string): Promise<LedgerEntry | null>;
  /** An attempt starts (POSTING, attemptAt = now); false when the notice is POSTED or DEAD already. */
  begin(id: string, channel: string, now: number): Promise<boolean>;
  /** The attempt surely posted nothing (429, a definite error): the next attempt needs no search. */
  clear(id: string): Promise<void>;
  posted(id: string, channel: string, ts: string, now: number): Promise<void>;
  dead(id: string, channel: string, reason: string, now: number): Promise<void>;
  /** Epoch ms before which nothing may be posted to the channel (its pace, or a Retry-After). */
  nextAllowed(channel: string): Promise<number>;
  setNextAllowed(channel: string, at: number): Promise<void>;
}

export interface OutboxSlack {
  /** chat.postMessage with the notice id in the message metadata. */
  post(n: Notice): Promise<{ ts: string }>;
  /** The ts of a message carrying this notice id posted since `sinceMs`, or null. */
  find(n: Notice, sinceMs: number): Promise<string | null>;
}

export interface OutboxDeps {
  ledger: OutboxLedger;
  slack: OutboxSlack;
  /** Apply a notice's onPosted updates (idempotent). */
  record(updates: PostedUpdate[], posted: { ts: string; channel: string; postedAt: string }): Promise<void>;
  /** Send a message body to the dead-letter queue with the reason. */
  deadLetter(body: string, channel: string, reason: string): Promise<void>;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Milliseconds left in this invocation. */
  remainingMs(): number;
  log(line: object): void;
  /** Minimum spacing between posts to one channel. @default 1000 */
  minIntervalMs?: number;
  /** Attempts per notice per invocation. @default 3 */
  maxAttempts?: number;
  /** Time kept in hand for one Slack call and the bookkeeping after it. @default 15000 */
  reserveMs?: number;
}

export type DeliveryOutcome = "posted" | "found" | "duplicate" | "dead" | "retry";

/**
 * Post one notice exactly once, or dead-letter it, or leave it for a later try ("retry"). `redriven`: the message came
 * back from the DLQ (it carries the DLQ's `reason` attribute): a notice dead-lettered before is tried again, since
 * someone fixed the cause; a feature's re-send of a dead notice is not.
 */
export async function deliverNotice(n: Notice, body: string, deps: OutboxDeps, redriven = false): Promise<DeliveryOutcome> {
  const interval = deps.minIntervalMs ?? 1000;
  const reserve = deps.reserveMs ?? 15_000;
  const log = (level: string, message: string, extra: object = {}) => deps.log({ level, message, notice: n.id, source: n.source, channel: n.channel, ...extra });
  const done = async (ts: string, outcome: "posted" | "found") => {
    const postedAt = new Date(deps.now()).toISOString();
    await deps.ledger.posted(n.id, n.channel, ts, deps.now());
    if (n.onPosted?.length) await deps.record(n.onPosted, { ts, channel: n.channel, postedAt });
    log("INFO", outcome === "posted" ? "posted" : "found already posted", { ts });
    return outcome;
  };

  const prev = await deps.ledger.get(n.id);
  if (prev?.state === "POSTED") {
    if (n.onPosted?.length && prev.ts) await deps.record(n.onPosted, { ts: prev.ts, channel: prev.channel, postedAt: new Date(deps.now()).toISOString() });
    log("INFO", "already posted", { ts: prev.ts });
    return "duplicate";
  }
  if (prev?.state === "DEAD" && !redriven) {
    log("WARN", "already dead-lettered (redrive the DLQ to try again)", { reason: prev.reason });
    return "duplicate";
  }
  let searchSince = prev?.state === "POSTING" && prev.attemptAt ? prev.attemptAt : null;

  for (let attempt = 1; attempt <= (deps.maxAttempts ?? 3); attempt++) {
    if (searchSince !== null) {
      // An earlier attempt's outcome is unknown: Slack may have posted it. Look before posting again.
      const ts = await deps.slack.find(n, searchSince - 5_000).catch((err) => {
        log("WARN", "could not search the channel for an earlier attempt; posting again (at least once)", { error: (err as Error).message });
        return null;
      });
      if (ts) return done(ts, "found");
    }
    const wait = Math.max(0, (await deps.ledger.nextAllowed(n.channel)) - deps.now());
    if (wait + reserve > deps.remainingMs()) {
      log("INFO", "out of time; left for the next delivery", { waitMs: wait });
      return "retry";
    }
    if (wait > 0) await deps.sleep(wait);
    if (!(await deps.ledger.begin(n.id, n.channel, deps.now()))) {
      log("INFO", "posted or dead-lettered by another delivery meanwhile");
      return "duplicate";
    }
    const startedAt = deps.now();
    try {
      const { ts } = await deps.slack.post(n);
      await deps.ledger.setNextAllowed(n.channel, startedAt + interval);
      return await done(ts, "posted");
    } catch (err) {
      const f = classifySlackError(err);
      if (f.kind === "permanent") {
        // One log line that says which notice and why; the DLQ's alarm tells people.
        log("ERROR", "dead-lettered: Slack refused the notice", { reason: f.reason });
        await deps.deadLetter(body, n.channel, f.reason);
        await deps.ledger.dead(n.id, n.channel, f.reason, deps.now());
        return "dead";
      }
      if (f.kind === "rate-limited") {
        await deps.ledger.clear(n.id);
        searchSince = null;
        await deps.ledger.setNextAllowed(n.channel, deps.now() + Math.max(f.retryAfterMs, interval));
        log("WARN", "rate limited", { retryAfterMs: f.retryAfterMs, attempt });
        continue;
      }
      log("WARN", "post failed", { reason: f.reason, unknownOutcome: f.unknown, attempt });
      if (f.unknown) searchSince = startedAt;
      else {
        await deps.ledger.clear(n.id);
        searchSince = null;
      }
      // Back off 1 s, 2 s, 4 s... (and never faster than the channel's pace).
      await deps.ledger.setNextAllowed(n.channel, deps.now() + Math.max(interval, 1000 * 2 ** (attempt - 1)));
    }
  }
  return "retry";
}

export interface SqsRecord {
  messageId: string;
  body: string;
  messageAttributes?: Record<string, { stringValue?: string } | undefined>;
}

/**
 * An SQS FIFO batch: notices in order; at the first one that must be retried, it and every later record are reported
 * as batch item failures (the group's order holds; posted ones are not repeated, the ledger knows them).
 */
export async function processOutboxBatch(records: SqsRecord[], deps: OutboxDeps): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const failures: { itemIdentifier: string }[] = [];
  const counts: Record<string, number> = {};
  for (const r of records) {
    if (failures.length > 0) {
      failures.push({ itemIdentifier: r.messageId });
      continue;
    }
    let outcome: DeliveryOutcome;
    try {
      const n = parseNotice(r.body);
      if ("invalid" in n) {
        deps.log({ level: "ERROR", message: "dead-lettered: not a notice", messageId: r.messageId, reason: n.invalid });
        await deps.deadLetter(r.body, "unknown", `invalid notice: ${n.invalid}`);
        outcome = "dead";
      } else outcome = await deliverNotice(n, r.body, deps, r.messageAttributes?.reason?.stringValue !== undefined);
    } catch (err) {
      deps.log({ level: "ERROR", message: "delivery failed", messageId: r.messageId, error: (err as Error).message });
      outcome = "retry";
    }
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    if (outcome === "retry") failures.push({ itemIdentifier: r.messageId });
  }
  deps.log({ level: "INFO", message: "batch done", received: records.length, ...counts, failed: failures.length });
  return { batchItemFailures: failures };
}
