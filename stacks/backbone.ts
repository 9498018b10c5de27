/** Wiring for the event backbone: the central bus in the security account, forwarders everywhere else. */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { denyOnlyRegions, forwarderRegions } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import { CentralEventBus } from "../components/centralEventBus";
import { MemberForwarder, OrganizationForwarders } from "../components/memberForwarder";
import type { Outputs } from "./program";
import { forwardedEventsPattern } from "../functions/patterns";

/** Above this many direct-mode accounts the program gets heavy (figures in the README's performance section). */
export const DIRECT_MODE_ADVISED_MAX = 200;

/**
 * Direct mode declares a forwarder per account (48 resources each in the prod example) and its plan grows with the
 * organization; StackSet mode's does not. Measured (npm run bench): 100 accounts 22 s / 1.2 GB; 1,000 accounts run
 * out of Node's default heap (4 GB) and need about 9 GB and 3.5 minutes.
 */
export function directModeWarning(config: StackConfig): string | undefined {
  const n = config.forwarder.mode === "direct" ? config.forwarder.directAccounts.length : 0;
  if (n <= DIRECT_MODE_ADVISED_MAX) return undefined;
  return (
    `trailwatch:forwarder.directAccounts lists ${n} accounts: direct mode declares a forwarder (a role, a queue and ` +
    `rules per region) in each of them, so the program grows with the organization (measured: 1,000 accounts need ` +
    `about 9 GB of memory, more than Node's default heap). Use mode: stackset (one StackSet, the same size for any ` +
    `number of accounts), or raise the heap: NODE_OPTIONS=--max-old-space-size=12288.`
  );
}

export function wireBackbone(config: StackConfig, providers: AccountProviders): { bus: CentralEventBus; outputs: Outputs } {
  const org = orgContext(config, providers);
  const regions = forwarderRegions(config);
  const denyOnly = denyOnlyRegions(config);
  // StackSets never deploy to the management account: it always gets its forwarder directly. Direct mode adds
  // the listed accounts the same way.
  const direct = [...new Set([config.accounts.management, ...(config.forwarder.mode === "direct" ? config.forwarder.directAccounts : [])])];
  const bus = new CentralEventBus("central", {
    org,
    busName: config.eventBus.name,
    archiveRetentionDays: config.eventBus.archiveRetentionDays,
    heartbeatMinutes: config.eventBus.heartbeatMinutes,
    alertEmails: config.alerts.emails,
    maxPatternChars: config.eventBus.maxPatternChars,
    expectedForwarders: {
      targets: config.forwarder.mode === "stackset" ? config.memberTargets : [],
      directAccounts: direct,
      regions: [...regions, ...denyOnly].sort(),
    },
  });
  // Every forwarded event, searchable with CloudWatch Logs Insights (read-only denies included).
  const eventLog = bus.subscribe(
    "security-events",
    forwardedEventsPattern,
    { kind: "logGroup", retentionDays: config.eventBus.eventLogRetentionDays },
    "Every forwarded CloudTrail event, searchable in CloudWatch Logs Insights",
    { state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" },
  );
  const outputs: Outputs = {
    centralBusArn: bus.busArn,
    alertTopicArn: bus.alertTopic.arn,
    forwarderRegions: regions,
    denyOnlyForwarderRegions: denyOnly,
    securityEventLogGroup: eventLog.logGroup!.name,
  };

  if (config.forwarder.mode === "stackset") {
    const forwarders = new OrganizationForwarders("forwarders", {
      org,
      centralBusArn: bus.busArn,
      regions,
      changes: config.features.changeFeed,
      denyOnlyRegions: denyOnly,
    });
    outputs.forwarderStackSet = forwarders.stackSet.name;
  }
  const warning = directModeWarning(config);
  if (warning) pulumi.log.warn(warning);
  for (const account of direct) {
    const label = account === config.accounts.management ? "management" : account;
    new MemberForwarder(`forwarder-${label}`, {
      org,
      accountId: account,
      accountLabel: label,
      centralBusArn: bus.busArn,
      regions,
      changes: config.features.changeFeed,
      denyOnlyRegions: denyOnly,
    });
  }
  return { bus, outputs };
}
