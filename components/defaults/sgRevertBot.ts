/**
 * The SgRevertBot's defaults, in one place: the component applies them, and the stack config's schema
 * (stacks/config.ts) uses them. No Pulumi import, so the config (and the CLIs that read it) stay light.
 */
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
