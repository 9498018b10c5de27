/**
 * Forwarder heartbeats: every forwarder region sends a scheduled event to the central bus; the heartbeat function
 * records the last one per account/region and, on its own schedule, reports the ones that went quiet as a
 * CloudWatch metric (embedded metric format), so a broken forwarder raises an alarm instead of silence.
 * EMF: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";

export const HEARTBEAT_NAMESPACE = "trailwatch/Backbone";
export const QUIET_METRIC = "QuietForwarders";
/** Scheduled rules the forwarders create are named with this prefix; the central bus matches on it. */
export const HEARTBEAT_RULE_NAME = "trailwatch-heartbeat";

export interface Beat {
  account: string;
  region: string;
  lastSeen: string; // ISO time
}

export interface HeartbeatStore {
  record(beat: Beat): Promise<void>;
  all(): Promise<Beat[]>;
}

/** A forwarded scheduled event from a forwarder's heartbeat rule, else null. */
export function beatOf(event: any): Beat | null {
  if (event?.source !== "aws.events" || event?.["detail-type"] !== "Scheduled Event") return null;
  const fromHeartbeatRule = (event.resources ?? []).some((r: string) => r.includes(`:rule/${HEARTBEAT_RULE_NAME}`));
  if (!fromHeartbeatRule || !/^\d{12}$/.test(event.account ?? "") || !event.region) return null;
  return { account: event.account, region: event.region, lastSeen: event.time ?? new Date().toISOString() };
}

/** Forwarders whose last heartbeat is older than `minutes` at `now`, sorted by account then region. */
export function quietForwarders(beats: Beat[], now: Date, minutes: number): Beat[] {
  const limit = now.getTime() - minutes * 60_000;
  return beats
    .filter((b) => Date.parse(b.lastSeen) < limit)
    .sort((a, b) => (a.account + a.region).localeCompare(b.account + b.region));
}

/** One EMF log line carrying the count of quiet forwarders (and which ones, for Logs Insights). */
export function quietMetricLine(quiet: Beat[], now: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [{ Namespace: HEARTBEAT_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: QUIET_METRIC, Unit: "Count" }] }],
    },
    [QUIET_METRIC]: quiet.length,
    quiet: quiet.map((b) => `${b.account}/${b.region} (last ${b.lastSeen})`),
  });
}

/** DynamoDB store: one item per account/region, keyed `account#region`. */
export function dynamoHeartbeatStore(client: DynamoDBClient, table: string): HeartbeatStore {
  return {
    async record(beat) {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: `${beat.account}#${beat.region}` }, account: { S: beat.account }, region: { S: beat.region }, lastSeen: { S: beat.lastSeen } },
          // Never move lastSeen backwards when events arrive out of order.
          ConditionExpression: "attribute_not_exists(lastSeen) OR lastSeen < :t",
          ExpressionAttributeValues: { ":t": { S: beat.lastSeen } },
        }),
      ).catch((err: { name?: string }) => {
        if (err.name !== "ConditionalCheckFailedException") throw err;
      });
    },
    async all() {
      const beats: Beat[] = [];
      let start: Record<string, any> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) beats.push({ account: item.account.S!, region: item.region.S!, lastSeen: item.lastSeen.S! });
        start = page.LastEvaluatedKey;
      } while (start);
      return beats;
    },
  };
}

/**
 * The heartbeat function: a forwarded heartbeat is recorded; its own scheduled tick (any other event) checks for
 * quiet forwarders and prints the EMF line. Returns what it did, for tests and logs.
 */
export async function handleHeartbeat(
  event: unknown,
  store: HeartbeatStore,
  opts: { now: Date; quietMinutes: number; log: (line: string) => void },
): Promise<{ recorded: Beat } | { quiet: Beat[] }> {
  const beat = beatOf(event);
  if (beat) {
    await store.record(beat);
    return { recorded: beat };
  }
  const quiet = quietForwarders(await store.all(), opts.now, opts.quietMinutes);
  opts.log(quietMetricLine(quiet, opts.now));
  return { quiet };
}
