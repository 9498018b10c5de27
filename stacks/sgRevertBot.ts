/** Wiring for the SgRevertBot: the central bus's security-group stream, the Slack channel, spoke roles everywhere. */
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { CentralEventBus } from "../components/centralEventBus";
import { SgRevertBot } from "../components/sgRevertBot";
import { slackSecrets } from "./slackSecrets";
import { slackOutbox } from "./slackOutbox";

export function wireSgRevertBot(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): SgRevertBot {
  const c = config.sgRevertBot;
  return new SgRevertBot(
    "sg-bot",
    {
      bus,
      org: orgContext(config, providers),
      slackBotTokenSecretArn: slackSecrets(config, providers).botTokenArn,
      outbox: slackOutbox(config, providers, bus),
      settings: {
        channel: config.slack!.channelId,
        minRisk: c.minRisk,
        trustedCidrs: c.trustedCidrs,
        expireAfterMinutes: c.expireAfterMinutes,
        approverUserIds: config.slack!.approverUserIds,
        approverUserGroupId: config.slack!.approverUserGroupId,
        autoRevertPorts: c.autoRevertPorts,
        accountNames: { ...config.slack!.accountNames, ...c.accountNames },
      },
      externalId: c.externalId,
      logRetentionDays: c.logRetentionDays,
    },
    { provider: providers.of("security") },
  );
}
