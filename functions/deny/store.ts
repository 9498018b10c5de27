/**
 * The deny findings table: one item per (principal, action, resource), an atomic counter, first/last seen, a TTL,
 * the latest suggestion, and which suggestion the channel was last told about. A finding needs a notice when it is
 * new or its suggestion changed since the last notice; the notice is marked only after Slack accepted it, so a
 * failed post is retried with the next occurrence instead of being lost.
 */
import { DynamoDBClient, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { createHash } from "crypto";
import { boundedKey, boundedText } from "../boundedKey";

/** The fields of a deny finding the store keeps (the `deny` line's fields, plus the reason a fix is not an Allow). */
export interface StoredFinding {
  principalArn: string | null;
  action: string | null;
  resource: string | null;
  accountId: string | null;
  cause: string;
  explicit: boolean | null;
  policyArn: string | null;
  suggestion: unknown;
  whyNot?: string | null;
  permissionSet?: string | null;
  eventId?: string | null;
  eventTime?: string | null;
  /** The action needs review before anyone grants it (functions/deny/sensitive.ts). */
  sensitive?: { level: string; reason: string } | null;
  /** Who, inside the principal (the latest occurrence's session). */
  sessionName?: string | null;
}

export interface RecordedFinding {
  key: string;
  count: number;
  firstSeen: string;
  suggestionHash: string;
  needsNotice: boolean;
}

export interface DenyStore {
  /** `key`: the dedupe key when `f` is a shortened copy (findingKey of the finding before it was bounded). */
  record(f: StoredFinding, now: Date, key?: string): Promise<RecordedFinding>;
  /** Mark a notice sent, unless the suggestion changed in between (then the next occurrence notifies again). */
  markNotified(key: string, suggestionHash: string): Promise<void>;
}

export const FINDING_TTL_DAYS = 90;

/**
 * Dedupe key: principal + action + resource, within DynamoDB's 2,048-byte partition key (a long resource id, e.g. a
 * 2,040-character secret id, ends the key in a hash of the whole instead of failing the write; functions/boundedKey.ts).
 */
export function findingKey(f: Pick<StoredFinding, "principalArn" | "action" | "resource">): string {
  return boundedKey([f.principalArn ?? "-", f.action ?? "-", f.resource ?? "-"].join("|"));
}

/** Stored strings are shortened, never dropped: an item stays far below DynamoDB's 400 KB. */
const FIELD_MAX = 8192;

/** What a notice is about: the suggestion, or the reason there is none. */
export function suggestionHash(f: StoredFinding): string {
  return createHash("sha256")
    .update(JSON.stringify([f.suggestion ?? null, f.cause, f.explicit, f.policyArn, f.whyNot ?? null]))
    .digest("hex")
    .slice(0, 16);
}

const str = (v: string | null | undefined): AttributeValue => (v === null || v === undefined ? { NULL: true } : { S: boundedText(v, FIELD_MAX) });

export function dynamoDenyStore(client: DynamoDBClient, table: string): DenyStore {
  return {
    async record(f, now, fullKey) {
      const key = fullKey ?? findingKey(f);
      const hash = suggestionHash(f);
      const at = now.toISOString();
      const out = await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: key } },
          UpdateExpression:
            "SET principalArn = :p, #action = :a, #resource = :r, accountId = :acct, cause = :c, explicit = :e, policyArn = :pa, " +
            "suggestion = :s, whyNot = :w, suggestionHash = :h, lastSeen = :now, lastEventId = :eid, expiresAt = :ttl, " +
            "firstSeen = if_not_exists(firstSeen, :now), #sensitive = :sens, lastSessionName = :sn ADD seen :one",
          // SENSITIVE, like ACTION, is a DynamoDB reserved word: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html
          ExpressionAttributeNames: { "#action": "action", "#resource": "resource", "#sensitive": "sensitive" },
          ExpressionAttributeValues: {
            ":p": str(f.principalArn),
            ":a": str(f.action),
            ":r": str(f.resource),
            ":acct": str(f.accountId),
            ":c": { S: f.cause },
            ":e": f.explicit === null ? { NULL: true } : { BOOL: f.explicit },
            ":pa": str(f.policyArn),
            ":s": f.suggestion ? { S: boundedText(JSON.stringify(f.suggestion), 4 * FIELD_MAX) } : { NULL: true },
            ":w": str(f.whyNot ?? null),
            ":h": { S: hash },
            ":now": { S: at },
            ":eid": str(f.eventId ?? null),
            ":ttl": { N: String(Math.floor(now.getTime() / 1000) + FINDING_TTL_DAYS * 86400) },
            ":one": { N: "1" },
            ":sens": f.sensitive ? { S: JSON.stringify(f.sensitive) } : { NULL: true },
            ":sn": str(f.sessionName ?? null),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      const item = out.Attributes ?? {};
      return {
        key,
        count: Number(item.seen?.N ?? "1"),
        firstSeen: item.firstSeen?.S ?? at,
        suggestionHash: hash,
        needsNotice: item.notifiedHash?.S !== hash,
      };
    },
    async markNotified(key, hash) {
      await client
        .send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: key } },
            UpdateExpression: "SET notifiedHash = :h, notifiedAt = :t",
            ConditionExpression: "suggestionHash = :h",
            ExpressionAttributeValues: { ":h": { S: hash }, ":t": { S: new Date().toISOString() } },
          }),
        )
        .catch((err: { name?: string }) => {
          if (err.name !== "ConditionalCheckFailedException") throw err;
        });
    },
  };
}
