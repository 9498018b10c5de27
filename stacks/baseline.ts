/**
 * Wiring for the organization baseline: GuardDuty for every account and region, AWS Config recording, rules,
 * conformance packs and the aggregator, and the routing of their findings (SNS per severity band, Slack).
 */
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { Outputs } from "./program";
import type { CentralEventBus } from "../components/centralEventBus";
import { GuardDutyOrg } from "../components/guardDutyOrg";
import { ConfigAggregation } from "../components/configAggregation";
import { FindingsRouter } from "../components/findingsRouter";
import { slackOutbox } from "./slackOutbox";

export function wireBaseline(config: StackConfig, providers: AccountProviders, bus: CentralEventBus): Outputs {
  const outputs: Outputs = {};
  const { guardDuty: gdOn, configAggregation: cfgOn } = config.features;
  const org = orgContext(config, providers);
  if (gdOn) {
    const gd = new GuardDutyOrg("guardduty", {
      org,
      centralBusArn: bus.busArn,
      findingPublishingFrequency: config.guardDuty.findingPublishingFrequency,
      protection: config.guardDuty.protection,
      findingsExpirationDays: config.guardDuty.findingsExpirationDays,
      existingAdministrator: config.guardDuty.existingAdministrator,
    });
    if (gd.findingsBucket) outputs.guardDutyFindingsBucket = gd.findingsBucket.id;
  }
  if (cfgOn) {
    const cfg = new ConfigAggregation("config", {
      org,
      rules: config.configAggregation.rules,
      conformancePacks: config.configAggregation.conformancePacks,
      aggregatorRegions: config.configAggregation.aggregatorRegions,
      snapshotFrequency: config.configAggregation.snapshotFrequency,
      bucketExpirationDays: config.configAggregation.bucketExpirationDays,
      // Beside Control Tower / LZA: what exists already is neither created again nor destroyed on uninstall.
      create: {
        delegatedAdministrator: !config.configAggregation.existing.delegatedAdministrator,
        memberRecorders: !config.configAggregation.existing.memberRecorders,
        managementRecorders: !config.configAggregation.existing.managementRecorders,
        aggregator: !config.configAggregation.existing.aggregator,
      },
    });
    outputs.configBucket = cfg.bucket.id;
    if (cfg.aggregator) outputs.configAggregatorArn = cfg.aggregator.arn;
  }
  if (gdOn || cfgOn) {
    const router = new FindingsRouter(
      "findings",
      {
        bus,
        // Slack off: the severity topics alone (no notifier, no outbox).
        outbox: config.slack ? slackOutbox(config, providers, bus) : undefined,
        slackChannelId: config.slack?.channelId,
        slackMinSeverity: config.findings.slackMinSeverity,
        guardDuty: gdOn,
        configNonCompliantBand: cfgOn ? config.findings.configNonCompliantBand : undefined,
        configToSlack: config.findings.configToSlack,
        topics: config.findings.topics,
        logRetentionDays: config.findings.logRetentionDays,
        accountNames: { ...config.slack?.accountNames, ...config.sgRevertBot.accountNames },
      },
      { provider: providers.of("security") },
    );
    for (const [band, topic] of Object.entries(router.topics)) outputs[`findings${band[0].toUpperCase()}${band.slice(1)}TopicArn`] = topic.arn;
  }
  return outputs;
}
