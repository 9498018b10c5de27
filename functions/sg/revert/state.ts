/**
 * The security-group review state: one DynamoDB item per new rule (keyed by its security group rule id), moving
 * PENDING -> APPROVED | DENIED | EXPIRED, DENIED -> REVERTED | REVERT_FAILED. Every transition is a conditional
 * write on the current state, so two clicks, two approvers or a retried Lambda can never act twice: the second
 * writer's condition fails and it does nothing. A DENIED item is what the revert worker acts on (the table's stream
 * hands it over).
 */
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  type ScanCommandInput,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import type { SgChange, SgRisk, SgRule } from "../change";
import { boundedText } from "../../boundedKey";

export type ReviewState = "PENDING" | "APPROVED" | "DENIED" | "EXPIRED" | "REVERTED" | "REVERT_FAILED";

/** Which states may move to which: the only transitions any code performs. */
export const TRANSITIONS: Record<ReviewState, ReviewState[]> = {
  PENDING: ["APPROVED", "DENIED", "EXPIRED"],
  DENIED: ["REVERTED", "REVERT_FAILED"],
  APPROVED: [],
  EXPIRED: [],
  REVERTED: [],
  REVERT_FAILED: [],
};

export const PURGE_AFTER_DAYS = 90;
/** BatchGetItem's limit on keys per request. */
export const BATCH_GET_MAX_KEYS = 100;

export interface ReviewItem {
  ruleId: string;
  state: ReviewState;
  /** The CloudTrail event id of the change: every rule of one change shares it and one Slack message. */
  changeId: string;
  ruleIds: string[];
  groupId: string;
  accountId: string;
  region: string;
  direction: "ingress" | "egress";
  rule: SgRule;
  change: SgChange;
  risk: SgRisk;
  channel?: string;
  ts?: string;
  /** Epoch seconds after which a PENDING item expires. */
  expiresAt: number;
  decidedBy?: string;
  decidedAt?: string;
  result?: string;
}

export interface ReviewStore {
  /** Create PENDING (or DENIED for auto-revert) items; false for a rule already recorded (a retried detection). */
  create(item: ReviewItem): Promise<boolean>;
  attachMessage(ruleId: string, channel: string, ts: string): Promise<void>;
  /** Move one rule from one of `from` to `to`; false when its state was not in `from` (someone else acted). */
  transition(ruleId: string, from: ReviewState[], to: ReviewState, fields?: { decidedBy?: string; decidedAt?: string; result?: string }): Promise<boolean>;
  get(ruleIds: string[]): Promise<ReviewItem[]>;
  /** PENDING items past their expiry. */
  expired(nowEpoch: number): Promise<ReviewItem[]>;
  /** Items (any state) with no message ts yet, expiring after `sinceEpoch` (recent reviews). */
  unposted(sinceEpoch: number): Promise<ReviewItem[]>;
}

/**
 * The item's document. Each item carries its change; a change with many long rules (descriptions, paths) would push an
 * item past DynamoDB's 400 KB, so then the item keeps only its own rule of the change (the message shows each item's
 * rule), and long strings are shortened, never the item dropped.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-items
 */
function reviewDoc(i: ReviewItem): string {
  const doc = JSON.stringify({ ...i, state: undefined });
  if (doc.length <= 200_000) return doc;
  const change = { ...i.change, principalArn: i.change.principalArn ? boundedText(i.change.principalArn, 4096) : null, rules: [i.rule] };
  return JSON.stringify({ ...i, state: undefined, change });
}

const toItem = (i: ReviewItem): Record<string, AttributeValue> => {
  const out: Record<string, AttributeValue> = {
    pk: { S: i.ruleId },
    state: { S: i.state },
    changeId: { S: i.changeId },
    doc: { S: reviewDoc(i) },
    expiresAt: { N: String(i.expiresAt) },
    // The table's TTL attribute: decided reviews are kept for audit, then removed.
    purgeAt: { N: String(i.expiresAt + PURGE_AFTER_DAYS * 86400) },
  };
  if (i.channel) out.channel = { S: i.channel };
  if (i.ts) out.ts = { S: i.ts };
  return out;
};

