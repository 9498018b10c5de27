/**
 * Forwarder heartbeats: every forwarder region sends a scheduled event to the central bus; the heartbeat function
 * records the last one per account/region and, on its own schedule, reports the ones that went quiet as a
 * CloudWatch metric (embedded metric format), so a broken forwarder raises an alarm instead of silence.
 * EMF: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { ListAccountsForParentCommand, ListOrganizationalUnitsForParentCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { HEARTBEAT_RULE_NAME } from "./patterns";

export const HEARTBEAT_NAMESPACE = "trailwatch/Backbone";
export const QUIET_METRIC = "QuietForwarders";
/** The forwarders' heartbeat rule name (the pattern registry's: the central bus's subscription matches on it). */
export { HEARTBEAT_RULE_NAME };

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

/** Where forwarders should be: every expected account in every expected region. */
export interface ExpectedForwarders {
  accounts: string[];
  regions: string[];
}

/** `lastSeen` of a forwarder that never sent a heartbeat (a stack instance that never deployed, an account left out). */
export const NEVER = "never";

/**
 * Expected account/regions with no heartbeat at all, sorted: the quiet check alone only knows forwarders that beat at
 * least once, so a stack instance that never deployed would never be missed. Reported with `lastSeen: "never"` and
 * counted with the quiet ones.
 */
export function neverHeard(beats: Beat[], expected: ExpectedForwarders): Beat[] {
  const seen = new Set(beats.map((b) => `${b.account}#${b.region}`));
  const missing: Beat[] = [];
  for (const account of [...new Set(expected.accounts)].sort())
    for (const region of [...new Set(expected.regions)].sort()) if (!seen.has(`${account}#${region}`)) missing.push({ account, region, lastSeen: NEVER });
  return missing;
}

/** Where the accounts come from: the organization's accounts under the forwarder targets (Organizations API pages). */
export interface OrganizationReader {
  /** Accounts directly under a root or OU. */
  accountsFor(parentId: string): Promise<{ id: string; status: string; joined: Date | null }[]>;
  /** OUs directly under a root or OU. */
  ousFor(parentId: string): Promise<string[]>;
}

/**
 * The accounts that should have a forwarder: ACTIVE accounts under the StackSet targets (roots or OUs, recursively),
 * joined at least `graceMinutes` ago (StackSet auto-deployment needs time), plus the accounts with direct forwarders.
 */
export async function expectedAccounts(org: OrganizationReader, targets: string[], direct: string[], now: Date, graceMinutes: number): Promise<string[]> {
  const found = new Set(direct);
  const queue = [...targets];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const parent = queue.shift()!;
    if (visited.has(parent)) continue;
    visited.add(parent);
    for (const a of await org.accountsFor(parent))
      if (a.status === "ACTIVE" && (!a.joined || now.getTime() - a.joined.getTime() >= graceMinutes * 60_000)) found.add(a.id);
    queue.push(...(await org.ousFor(parent)));
  }
  return [...found].sort();
}

/**
 * The Organizations API as OrganizationReader (every page). Callable from the management account or a delegated
 * administrator of some service (the security account is GuardDuty's and Config's).
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
 */
export function organizationsReader(client: OrganizationsClient): OrganizationReader {
  return {
    async accountsFor(parentId) {
      const out: { id: string; status: string; joined: Date | null }[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListAccountsForParentCommand({ ParentId: parentId, NextToken: token }));
        for (const a of page.Accounts ?? [])
          if (a.Id) out.push({ id: a.Id, status: String((a as { State?: string }).State ?? a.Status ?? ""), joined: a.JoinedTimestamp ? new Date(a.JoinedTimestamp) : null });
        token = page.NextToken;
      } while (token);
      return out;
    },
    async ousFor(parentId) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token }));
        for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) out.push(ou.Id);
        token = page.NextToken;
      } while (token);
      return out;
    },
  };
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
  opts: { now: Date; quietMinutes: number; log: (line: string) => void; expected?: () => Promise<ExpectedForwarders> },
): Promise<{ recorded: Beat } | { quiet: Beat[] }> {
  const beat = beatOf(event);
  if (beat) {
    await store.record(beat);
    return { recorded: beat };
  }
  const beats = await store.all();
  let missing: Beat[] = [];
  if (opts.expected) {
    // The organization's account list may be unreadable (no delegated administrator yet): the quiet check still runs.
    const expected = await opts.expected().catch((e: Error) => {
      opts.log(JSON.stringify({ level: "ERROR", message: "could not read the expected forwarders", error: e.message }));
      return null;
    });
    if (expected) missing = neverHeard(beats, expected);
  }
  const quiet = [...quietForwarders(beats, opts.now, opts.quietMinutes), ...missing];
  opts.log(quietMetricLine(quiet, opts.now));
  return { quiet };
}
