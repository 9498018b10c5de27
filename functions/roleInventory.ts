/**
 * The role inventory (ConsoleMe's "role cache", kept current from IAM role-change events instead of polling):
 * one item per role (keyed by its ARN without path, see roleKey) with its tags, last change and ARN with path, so a deny digest can name the role's owner from a tag.
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { cloudTrailRecordOf } from "./cloudtrail";
import { parseRoleChange, roleKey } from "./roles";

export interface RoleChangeInput {
  roleArn: string;
  eventName: string;
  eventTime: string;
  /** Tags set by CreateRole / TagRole. */
  tags?: Record<string, string>;
  /** Tag keys removed by UntagRole. */
  removedTagKeys?: string[];
}

export interface RoleInventory {
  apply(change: RoleChangeInput): Promise<void>;
  ownerOf(roleArn: string): Promise<string | null>;
}

/** Tags are top-level attributes `tag:<key>`: TagRole and UntagRole then touch only their own keys. */
const TAG_PREFIX = "tag:";

/**
 * Tags from a CloudTrail CreateRole / TagRole request (`tags: [{key, value}]`), and keys from UntagRole. Anything that
 * is not such a list is no tags; a key named like an Object.prototype member (`__proto__`) stays an ordinary key.
 */
export function tagsFromRequest(requestParameters: Record<string, any> | null | undefined): { tags: Record<string, string>; removed: string[] } {
  const tags = new Map<string, string>();
  const list: unknown = requestParameters?.tags;
  if (Array.isArray(list))
    for (const t of list) {
      if (!t || typeof t !== "object" || typeof t.key !== "string") continue;
      const v = t.value;
      tags.set(t.key, typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "");
    }
  const keys: unknown = requestParameters?.tagKeys;
  const removed = Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : [];
  // Object.fromEntries defines own properties: "__proto__" is a key like any other.
  return { tags: Object.fromEntries(tags), removed };
}

/**
 * The inventory update an IAM role event (the bus event's `detail`) asks for, or null when it changes no role. The
 * record goes through the boundary (cloudtrail.ts) first: the inventory Lambda receives whatever the bus delivers.
 */
export function roleChangeInputOf(detail: unknown): RoleChangeInput | null {
  const record = cloudTrailRecordOf(detail);
  if (!record) return null;
  const change = parseRoleChange(record);
  if (!change) return null;
  const { tags, removed } = tagsFromRequest(record.requestParameters);
  return { roleArn: change.roleArn, eventName: change.eventName, eventTime: change.eventTime ?? new Date().toISOString(), tags, removedTagKeys: removed };
}

export function dynamoRoleInventory(client: DynamoDBClient, table: string, ownerTagKey: string): RoleInventory {
  return {
    async apply(change) {
      const names: Record<string, string> = {};
      const values: Record<string, AttributeValue> = { ":e": { S: change.eventName }, ":t": { S: change.eventTime } };
      const sets = ["lastEventName = :e", "lastChange = :t"];
      const removes: string[] = [];
      if (change.eventName === "DeleteRole") sets.push("deleted = :true"), (values[":true"] = { BOOL: true });
      else if (change.eventName === "CreateRole") {
        // Only CreateRole's response has the ARN with its path: keep it beside the path-free key.
        sets.push("deleted = :false", "arnWithPath = :arn");
        values[":false"] = { BOOL: false };
        values[":arn"] = { S: change.roleArn };
      }
      Object.entries(change.tags ?? {}).forEach(([k, v], i) => {
        names[`#t${i}`] = TAG_PREFIX + k;
        values[`:t${i}`] = { S: v };
        sets.push(`#t${i} = :t${i}`);
      });
      (change.removedTagKeys ?? []).forEach((k, i) => {
        names[`#r${i}`] = TAG_PREFIX + k;
        removes.push(`#r${i}`);
      });
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { roleArn: { S: roleKey(change.roleArn) } },
          // Out-of-order delivery must not roll a role back to an older state.
          ConditionExpression: "attribute_not_exists(lastChange) OR lastChange <= :t",
          UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
          ExpressionAttributeValues: values,
        }),
      ).catch((err: { name?: string }) => {
        if (err.name !== "ConditionalCheckFailedException") throw err;
      });
    },
    async ownerOf(roleArn) {
      const out = await client.send(new GetItemCommand({ TableName: table, Key: { roleArn: { S: roleKey(roleArn) } } }));
      return out.Item?.[TAG_PREFIX + ownerTagKey]?.S ?? null;
    },
  };
}
