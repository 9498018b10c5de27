/** Wiring for the deny advisor: subscribes to the central bus, posts to the security channel. */
import type { StackConfig } from "./config";
import type { AccountProviders } from "./providers";
import type { Outputs } from "./program";
import type { CentralEventBus } from "../components/centralEventBus";
import { DenyAdvisor } from "../components/denyAdvisor";
import { slackOutbox } from "./slackOutbox";
import { slackSecrets } from "./slackSecrets";

export function wireDenyAdvisor(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): Outputs {
  const advisor = new DenyAdvisor(
    "deny-advisor",
    {
      bus,
      outbox: slackOutbox(config, providers, bus),
      slackBotTokenSecretArn: slackSecrets(config, providers).botTokenArn,
      slackChannelId: config.slack!.channelId,
      ownerTagKey: config.denyAdvisor.ownerTagKey,
      batchWindowSeconds: config.denyAdvisor.batchWindowSeconds,
      logRetentionDays: config.denyAdvisor.logRetentionDays,
      digest: { accountNames: { ...config.slack!.accountNames, ...config.sgRevertBot.accountNames }, mentionable: config.slack!.mentionableIds },
      // Deployed like the SgRevertBot's spokes: StackSet to memberTargets, the management account directly.
      decode: config.denyAdvisor.decode
        ? {
            organizationId: config.organizationId,
            externalId: config.denyAdvisor.decodeExternalId ?? `trailwatch-deny-decode-${config.organizationId}`,
            memberTargets: config.memberTargets,
            homeRegion: config.homeRegion,
            failureTolerancePercentage: config.forwarder.failureTolerancePercentage,
            maxConcurrentPercentage: config.forwarder.maxConcurrentPercentage,
            providers: { management: providers.of("management") },
          }
        : undefined,
    },
    { provider: providers.of("security") },
  );
  return { denyFindingsTable: advisor.findingsTable.name, denyQueueUrl: advisor.queue.url };
}
