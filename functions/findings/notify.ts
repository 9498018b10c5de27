/**
 * The findings notifier: one Lambda behind the central bus's GuardDuty (at or above the Slack band) and Config
 * non-compliance rules. GuardDuty republishes a finding every publishing period while it stays active (same id,
 * higher count): the channel hears about a finding once, and again only if its severity band rises. The dedupe
 * is a conditional write, so two concurrent deliveries of one event cannot both post; the Slack outbox posts the
 * notice once and only then marks the finding notified.
 */
import { DynamoDBClient, PutItemCommand, DeleteItemCommand, ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { fromConfigComplianceEvent, fromGuardDutyEvent, findingMessage, type SecurityFinding } from "./messages";
import { SEVERITY_BANDS } from "./severity";
import type { NoticeSender } from "../slack/outboxAdapters";
import { findingNotice } from "../slack/notices";

export interface FindingStore {
  /**
   * Claim the notice for `f`: false when it (at this band or higher) was posted already, or another delivery claimed
   * it less than `CLAIM_LEASE_SECONDS` ago and may still be sending it. A claim that never reached the outbox (the
   * function timed out after claiming) is stale after the lease, so Lambda's retry can claim it again.
   */
  claim(f: SecurityFinding, now: Date): Promise<boolean>;
  /** Undo this claim after a failed hand-over to the outbox, so the retry sends it. */
  release(f: SecurityFinding, claimedAt: Date): Promise<void>;
}

export const FINDING_TTL_DAYS = 30;
/** Longer than the notifier's timeout (30 s): a live delivery still holds its claim, a dead one's is stale. */
export const CLAIM_LEASE_SECONDS = 45;

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
              band: { S: f.band ?? "none" },
              title: { S: f.title.slice(0, 1000) },
              claimedAt: { N: String(now.getTime()) },
              expiresAt: { N: String(Math.floor(now.getTime() / 1000) + FINDING_TTL_DAYS * 86400) },
            },
            // New, or a higher band, or this band's earlier claim whose notice was never posted and whose lease ended.
            // (postedTs is written by the Slack outbox once Slack accepted the message: functions/slack/notices.ts.)
            ConditionExpression: "attribute_not_exists(pk) OR bandRank < :rank OR (bandRank = :rank AND attribute_not_exists(postedTs) AND claimedAt < :stale)",
            ExpressionAttributeValues: { ":rank": { N: String(rank(f)) }, ":stale": { N: String(now.getTime() - CLAIM_LEASE_SECONDS * 1000) } },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException || (err as Error).name === "ConditionalCheckFailedException") return false;
        throw err;
      }
    },
    async release(f, claimedAt) {
      await client
        .send(
          new DeleteItemCommand({
            TableName: table,
            Key: { pk: { S: f.key } },
            ConditionExpression: "claimedAt = :mine AND attribute_not_exists(postedTs)",
            ExpressionAttributeValues: { ":mine": { N: String(claimedAt.getTime()) } },
          }),
        )
        .catch((err: { name?: string }) => {
          if (err.name !== "ConditionalCheckFailedException") throw err;
        });
    },
  };
}

export type NotifyOutcome = { outcome: "queued" | "duplicate" | "ignored"; key?: string };

/**
 * Handle one EventBridge event (an asynchronous invocation): claim, then hand the notice to the Slack outbox, which
 * posts it once and records `postedTs` on the claim. A failed hand-over releases the claim and throws: Lambda retries
 * the event twice, then sends it to the on-failure destination (components/findingsRouter.ts), which alarms.
 */
export async function handleFindingEvent(
  event: unknown,
  deps: { store: FindingStore; outbox: NoticeSender; channel: string; table: string; now: Date; accountNames?: Record<string, string>; log?: (line: object) => void },
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
    await deps.outbox.send(findingNotice(findingMessage(finding, deps.accountNames), finding, { channel: deps.channel, table: deps.table }));
  } catch (err) {
    await deps.store.release(finding, deps.now);
    throw err;
  }
  deps.log?.({ level: "INFO", message: "queued for Slack", key: finding.key, band: finding.band });
  return { outcome: "queued", key: finding.key };
}
