/** Wiring for the SgRevertBot: the central bus's security-group stream, the Slack channel, spoke roles everywhere. */
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { CentralEventBus } from "../components/centralEventBus";
import { SgRevertBot } from "../components/sgRevertBot";
import { slackSecrets } from "./slackSecrets";
import { slackOutbox } from "./slackOutbox";
import { slackApproval } from "./slackApproval";

export function wireSgRevertBot(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): SgRevertBot {
  const c = config.sgRevertBot;
  return new SgRevertBot(
    "sg-bot",
    {
      bus,
      org: orgContext(config, providers),
      slackBotTokenSecretArn: slackSecrets(config, providers).botTokenArn,
      outbox: slackOutbox(config, providers, bus),
      settings: { ...slackApproval(config), minRisk: c.minRisk, trustedCidrs: c.trustedCidrs, expireAfterMinutes: c.expireAfterMinutes, autoRevertPorts: c.autoRevertPorts },
      externalId: c.externalId,
      logRetentionDays: c.logRetentionDays,
    },
    { provider: providers.of("security") },
  );
}
