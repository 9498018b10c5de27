/**
 * Local stand-ins for the Slack outbox's services, on 127.0.0.1: an SQS stub (the JSON protocol SDK v3 speaks, FIFO
 * rules enforced as SQS enforces them), a scriptable Slack Web API (429 with Retry-After, 5xx, slow answers, platform
 * errors, message metadata kept for conversations.history), and `drainOutbox`, which hands queued notices to the
 * poster as Lambda's SQS event source would (FIFO batches of 10, failed items back in the queue).
 * SQS SendMessage: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
import * as crypto from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import { slackRequest } from "./localServices";

export interface Running {
  url: string;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}
const closer = (server: http.Server) => () =>
  new Promise<void>((r) => {
    server.closeAllConnections?.();
    server.close(() => r());
  });

export interface QueuedMessage {
  messageId: string;
  body: string;
  groupId?: string;
  deduplicationId?: string;
  attributes: Record<string, string>;
  receiveCount: number;
}

/** SQS over JSON 1.0: SendMessage only. Queues by name (the URL's last path part); FIFO queues dedupe for 5 minutes. */
export async function startSqsStub(
  now: () => number = Date.now,
): Promise<Running & { queues: Record<string, QueuedMessage[]>; urlOf(name: string): string; refused: string[]; failNext: { count: number } }> {
  const queues: Record<string, QueuedMessage[]> = {};
  /** Answer the next `count` requests with a 500 (SQS unavailable); the SDK retries 500s, 3 attempts in all. */
  const failNext = { count: 0 };
  const seen: Record<string, number> = {};
  const refused: string[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const input = JSON.parse(body || "{}");
      res.setHeader("content-type", "application/x-amz-json-1.0");
      const fail = (type: string, message: string) => {
        refused.push(`${type}: ${message}`);
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }));
      };
      if (failNext.count > 0) {
        failNext.count--;
        res.statusCode = 500;
        return void res.end(JSON.stringify({ __type: "com.amazonaws.sqs#InternalError", message: "We encountered an internal error. Please try again." }));
      }
      if (target !== "AmazonSQS.SendMessage") return fail("UnsupportedOperation", target);
      const name = String(input.QueueUrl ?? "").split("/").pop()!;
      const fifo = name.endsWith(".fifo");
      // FIFO queues require a group id, and a deduplication id unless content-based deduplication is on (it is not).
      if (fifo && !input.MessageGroupId) return fail("MissingParameter", "The request must contain the parameter MessageGroupId.");
      if (fifo && !input.MessageDeduplicationId) return fail("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
      if (fifo && String(input.MessageDeduplicationId).length > 128) return fail("InvalidParameterValue", "MessageDeduplicationId longer than 128");
      if (!fifo && input.MessageGroupId) return fail("InvalidParameterValue", "MessageGroupId on a standard queue");
      if (Buffer.byteLength(String(input.MessageBody ?? "")) > 262144) return fail("InvalidParameterValue", "message too long");
      const md5 = crypto.createHash("md5").update(String(input.MessageBody ?? "")).digest("hex");
      const id = `m-${++n}`;
      const dedupe = `${name}|${input.MessageDeduplicationId}`;
      if (fifo && seen[dedupe] !== undefined && now() - seen[dedupe] < 300_000) return void res.end(JSON.stringify({ MessageId: id, MD5OfMessageBody: md5, SequenceNumber: String(n) }));
      if (fifo) seen[dedupe] = now();
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(input.MessageAttributes ?? {})) attributes[k] = (v as { StringValue?: string }).StringValue ?? "";
      (queues[name] = queues[name] ?? []).push({ messageId: id, body: input.MessageBody, groupId: input.MessageGroupId, deduplicationId: input.MessageDeduplicationId, attributes, receiveCount: 0 });
      res.end(JSON.stringify({ MessageId: id, MD5OfMessageBody: md5, ...(fifo ? { SequenceNumber: String(n) } : {}) }));
    });
  });
  const url = await listen(server);
  return { url, queues, refused, failNext, urlOf: (name) => `${url}/444455556666/${name}`, close: closer(server) };
}

/** One scripted answer to chat.postMessage. */
export type SlackAnswer =
  | "ok"
  | { status: 429; retryAfter: number }
  | { status: 500; posted?: boolean }
  | { delayMs: number }
  | { error: string };

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** When the stub accepted it (its clock). */
  at: number;
}

/**
 * The Slack Web API: chat.postMessage answers from `script` (then "ok"); an accepted message is kept (with its metadata)
 * for conversations.history / replies. `minIntervalMs` makes it answer 429 to posts into one channel closer together than
 * that (by its clock), as Slack's rate limit does; such a post is not kept.
 */
export async function startScriptedSlack(opts: { now?: () => number; minIntervalMs?: number } = {}): Promise<
  Running & { apiUrl: string; script: SlackAnswer[]; messages: PostedMessage[]; calls: { method: string; args: Record<string, any> }[] }
