/** Wiring for the deny advisor: subscribes to the central bus, posts to the security channel. */
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { Outputs } from "./program";
import type { CentralEventBus } from "../components/centralEventBus";
import { DenyAdvisor } from "../components/denyAdvisor";
import { slackOutbox } from "./slackOutbox";
import { slackSecrets } from "./slackSecrets";
import { messageAccountNames } from "./slackApproval";

export function wireDenyAdvisor(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): Outputs {
  const c = config.denyAdvisor;
  const advisor = new DenyAdvisor(
    "deny-advisor",
    {
      bus,
      org: orgContext(config, providers),
      outbox: slackOutbox(config, providers, bus),
      slackBotTokenSecretArn: slackSecrets(config, providers).botTokenArn,
      slackChannelId: config.slack!.channelId,
      ownerTagKey: c.ownerTagKey,
      batchWindowSeconds: c.batchWindowSeconds,
      logRetentionDays: c.logRetentionDays,
      digest: { accountNames: messageAccountNames(config), mentionable: config.slack!.mentionableIds },
      decode: c.decode ? { externalId: c.decodeExternalId } : undefined,
    },
    { provider: providers.of("security") },
  );
  return { denyFindingsTable: advisor.findingsTable.name, denyQueueUrl: advisor.queue.url };
}
