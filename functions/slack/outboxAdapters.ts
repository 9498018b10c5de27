/**
 * The Slack outbox on real services: features enqueue with `sqsNoticeSender`; the poster uses the DynamoDB ledger,
 * the posted-message recorder, the SQS dead-letter sender and the Web API adapter below. Pure logic lives in
 * ./outbox.ts.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { WebClient } from "@slack/web-api";
import { requiredEnv } from "../env";
import { deduplicationId, NOTICE_EVENT_TYPE, type LedgerEntry, type Notice, type OutboxLedger, type OutboxSlack, type PostedUpdate } from "./outbox";

/** How features hand notices to the outbox. */
export interface NoticeSender {
  send(notice: Notice): Promise<void>;
}

/**
 * SendMessage to the outbox's FIFO queue: message group = channel (one channel's notices are delivered in order, one
 * batch at a time), deduplication id = a hash of the notice id (a retried send within 5 minutes is dropped by SQS;
 * later ones by the ledger). https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
 */
export function sqsNoticeSender(sqs: SQSClient, queueUrl: string): NoticeSender {
  return {
    async send(notice) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(notice),
          MessageGroupId: notice.channel,
          MessageDeduplicationId: deduplicationId(notice.id),
        }),
      );
    },
  };
}

/** The outbox queue's URL from the function's environment (set by components/slackOutbox.ts). */
export const OUTBOX_QUEUE_ENV = "SLACK_OUTBOX_QUEUE_URL";

export function envNoticeSender(env: NodeJS.ProcessEnv = process.env): NoticeSender {
  return sqsNoticeSender(new SQSClient({}), requiredEnv(env, OUTBOX_QUEUE_ENV, "the Slack outbox's queue: the function was wired without the outbox"));
}

export const LEDGER_TTL_DAYS = 30;
const failedCondition = (err: unknown) => err instanceof ConditionalCheckFailedException || (err as Error).name === "ConditionalCheckFailedException";

export function dynamoOutboxLedger(client: DynamoDBClient, table: string): OutboxLedger {
  const key = (id: string) => ({ pk: { S: `notice#${id}` } });
  const ttl = (now: number) => ({ N: String(Math.floor(now / 1000) + LEDGER_TTL_DAYS * 86400) });
  /** An attempt's outcome: the state and its fields set, attemptAt removed, the expiry renewed. */
  const settle = (id: string, state: "POSTED" | "DEAD", now: number, fields: Record<string, AttributeValue>, condition?: { expression: string; values: Record<string, AttributeValue> }) =>
    client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key(id),
        UpdateExpression: `SET #state = :state, ${Object.keys(fields).map((f) => `${f} = :${f}`).join(", ")}, expiresAt = :ttl REMOVE attemptAt`,
        ...(condition ? { ConditionExpression: condition.expression } : {}),
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: {
          ":state": { S: state },
          ...Object.fromEntries(Object.entries(fields).map(([f, v]) => [`:${f}`, v])),
          ":ttl": ttl(now),
          ...condition?.values,
        },
      }),
    );
  return {
    async get(id) {
      const out = await client.send(new GetItemCommand({ TableName: table, Key: key(id), ConsistentRead: true }));
      const a = out.Item;
      if (!a) return null;
      return { state: a.state.S as LedgerEntry["state"], channel: a.channel?.S ?? "", ts: a.ts?.S, attemptAt: a.attemptAt ? Number(a.attemptAt.N) : undefined, reason: a.reason?.S };
    },
    async begin(id, channel, now) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(id),
            UpdateExpression: "SET #state = :posting, channel = :c, attemptAt = :now, expiresAt = :ttl ADD attempts :one",
            // A DEAD notice is begun again only when it was redriven from the DLQ (deliverNotice decides).
        ConditionExpression: "attribute_not_exists(pk) OR #state <> :posted",
            ExpressionAttributeNames: { "#state": "state" },
            ExpressionAttributeValues: { ":posting": { S: "POSTING" }, ":posted": { S: "POSTED" }, ":c": { S: channel }, ":now": { N: String(now) }, ":ttl": ttl(now), ":one": { N: "1" } },
          }),
        );
        return true;
      } catch (err) {
        if (failedCondition(err)) return false;
        throw err;
      }
    },
    async clear(id) {
      await client
        .send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(id),
            UpdateExpression: "REMOVE attemptAt",
            ConditionExpression: "#state = :posting",
            ExpressionAttributeNames: { "#state": "state" },
            ExpressionAttributeValues: { ":posting": { S: "POSTING" } },
          }),
        )
        .catch((err) => {
          if (!failedCondition(err)) throw err;
        });
    },
    async posted(id, channel, ts, now) {
      await settle(id, "POSTED", now, { channel: { S: channel }, ts: { S: ts }, postedAt: { N: String(now) } });
    },
    async dead(id, channel, reason, now) {
      // Never over a POSTED entry: a notice Slack took stays posted.
      await settle(id, "DEAD", now, { channel: { S: channel }, reason: { S: reason.slice(0, 500) }, deadAt: { N: String(now) } }, {
        expression: "attribute_not_exists(pk) OR #state <> :posted",
        values: { ":posted": { S: "POSTED" } },
      }).catch((err) => {
        if (!failedCondition(err)) throw err;
      });
    },
    async nextAllowed(channel) {
      const out = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `channel#${channel}` } }, ConsistentRead: true }));
      return out.Item?.nextAllowed ? Number(out.Item.nextAllowed.N) : 0;
    },
    async setNextAllowed(channel, at) {
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: `channel#${channel}` } },
          UpdateExpression: "SET nextAllowed = :at",
          ExpressionAttributeValues: { ":at": { N: String(at) } },
        }),
      );
    },
  };
}