> {
  const now = opts.now ?? Date.now;
  const script: SlackAnswer[] = [];
  const messages: PostedMessage[] = [];
  const calls: { method: string; args: Record<string, any> }[] = [];
  const lastAt: Record<string, number> = {};
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { method, args } = slackRequest(req, body);
      calls.push({ method, args });
      res.setHeader("content-type", "application/json");
      const ok = (o: object) => res.end(JSON.stringify({ ok: true, ...o }));
      if (method === "chat.postMessage") {
        const keep = () => {
          const m: PostedMessage = { channel: args.channel, ts: `1700000000.${String(++n).padStart(6, "0")}`, text: args.text, thread_ts: args.thread_ts, metadata: args.metadata, at: now() };
          messages.push(m);
          lastAt[args.channel] = m.at;
          return m;
        };
        const answer = script.shift() ?? "ok";
        if (answer === "ok") {
          if (opts.minIntervalMs && lastAt[args.channel] !== undefined && now() - lastAt[args.channel] < opts.minIntervalMs) {
            res.statusCode = 429;
            res.setHeader("retry-after", "1");
            return void res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
          }
          return ok({ channel: args.channel, ts: keep().ts });
        }
        if ("status" in answer && answer.status === 429) {
          res.statusCode = 429;
          res.setHeader("retry-after", String(answer.retryAfter));
          return void res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
        }
        if ("status" in answer && answer.status === 500) {
          if (answer.posted) keep();
          res.statusCode = 500;
          return void res.end("upstream error");
        }
        if ("delayMs" in answer) {
          // Slack took the message but answers too late: the client gives up first.
          const m = keep();
          return void setTimeout(() => ok({ channel: args.channel, ts: m.ts }), answer.delayMs);
        }
        return void res.end(JSON.stringify({ ok: false, error: answer.error }));
      }
      if (method === "conversations.history" || method === "conversations.replies") {
        const oldest = Number(args.oldest ?? 0);
        const list = messages.filter((m) => m.channel === args.channel && Number(m.ts) >= 0 && m.at / 1000 >= oldest && (method === "conversations.history" ? !m.thread_ts : m.thread_ts === args.ts));
        const withMeta = String(args.include_all_metadata) === "true";
        return ok({ messages: list.map((m) => ({ type: "message", ts: m.ts, text: m.text, ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) })) });
      }
      return ok({ channel: args.channel, ts: `1700000000.${String(++n).padStart(6, "0")}` });
    });
  });
  const url = await listen(server);
  return { url, apiUrl: `${url}/api/`, script, messages, calls, close: closer(server) };
}

/**
 * Deliver what waits in `queue` to `handler` as Lambda's SQS event source does for a FIFO queue: in order, batches of
 * up to 10, items the handler reports failed stay (their receive count grows); after `maxReceiveCount` receives a
 * message moves to `dlq` (the redrive policy). Stops when the queue is empty or after `rounds` batches.
 */
export async function drainOutbox(
  sqs: { queues: Record<string, QueuedMessage[]> },
  queue: string,
  dlq: string,
  handler: (event: unknown, context?: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
  opts: { rounds?: number; maxReceiveCount?: number; remainingMs?: number } = {},
): Promise<{ invocations: number }> {
  let invocations = 0;
  for (let round = 0; round < (opts.rounds ?? 50); round++) {
    const q = sqs.queues[queue] ?? [];
    if (q.length === 0) break;
    const batch = q.slice(0, 10);
    for (const m of batch) m.receiveCount++;
    const out = await handler(
      {
        Records: batch.map((m) => ({
          messageId: m.messageId,
          body: m.body,
          attributes: { MessageGroupId: m.groupId, ApproximateReceiveCount: String(m.receiveCount) },
          // As Lambda's SQS event carries them.
          messageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, { stringValue: v, dataType: "String" }])),
          eventSource: "aws:sqs",
        })),
      },
      { getRemainingTimeInMillis: () => opts.remainingMs ?? 60_000 },
    );
    invocations++;
    const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
    sqs.queues[queue] = [...batch.filter((m) => failed.has(m.messageId)), ...q.slice(batch.length)];
    for (const m of [...sqs.queues[queue]]) {
      if (m.receiveCount >= (opts.maxReceiveCount ?? 10)) {
        sqs.queues[queue] = sqs.queues[queue].filter((x) => x !== m);
        (sqs.queues[dlq] = sqs.queues[dlq] ?? []).push(m);
      }
    }
  }
  return { invocations };
}

export const OUTBOX_QUEUE = "outbox.fifo";
export const OUTBOX_DLQ = "outbox-dlq.fifo";
export const OUTBOX_LEDGER = "outbox-ledger";

type Handler = (event: unknown, context?: unknown) => Promise<any>;

/**
 * The Slack outbox for a feature's archive test: the SQS stub (AWS_ENDPOINT_URL_SQS) and the environment the feature
 * and the poster need (queue URLs, ledger table). `deliver()` runs the poster from the plan's archive on what waits.
 * Call after the feature's own stubs are up; `ddb` must be the dynalite client the tables live in.
 */
export async function outboxHarness(opts: {
  ddb: { client: import("@aws-sdk/client-dynamodb").DynamoDBClient };
  poster: () => Handler;
  createTable: (client: import("@aws-sdk/client-dynamodb").DynamoDBClient, name: string, key: string) => Promise<void>;
}): Promise<Running & { sqs: Awaited<ReturnType<typeof startSqsStub>>; deliver(): Promise<void>; dead(): QueuedMessage[] }> {
  const sqs = await startSqsStub();
  await opts.createTable(opts.ddb.client, OUTBOX_LEDGER, "pk");
  process.env.AWS_ENDPOINT_URL_SQS = sqs.url;
  Object.assign(process.env, {
    SLACK_OUTBOX_QUEUE_URL: sqs.urlOf(OUTBOX_QUEUE),
    OUTBOX_LEDGER_TABLE: OUTBOX_LEDGER,
    OUTBOX_DLQ_URL: sqs.urlOf(OUTBOX_DLQ),
    SLACK_MIN_INTERVAL_MS: "20",
    SLACK_TIMEOUT_MS: "2000",
  });
  let poster: Handler | undefined;
  return {
    url: sqs.url,
    sqs,
    async deliver() {
      poster = poster ?? opts.poster();
      await drainOutbox(sqs, OUTBOX_QUEUE, OUTBOX_DLQ, poster);
    },
    dead: () => sqs.queues[OUTBOX_DLQ] ?? [],
    close: sqs.close,
  };
}
