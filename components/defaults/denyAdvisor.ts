/**
 * The deny advisor's defaults, in one place: the component applies them, and the stack config's schema
 * (stacks/config.ts) uses them. No Pulumi import, so the config (and the CLIs that read it) stay light.
 */
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