/** Apply onPosted updates: only to items that exist (a purged review is not re-created), only where `ifEquals` holds. */
export function dynamoPostedRecorder(client: DynamoDBClient): (updates: PostedUpdate[], posted: { ts: string; channel: string; postedAt: string }) => Promise<void> {
  return async (updates, posted) => {
    const fill = (v: string) => v.replace(/\{ts\}/g, posted.ts).replace(/\{channel\}/g, posted.channel).replace(/\{postedAt\}/g, posted.postedAt);
    for (const u of updates) {
      const names: Record<string, string> = {};
      const values: Record<string, AttributeValue> = {};
      const sets: string[] = [];
      const conditions = ["attribute_exists(pk)"];
      Object.entries(u.set).forEach(([k, v], i) => {
        names[`#s${i}`] = k;
        values[`:s${i}`] = { S: fill(v) };
        sets.push(`#s${i} = :s${i}`);
      });
      Object.entries(u.ifEquals ?? {}).forEach(([k, v], i) => {
        names[`#c${i}`] = k;
        values[`:c${i}`] = { S: v };
        conditions.push(`#c${i} = :c${i}`);
      });
      await client
        .send(
          new UpdateItemCommand({
            TableName: u.table,
            Key: { pk: { S: u.pk } },
            UpdateExpression: `SET ${sets.join(", ")}`,
            ConditionExpression: conditions.join(" AND "),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        )
        .catch((err) => {
          if (!failedCondition(err)) throw err;
        });
    }
  };
}

/** The dead-letter queue (FIFO, like the outbox): the original body, with the reason as a message attribute. */
export function sqsDeadLetter(sqs: SQSClient, queueUrl: string): (body: string, channel: string, reason: string) => Promise<void> {
  return async (body, channel, reason) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageGroupId: channel || "unknown",
        MessageDeduplicationId: deduplicationId(`dead:${body}`),
        MessageAttributes: { reason: { DataType: "String", StringValue: reason.slice(0, 1000) } },
      }),
    );
  };
}

/**
 * chat.postMessage with the notice id as message metadata, and the search an uncertain retry makes: the channel's
 * history (or the thread's replies) since the first attempt, metadata included. Needs channels:history (public
 * channels) or groups:history (private ones). https://api.slack.com/methods/conversations.history
 */
export function webClientOutboxSlack(client: WebClient): OutboxSlack {
  const carries = (m: { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }, id: string) =>
    m.metadata?.event_type === NOTICE_EVENT_TYPE && m.metadata.event_payload?.notice_id === id;
  return {
    async post(n: Notice) {
      const base = {
        channel: n.channel,
        text: n.text,
        blocks: n.blocks as any,
        unfurl_links: false,
        metadata: { event_type: NOTICE_EVENT_TYPE, event_payload: { notice_id: n.id } },
      };
      const out = await client.chat.postMessage(n.thread_ts ? { ...base, thread_ts: n.thread_ts, reply_broadcast: n.reply_broadcast ?? false } : base);
      return { ts: out.ts! };
    },
    async find(n: Notice, sinceMs: number) {
      const oldest = (Math.max(0, sinceMs) / 1000).toFixed(6);
      const out = n.thread_ts
        ? await client.conversations.replies({ channel: n.channel, ts: n.thread_ts, oldest, include_all_metadata: true, limit: 200 } as any)
        : await client.conversations.history({ channel: n.channel, oldest, include_all_metadata: true, limit: 200 });
      const hit = ((out.messages ?? []) as any[]).find((m) => carries(m, n.id));
      return hit?.ts ?? null;
    },
  };
}
