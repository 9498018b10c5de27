/**
 * Rollout windows in DynamoDB: one item per watched policy (`window#<policy id>`) holding the window, its deny counts
 * by "account|action", a few sample principals, the total, and whether the alert and a detach happened; one item per
 * day (`actions#<day>`) counting denies by action, for the top-N Action dimension. `total` and `detach` are DynamoDB
 * reserved words (dynalite refuses them as the service does): always through expression attribute names. Counting is an atomic update
 * conditioned on the window being open; the alert and the detach request are conditional writes, so each happens once.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import type { RolloutWindow, WindowCounts } from "./watch";
import { boundedKey, boundedText } from "../boundedKey";

export interface StoredWindow {
  window: RolloutWindow;
  status: "OPEN" | "CLOSED";
  counts: WindowCounts;
  total: number;
  lastDigestTotal: number;
  alerted: boolean;
  channel?: string;
  ts?: string;
  alertTs?: string;
  detach?: { status: "REQUESTED" | "DETACHED" | "FAILED"; by: string; at: string; targetId: string; result?: string };
}

export interface WindowStore {
  /** Open (or re-open) a window; an open one is extended and keeps its counts. */
  open(w: RolloutWindow): Promise<{ extended: boolean }>;
  get(policyId: string): Promise<StoredWindow | null>;
  setMessage(policyId: string, field: "ts" | "alertTs", channel: string, ts: string): Promise<void>;
  /** Count a deny in the policy's open window; null when no window is open. */
  count(policyId: string, key: string, principal: string | null): Promise<{ total: number; alerted: boolean } | null>;
  /** Claim the window's alert; false when it was sent already. */
  claimAlert(policyId: string): Promise<boolean>;
  listOpen(): Promise<StoredWindow[]>;
  setDigestTotal(policyId: string, total: number): Promise<void>;
  close(policyId: string): Promise<void>;
  /** Claim the detach; false when one was requested already. */
  requestDetach(policyId: string, by: string, targetId: string, at: string): Promise<boolean>;
  finishDetach(policyId: string, status: "DETACHED" | "FAILED", result: string): Promise<boolean>;
  countAction(day: string, action: string): Promise<void>;
  topActions(day: string, n: number): Promise<string[]>;
}

const failed = (e: unknown) => e instanceof ConditionalCheckFailedException || (e as Error).name === "ConditionalCheckFailedException";
const num = (a?: AttributeValue) => Number(a?.N ?? 0);

function fromItem(a: Record<string, AttributeValue>): StoredWindow {
  // fromEntries defines own keys: an "account|action" key can be any text (even "__proto__") and still counts.
  const counts: Record<string, number> = Object.fromEntries(Object.entries(a.counts?.M ?? {}).map(([k, v]) => [k, num(v)]));
  return {
    window: JSON.parse(a.doc.S!),
    status: a.status.S as StoredWindow["status"],
    counts: { byAccountAction: counts, samplePrincipals: (a.samples?.SS ?? []).sort() },
    total: num(a.total),
    lastDigestTotal: num(a.lastDigestTotal),
    alerted: a.alerted?.BOOL ?? false,
    channel: a.channel?.S,
    ts: a.ts?.S,
    alertTs: a.alertTs?.S,
    detach: a.detach?.S ? JSON.parse(a.detach.S) : undefined,
  };
}

