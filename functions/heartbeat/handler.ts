/**
 * The central bus's heartbeat Lambda: records each forwarder's heartbeat and, on its 5-minute tick, reports the quiet
 * ones (functions/heartbeat.ts). The component (components/centralEventBus.ts) sets these variables; the names are
 * the contract between the two.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { dynamoHeartbeatStore, expectedAccounts, handleHeartbeat, organizationsReader } from "../heartbeat";

/** The heartbeat table's name. */
export const HEARTBEAT_TABLE_ENV = "HEARTBEAT_TABLE";
/** Minutes without a heartbeat before a forwarder counts as quiet. */
export const QUIET_MINUTES_ENV = "QUIET_MINUTES";
/** Comma-separated root / OU ids whose accounts should have forwarders (StackSet targets). */
export const EXPECTED_TARGETS_ENV = "EXPECTED_TARGETS";
/** Comma-separated accounts with direct forwarders (the management account, direct mode's list). */
export const EXPECTED_DIRECT_ACCOUNTS_ENV = "EXPECTED_DIRECT_ACCOUNTS";
/** Comma-separated regions forwarders should send from; unset = no check for forwarders never heard from. */
export const EXPECTED_REGIONS_ENV = "EXPECTED_REGIONS";
/** Minutes a new account may take to get its stack instances. @default 60 */
export const EXPECTED_GRACE_MINUTES_ENV = "EXPECTED_GRACE_MINUTES";

function required(env: NodeJS.ProcessEnv, variable: string): string {
  const v = env[variable];
  if (v === undefined || v === "") throw new Error(`heartbeat handler: environment variable ${variable} is not set`);
  return v;
}

function wholeMinutes(env: NodeJS.ProcessEnv, variable: string, fallback?: string): number {
  const raw = fallback !== undefined && (env[variable] === undefined || env[variable] === "") ? fallback : required(env, variable);
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`heartbeat handler: environment variable ${variable} must be a positive number of minutes, found ${JSON.stringify(raw)}`);
  return n;
}

function commaList(v: string | undefined): string[] {
  return v ? v.split(",").filter(Boolean) : [];
}

/** Runs once per cold start: reads the environment and builds one client of each kind for the container's lifetime. */
export function makeHeartbeatHandler(env: NodeJS.ProcessEnv = process.env): (event: unknown) => Promise<unknown> {
  const store = dynamoHeartbeatStore(new DynamoDBClient({}), required(env, HEARTBEAT_TABLE_ENV));
  const quietMinutes = wholeMinutes(env, QUIET_MINUTES_ENV);
  const targets = commaList(env[EXPECTED_TARGETS_ENV]);
  const direct = commaList(env[EXPECTED_DIRECT_ACCOUNTS_ENV]);
  const regions = commaList(env[EXPECTED_REGIONS_ENV]);
  const grace = wholeMinutes(env, EXPECTED_GRACE_MINUTES_ENV, "60");
  // Organizations is a global service whose endpoint is in us-east-1.
  const org = organizationsReader(new OrganizationsClient({ region: "us-east-1" }));
  return async (event: unknown) => {
    const now = new Date();
    const expected = regions.length > 0 ? async () => ({ accounts: await expectedAccounts(org, targets, direct, now, grace), regions }) : undefined;
    // EMF lines go out raw (Text log format): Lambda's JSON format would wrap them and no metric would be made.
    return handleHeartbeat(event, store, { now, quietMinutes, log: (line: string) => process.stdout.write(line + "\n"), expected });
  };
}
