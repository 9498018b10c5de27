/**
 * The SCP watch's defaults, in one place: the component applies them, and the stack config's schema
 * (stacks/config.ts) uses them. No Pulumi import, so the config (and the CLIs that read it) stay light.
 */
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
