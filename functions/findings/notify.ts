/**
 * The findings notifier: one Lambda behind the central bus's GuardDuty (at or above the Slack band) and Config
 * non-compliance rules. GuardDuty republishes a finding every publishing period while it stays active (same id,
 * higher count): the channel hears about a finding once, and again only if its severity band rises. The dedupe
 * is a conditional write, so two concurrent deliveries of one event cannot both post.
 */
import { DynamoDBClient, PutItemCommand, DeleteItemCommand, ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { fromConfigComplianceEvent, fromGuardDutyEvent, findingMessage, type SecurityFinding } from "./messages";
import { SEVERITY_BANDS } from "./severity";

export interface FindingStore {
  /** Record that `f` is being notified; false when it (at this band or higher) was notified already. */
  claim(f: SecurityFinding, now: Date): Promise<boolean>;
  /** Undo a claim whose post failed, so EventBridge's retry posts it. */
  release(f: SecurityFinding): Promise<void>;
}

export interface Poster {
  post(message: { text: string; blocks: object[] }): Promise<void>;
}

export const FINDING_TTL_DAYS = 30;

const rank = (f: SecurityFinding) => (f.band ? SEVERITY_BANDS.indexOf(f.band) : 0);

export function dynamoFindingStore(client: DynamoDBClient, table: string): FindingStore {
  return {
    async claim(f, now) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: table,
            Item: {
              pk: { S: f.key },
              bandRank: { N: String(rank(f)) },
              title: { S: f.title.slice(0, 1000) },
              notifiedAt: { S: now.toISOString() },
              expiresAt: { N: String(Math.floor(now.getTime() / 1000) + FINDING_TTL_DAYS * 86400) },
            },
            ConditionExpression: "attribute_not_exists(pk) OR bandRank < :rank",
            ExpressionAttributeValues: { ":rank": { N: String(rank(f)) } },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException || (err as Error).name === "ConditionalCheckFailedException") return false;
        throw err;
      }
    },
    async release(f) {
      await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: f.key } } }));
    },
  };
}

export type NotifyOutcome = { outcome: "posted" | "duplicate" | "ignored"; key?: string };

/** Handle one EventBridge event. A failed Slack post releases the claim and throws, so EventBridge's retry posts it. */
export async function handleFindingEvent(
  event: unknown,
  deps: { store: FindingStore; poster: Poster; now: Date; accountNames?: Record<string, string>; log?: (line: object) => void },
): Promise<NotifyOutcome> {
  const finding = fromGuardDutyEvent(event) ?? fromConfigComplianceEvent(event);
  if (!finding) {
    deps.log?.({ level: "WARN", message: "not a GuardDuty finding or Config non-compliance event", detailType: (event as any)?.["detail-type"] ?? null });
    return { outcome: "ignored" };
  }
  if (!(await deps.store.claim(finding, deps.now))) {
    deps.log?.({ level: "INFO", message: "already notified", key: finding.key });
    return { outcome: "duplicate", key: finding.key };
  }
  try {
    await deps.poster.post(findingMessage(finding, deps.accountNames));
  } catch (err) {
    await deps.store.release(finding);
    throw err;
  }
  deps.log?.({ level: "INFO", message: "posted", key: finding.key, band: finding.band });
  return { outcome: "posted", key: finding.key };
}