const fromItem = (a: Record<string, AttributeValue>): ReviewItem => ({
  ...(JSON.parse(a.doc.S!) as ReviewItem),
  state: a.state.S as ReviewState,
  channel: a.channel?.S,
  ts: a.ts?.S,
  decidedBy: a.decidedBy?.S,
  decidedAt: a.decidedAt?.S,
  result: a.result?.S,
});

const conditionFailed = (err: unknown) => err instanceof ConditionalCheckFailedException || (err as Error).name === "ConditionalCheckFailedException";

export function dynamoReviewStore(client: DynamoDBClient, table: string): ReviewStore {
  /** Every item a filtered Scan returns, all pages (a Scan page stops at 1 MB). */
  const scanReviews = async (filter: Pick<ScanCommandInput, "FilterExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues">): Promise<ReviewItem[]> => {
    const items: ReviewItem[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await client.send(new ScanCommand({ TableName: table, ...filter, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []).map(fromItem));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  };
  return {
    async create(item) {
      try {
        await client.send(new PutItemCommand({ TableName: table, Item: toItem(item), ConditionExpression: "attribute_not_exists(pk)" }));
        return true;
      } catch (err) {
        if (conditionFailed(err)) return false;
        throw err;
      }
    },
    async attachMessage(ruleId, channel, ts) {
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: ruleId } },
          UpdateExpression: "SET channel = :c, ts = :t",
          ExpressionAttributeValues: { ":c": { S: channel }, ":t": { S: ts } },
        }),
      );
    },
    async transition(ruleId, from, to, fields = {}) {
      for (const f of from) if (!TRANSITIONS[f].includes(to)) throw new Error(`no transition ${f} -> ${to}`);
      const names: Record<string, string> = { "#state": "state" };
      const values: Record<string, AttributeValue> = { ":to": { S: to } };
      from.forEach((f, i) => (values[`:from${i}`] = { S: f }));
      let set = "SET #state = :to";
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        names[`#${k}`] = k;
        values[`:${k}`] = { S: v };
        set += `, #${k} = :${k}`;
      }
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: ruleId } },
            UpdateExpression: set,
            ConditionExpression: `#state IN (${from.map((_, i) => `:from${i}`).join(", ")})`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (err) {
        if (conditionFailed(err)) return false;
        throw err;
      }
    },
    async get(ruleIds) {
      // BatchGetItem refuses a request whose keys repeat ("Provided list of item keys contains duplicates"): two
      // stream records for one rule in a batch are normal. At most 100 keys per request; retry UnprocessedKeys.
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
      const unique = [...new Set(ruleIds)];
      const items: ReviewItem[] = [];
      for (let i = 0; i < unique.length; i += BATCH_GET_MAX_KEYS) {
        let keys: Record<string, AttributeValue>[] | undefined = unique.slice(i, i + BATCH_GET_MAX_KEYS).map((id) => ({ pk: { S: id } }));
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
          if (attempt > 8) throw new Error(`BatchGetItem left ${keys.length} keys unprocessed after ${attempt} attempts`);
          const out: BatchGetItemCommandOutput = await client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
          items.push(...(out.Responses?.[table] ?? []).map(fromItem));
          keys = out.UnprocessedKeys?.[table]?.Keys;
        }
      }
      return unique.map((id) => items.find((i) => i.ruleId === id)).filter((i): i is ReviewItem => i !== undefined);
    },
    async unposted(sinceEpoch) {
      return scanReviews({
        FilterExpression: "attribute_not_exists(ts) AND expiresAt > :since",
        ExpressionAttributeValues: { ":since": { N: String(sinceEpoch) } },
      });
    },
    async expired(nowEpoch) {
      return scanReviews({
        FilterExpression: "#state = :pending AND expiresAt < :now",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":pending": { S: "PENDING" }, ":now": { N: String(nowEpoch) } },
      });
    },
  };
}
