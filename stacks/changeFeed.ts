/**
 * Wiring for the change feed: the feed in the security account on the central bus, and the optional read-only role
 * for a change-tracking vendor in the management account (and every member account).
 */
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { Outputs } from "./program";
import type { CentralEventBus } from "../components/centralEventBus";
import { ChangeFeed } from "../components/changeFeed";
import { ThirdPartyRole } from "../components/thirdPartyRole";
import { slackOutbox } from "./slackOutbox";

export function wireChangeFeed(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): Outputs {
  const cf = config.changeFeed;
  const org = orgContext(config, providers);
  const feed = new ChangeFeed(
    "change-feed",
    {
      bus,
      org,
      environments: { accounts: cf.environments, defaultEnvironment: cf.defaultEnvironment },
      noise: cf.noise,
      webhooks: cf.webhooks,
      fireHydrant: cf.fireHydrant,
      slack: cf.slackDigest.enabled
        ? {
            outbox: slackOutbox(config, providers, bus),
            channelId: config.slack!.channelId,
            environments: cf.slackDigest.environments,
            outsideIacOnly: cf.slackDigest.outsideIacOnly,
            everyMinutes: cf.slackDigest.everyMinutes,
            accountNames: { ...config.slack!.accountNames, ...config.sgRevertBot.accountNames },
          }
        : undefined,
      logRetentionDays: cf.logRetentionDays,
    },
    { provider: org.provider("security") },
  );
  const outputs: Outputs = {
    changeFeedNormalizer: feed.normalizer.function.name,
    changeFeedApiDestinations: Object.fromEntries(Object.entries(feed.destinations).map(([k, d]) => [k, d.arn])),
  };

  const tpr = cf.thirdPartyRole;
  if (tpr) {
    // The ExternalId's secret lives in the security account with the other trailwatch secrets; read at deploy time.
    const externalId = aws.secretsmanager.getSecretVersionOutput({ secretId: tpr.externalIdSecret }, { provider: org.provider("security") }).secretString;
    const role = new ThirdPartyRole(
      "change-tracker-role",
      { org, principalArn: tpr.principalArn, externalId, maxSessionDurationSeconds: tpr.maxSessionDurationSeconds, deployTo: tpr.deployTo },
      { provider: org.provider("management") },
    );
    // The ARN to give the vendor (in member accounts, the same role name under each account id).
    outputs.changeTrackerRoleArn = `arn:aws:iam::${config.accounts.management}:role/${role.roleName}`;
    if (role.stackSet) outputs.changeTrackerStackSet = role.stackSet.name;
  }
  return outputs;
}
