/**
 * The defaults of the backbone, trail and baseline components, in one module without Pulumi, so both the components
 * and the stack config schema (stacks/config.ts, loaded by the offline tools, which must not load @pulumi/aws) read
 * them from here. Each component re-exports its own (`CENTRAL_EVENT_BUS_DEFAULTS` from centralEventBus.ts, ...).
 */
import { EVENT_PATTERN_MAX_CHARS } from "../functions/eventPattern";

export const CENTRAL_EVENT_BUS_DEFAULTS = {
  /** The bus's name. */
  busName: "trailwatch-central",
  /** Days the archive keeps every event for replay. */
  archiveRetentionDays: 30,
  /** Minutes without a heartbeat before a forwarder counts as quiet. */
  heartbeatMinutes: 30,
  /** Minutes a new account may take to get its forwarders before it counts as never heard from. */
  expectedForwardersGraceMinutes: 60,
  /** EventBridge's default event pattern size quota. */
  maxPatternChars: EVENT_PATTERN_MAX_CHARS,
} as const;

export const STACK_SET_DEFAULTS = {
  /** Share of accounts per region whose stack operation may fail before CloudFormation stops the operation. */
  failureTolerancePercentage: 10,
  /** Share of accounts CloudFormation works on at once. */
  maxConcurrentPercentage: 25,
} as const;

export const ORG_TRAIL_DEFAULTS = {
  trailName: "trailwatch-org",
  bucketExpirationDays: 365,
  noncurrentVersionExpirationDays: 90,
  logRetentionDays: 365,
  silenceMinutes: 60,
  insights: false,
} as const;

export const GUARD_DUTY_DEFAULTS = {
  findingPublishingFrequency: "FIFTEEN_MINUTES",
  protection: { s3: true, eks: true, runtime: false, malware: true, rds: true, lambda: true },
  findingsExpirationDays: 365,
  existingAdministrator: false,
} as const;

export const CONFIG_AGGREGATION_DEFAULTS = {
  aggregatorRegions: "all",
  snapshotFrequency: "TwentyFour_Hours",
  bucketExpirationDays: 365,
} as const;
