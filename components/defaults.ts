/**
 * The defaults of every component, in one module without Pulumi, so both the components
 * and the stack config schema (stacks/config.ts, loaded by the offline tools, which must not load @pulumi/aws) read
 * them from here. Each component re-exports its own (`CENTRAL_EVENT_BUS_DEFAULTS` from centralEventBus.ts, ...).
 */
import { EVENT_PATTERN_MAX_CHARS } from "../functions/eventPattern";
import type { SeverityBand } from "../functions/findings/severity";

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

/** The router's defaults; stacks/config.ts's `findings` schema uses them. */
export const FINDINGS_ROUTER_DEFAULTS = {
  slackMinSeverity: "high" as SeverityBand,
  configNonCompliantBand: "medium" as SeverityBand,
  configToSlack: true,
  logRetentionDays: 90,
} as const;

/** The change feed's defaults; stacks/changeFeedConfig.ts uses them. */
export const CHANGE_FEED_DEFAULTS = {
  logRetentionDays: 90,
  slack: { outsideIacOnly: true },
} as const;

/** The role's defaults; stacks/changeFeedConfig.ts uses them. */
export const THIRD_PARTY_ROLE_DEFAULTS = {
  /** One hour, IAM's default. */
  maxSessionDurationSeconds: 3600,
  deployTo: "management" as "management" | "organization",
} as const;

/** The outbox's defaults (stacks/slackOutbox.ts and stacks/config.ts use them). */
export const SLACK_OUTBOX_DEFAULTS = {
  /** Slack: about one message per second per channel. https://api.slack.com/apis/rate-limits#posting-messages */
  minIntervalMs: 1000,
  maxReceiveCount: 10,
  timeoutSeconds: 60,
  logRetentionDays: 90,
} as const;

/** The Slack app's defaults (stacks/config.ts uses them). */
export const SLACK_APP_DEFAULTS = {
  /** A click takes well under a second; Slack retries 3 times. */
  reservedConcurrency: 10,
  logRetentionDays: 90,
} as const;

export const DENY_ADVISOR_DEFAULTS = {
  /** The role tag naming a role's owner. */
  ownerTagKey: "owner",
  /** Seconds SQS gathers denies before invoking the processor: one digest per window. */
  batchWindowSeconds: 60,
  /** Days the functions' logs are kept. */
  logRetentionDays: 90,
  /** Decode EC2's encoded authorization messages through the decode spokes (stack config only: the component decodes when given `decode`). */
  decode: true,
} as const;

export const SCP_WATCH_DEFAULTS = {
  /** Minutes a rollout window stays open after an Organizations policy change. */
  windowMinutes: 60,
  /** Minutes between digests in an open window's thread. */
  digestMinutes: 10,
  /** Denies caused by the policy within its window that raise the alert. */
  threshold: 25,
  /** No "Detach policy" button (and no detach role in the management account). */
  rollback: false,
  /** Actions that keep their own Action metric value each day. */
  topActions: 20,
  /** Days the functions' logs and the raw deny log are kept. */
  logRetentionDays: 30,
} as const;

export const SG_REVERT_BOT_DEFAULTS = {
  /** Changes below this risk are recorded, not posted. */
  minRisk: "medium",
  /** Sources that never raise the risk. */
  trustedCidrs: [] as readonly string[],
  /** Undecided reviews expire (the rules stay) after this many minutes (a day). */
  expireAfterMinutes: 1440,
  /** World-open ingress to these ports is reverted at once; none. */
  autoRevertPorts: [] as readonly number[],
  /** Days the functions' logs are kept. */
  logRetentionDays: 90,
} as const;
