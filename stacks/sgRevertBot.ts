/** Wiring for the SgRevertBot: the central bus's security-group stream, the Slack channel, spoke roles everywhere. */
import type { StackConfig } from "./config";
import type { AccountProviders } from "./providers";
import type { CentralEventBus } from "../components/centralEventBus";
import { SgRevertBot } from "../components/sgRevertBot";
import { slackSecrets } from "./slackSecrets";
import { slackOutbox } from "./slackOutbox";

export function wireSgRevertBot(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): SgRevertBot {
  const c = config.sgRevertBot;
  const secrets = slackSecrets(config, providers);
  return new SgRevertBot(
    "sg-bot",
    {
      bus,
      organizationId: config.organizationId,
      managementAccountId: config.accounts.management,
      memberTargets: config.memberTargets,
      homeRegion: config.homeRegion,
      slackBotTokenSecretArn: secrets.botTokenArn,
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
      // Not a secret (it guards against the confused deputy, not against a leak), but specific to this organization.
      externalId: c.externalId ?? `trailwatch-sg-revert-${config.organizationId}`,
      logRetentionDays: c.logRetentionDays,
      failureTolerancePercentage: config.forwarder.failureTolerancePercentage,
      maxConcurrentPercentage: config.forwarder.maxConcurrentPercentage,
      providers: { management: providers.of("management") },
    },
    { provider: providers.of("security") },
  );
}