export function dynamoWindowStore(client: DynamoDBClient, table: string): WindowStore {
  // Keys within DynamoDB's 2,048 bytes whatever the policy id or action says (functions/boundedKey.ts).
  const key = (policyId: string) => ({ pk: { S: boundedKey(`window#${policyId}`) } });
  // A plain object, not a Map: CallbackFunction serializes captured module state (see functions/slack/client.ts).
  const topCache: Record<string, { actions: string[]; until: number } | undefined> = {};
  const closesEpoch = (w: RolloutWindow) => ({ N: String(Math.floor(new Date(w.closesAt).getTime() / 1000)) });
  return {
    async open(w) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: table,
            Item: {
              ...key(w.policyId),
              doc: { S: JSON.stringify(w) },
              status: { S: "OPEN" },
              closesAt: closesEpoch(w),
              counts: { M: {} },
              total: { N: "0" },
              lastDigestTotal: { N: "0" },
              alerted: { BOOL: false },
              purgeAt: { N: String(Math.floor(new Date(w.closesAt).getTime() / 1000) + 90 * 86400) },
            },
            ConditionExpression: "attribute_not_exists(pk) OR #s = :closed",
            ExpressionAttributeNames: { "#s": "status" },
            ExpressionAttributeValues: { ":closed": { S: "CLOSED" } },
          }),
        );
        return { extended: false };
      } catch (e) {
        if (!failed(e)) throw e;
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(w.policyId),
            UpdateExpression: "SET closesAt = :c, doc = :d",
            ExpressionAttributeValues: { ":c": closesEpoch(w), ":d": { S: JSON.stringify(w) } },
          }),
        );
        return { extended: true };
      }
    },
    async get(policyId) {
      const out = await client.send(new GetItemCommand({ TableName: table, Key: key(policyId), ConsistentRead: true }));
      return out.Item ? fromItem(out.Item) : null;
    },
    async setMessage(policyId, field, channel, ts) {
      await client.send(
        new UpdateItemCommand({ TableName: table, Key: key(policyId), UpdateExpression: `SET channel = :c, ${field} = :t`, ExpressionAttributeValues: { ":c": { S: channel }, ":t": { S: ts } } }),
      );
    },
    async count(policyId, k, principal) {
      try {
        const out = await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(policyId),
            UpdateExpression: "SET counts.#k = if_not_exists(counts.#k, :zero) + :one ADD #total :one",
            ConditionExpression: "#s = :open",
            ExpressionAttributeNames: { "#k": boundedKey(k, 512), "#s": "status", "#total": "total" },
            ExpressionAttributeValues: { ":zero": { N: "0" }, ":one": { N: "1" }, ":open": { S: "OPEN" } },
            ReturnValues: "ALL_NEW",
          }),
        );
        const total = num(out.Attributes?.total);
        // A few principals for the digest: only the first ones, so the item stays small.
        if (principal && (out.Attributes?.samples?.SS?.length ?? 0) < 5)
          await client.send(new UpdateItemCommand({ TableName: table, Key: key(policyId), UpdateExpression: "ADD samples :p", ExpressionAttributeValues: { ":p": { SS: [boundedText(principal, 2048)] } } }));
        return { total, alerted: out.Attributes?.alerted?.BOOL ?? false };
      } catch (e) {
        if (failed(e)) return null;
        throw e;
      }
    },
    async claimAlert(policyId) {
      try {
        await client.send(
          new UpdateItemCommand({ TableName: table, Key: key(policyId), UpdateExpression: "SET alerted = :t", ConditionExpression: "alerted = :f", ExpressionAttributeValues: { ":t": { BOOL: true }, ":f": { BOOL: false } } }),
        );
        return true;
      } catch (e) {
        if (failed(e)) return false;
        throw e;
      }
    },
    async listOpen() {
      const items: StoredWindow[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(
          new ScanCommand({ TableName: table, FilterExpression: "#s = :open", ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":open": { S: "OPEN" } }, ExclusiveStartKey: start }),
        );
        items.push(...(out.Items ?? []).map(fromItem));
        start = out.LastEvaluatedKey;
      } while (start);
      return items;
    },
    async setDigestTotal(policyId, total) {
      await client.send(new UpdateItemCommand({ TableName: table, Key: key(policyId), UpdateExpression: "SET lastDigestTotal = :t", ExpressionAttributeValues: { ":t": { N: String(total) } } }));
    },
    async close(policyId) {
      await client.send(
        new UpdateItemCommand({ TableName: table, Key: key(policyId), UpdateExpression: "SET #s = :closed", ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":closed": { S: "CLOSED" } } }),
      );
    },
    async requestDetach(policyId, by, targetId, at) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(policyId),
            UpdateExpression: "SET #detach = :d, detachStatus = :r",
            ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#detach)",
            ExpressionAttributeNames: { "#detach": "detach" },
            ExpressionAttributeValues: { ":d": { S: JSON.stringify({ status: "REQUESTED", by, at, targetId }) }, ":r": { S: "REQUESTED" } },
          }),
        );
        return true;
      } catch (e) {
        if (failed(e)) return false;
        throw e;
      }
    },
    async finishDetach(policyId, status, result) {
      const current = await this.get(policyId);
      if (!current?.detach || current.detach.status !== "REQUESTED") return false;
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(policyId),
            UpdateExpression: "SET #detach = :d, detachStatus = :s",
            ConditionExpression: "detachStatus = :r",
            ExpressionAttributeNames: { "#detach": "detach" },
            ExpressionAttributeValues: { ":d": { S: JSON.stringify({ ...current.detach, status, result }) }, ":s": { S: status }, ":r": { S: "REQUESTED" } },
          }),
        );
        return true;
      } catch (e) {
        if (failed(e)) return false;
        throw e;
      }
    },
    async countAction(day, action) {
      const k = { pk: { S: `actions#${day}` } };
      const increment = () =>
        client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: k,
            UpdateExpression: "SET actions.#a = if_not_exists(actions.#a, :zero) + :one",
            ExpressionAttributeNames: { "#a": boundedKey(action, 512) },
            ExpressionAttributeValues: { ":zero": { N: "0" }, ":one": { N: "1" } },
          }),
        );
      try {
        await increment();
      } catch (e) {
        // The day's first deny: a nested counter needs its map to exist (DynamoDB: "document path ... invalid").
        if ((e as Error).name !== "ValidationException") throw e;
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: k,
            UpdateExpression: "SET actions = if_not_exists(actions, :empty), purgeAt = :p",
            ExpressionAttributeValues: { ":empty": { M: {} }, ":p": { N: String(Math.floor(Date.parse(day) / 1000) + 7 * 86400) } },
          }),
        );
        await increment();
      }
    },
    async topActions(day, n) {
      // Read once a minute per container, not once per deny: the ranking moves slowly.
      const cached = topCache[`${day}/${n}`];
      if (cached && cached.until > Date.now()) return cached.actions;
      const out = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `actions#${day}` } } }));
      const actions = Object.entries(out.Item?.actions?.M ?? {})
        .map(([a, v]) => [a, num(v)] as const)
        .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
        .slice(0, n)
        .map(([a]) => a);
      topCache[`${day}/${n}`] = { actions, until: Date.now() + 60_000 };
      return actions;
    },
  };
}
