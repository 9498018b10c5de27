/** Wiring for the SCP rollout watch: the central bus's SCP/RCP denies and Organizations policy changes. */
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { CentralEventBus } from "../components/centralEventBus";
import { ScpWatch } from "../components/scpWatch";
import { slackSecrets } from "./slackSecrets";
import { slackOutbox } from "./slackOutbox";
import { slackApproval } from "./slackApproval";

export function wireScpWatch(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): ScpWatch {
  const c = config.scpWatch;
  return new ScpWatch(
    "scp-watch",
    {
      bus,
      org: orgContext(config, providers),
      slackBotTokenSecretArn: slackSecrets(config, providers).botTokenArn,
      outbox: slackOutbox(config, providers, bus),
      settings: { ...slackApproval(config), windowMinutes: c.windowMinutes, threshold: c.threshold, rollback: c.rollback, topActions: c.topActions },
      digestMinutes: c.digestMinutes,
      logRetentionDays: c.logRetentionDays,
    },
    { provider: providers.of("security") },
  );
}
