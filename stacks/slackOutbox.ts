/**
 * The stack's one Slack outbox (components/slackOutbox.ts), in the security account next to the central bus: every
 * feature that posts to Slack hands its notices to it. Memoized per program run like the Slack secrets.
 */
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { CentralEventBus } from "../components/centralEventBus";
import { SlackOutbox } from "../components/slackOutbox";
import { slackSecrets } from "./slackSecrets";

const memo = new WeakMap<StackConfig, SlackOutbox>();

export function slackOutbox(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): SlackOutbox {
  const existing = memo.get(config);
  if (existing) return existing;
  const outbox = new SlackOutbox(
    "slack-outbox",
    {
      key: bus.key,
      alertTopicArn: bus.alertTopic.arn,
      slackBotTokenSecretArn: slackSecrets(config, providers).botTokenArn,
      logRetentionDays: config.slack?.logRetentionDays,
    },
    { provider: orgContext(config, providers).provider("security") },
  );
  memo.set(config, outbox);
  return outbox;
}

/** Every feature is wired: the outbox's poster may start polling once its grants exist (SlackOutbox.seal). */
export function sealSlackOutbox(config: StackConfig): void {
  memo.get(config)?.seal();
}
