/**
 * The trailwatch program: validate config, build providers, instantiate the components the config switches on,
 * return the stack outputs. `stacks/index.ts` runs it under Pulumi; `npm run plan` runs it on the mock runtime.
 * Each feature's wiring lives in its own `stacks/<feature>.ts`; this file only decides what runs.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, StackConfig } from "./config";
import { AccountProviders } from "./providers";
import { wireBackbone } from "./backbone";
import { wireDenyAdvisor } from "./denyAdvisor";
import { wireOrgTrail } from "./orgTrail";
import { wireBaseline } from "./baseline";
import { wireChangeFeed } from "./changeFeed";
import { wireSgRevertBot } from "./sgRevertBot";
import { wireScpWatch } from "./scpWatch";
import { wireSlackApp } from "./slackApp";
import { slackSetupStatus } from "./slackSecrets";
import { retainRecords } from "./retention";
import { requireStackSetsAccess } from "./stackSetsAccess";
import { sealSlackOutbox } from "./slackOutbox";

/** Read and validate the stack config; throws ConfigError listing every problem before any resource exists. */
export function loadStackConfig(): StackConfig {
  const result = parseStackConfig(pulumi.runtime.allConfig());
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}

export type Outputs = Record<string, pulumi.Input<unknown>>;

/**
 * Pulumi's runtime stores `new Error().stack` on every promise it makes (@pulumi/pulumi runtime/debuggable.js, for its
 * promise-leak report), and under ts-node each such stack is source-mapped frame by frame. With one forwarder per
 * account (direct mode) that was most of the run and of the memory: a 40-account plan took 62.7 s, 15.0 s without
 * stack frames, with an identical resources.json; 1,000 accounts ran out of heap. So frames are off while the program
 * runs. TRAILWATCH_STACK_TRACES=1 keeps them (for debugging a failure in the program itself).
 */
export function limitStackTraces(env: NodeJS.ProcessEnv = process.env): void {
  if (env.TRAILWATCH_STACK_TRACES !== "1") Error.stackTraceLimit = 0;
}

export function runProgram(): Outputs {
  limitStackTraces();
  const config = loadStackConfig();
  const providers = new AccountProviders(config);
  // Logs, findings and the keys that decrypt them survive `pulumi destroy` (stacks/retention.ts).
  pulumi.runtime.registerStackTransformation(retainRecords(config));
  const outputs: Outputs = { organizationId: config.organizationId, homeRegion: config.homeRegion };
  // Every account provider is declared, so a plan shows which credentials each account needs.
  for (const role of ["management", "security", "logArchive"] as const) providers.of(role);
  // Service-managed StackSets fail until CloudFormation's organizations access is activated: each waits on it.
  requireStackSetsAccess(config);

  // Feature wiring, in dependency order. Each wire* returns its stack outputs.
  // (wiring calls are added here, one line per feature)
  if (config.features.orgTrail) Object.assign(outputs, wireOrgTrail(config, providers));
  const backbone = config.features.eventBackbone ? wireBackbone(config, providers) : undefined;
  if (backbone) Object.assign(outputs, backbone.outputs);
  if (backbone && config.features.denyAdvisor) Object.assign(outputs, wireDenyAdvisor(config, providers, backbone.bus));
  const sgBot = backbone && config.features.sgRevertBot ? wireSgRevertBot(config, providers, backbone.bus) : undefined;
  if (sgBot) outputs.sgRevertHubRoleArn = sgBot.hubRoleArn;
  const scpWatch = backbone && config.features.scpWatch ? wireScpWatch(config, providers, backbone.bus) : undefined;
  if (scpWatch) Object.assign(outputs, { scpWatchDashboard: scpWatch.dashboard.dashboardName, scpDenyLogGroup: scpWatch.denyLog.name });
  Object.assign(outputs, wireSlackApp(config, providers, { sgReview: sgBot?.slackFeature, scpWatch: scpWatch?.slackFeature, alarmTopicArn: backbone?.bus.alertTopic.arn }));
  if (backbone && (config.features.guardDuty || config.features.configAggregation)) Object.assign(outputs, wireBaseline(config, providers, backbone.bus));
  if (backbone && config.features.changeFeed) Object.assign(outputs, wireChangeFeed(config, providers, backbone.bus));
  sealSlackOutbox(config);

  // Slack on but its credentials not given yet (the first pulumi up): say what is left, in the output and the log.
  const slackSetup = slackSetupStatus(config);
  if (slackSetup) {
    outputs.slackSetup = slackSetup;
    pulumi.log.warn(`trailwatch: Slack ${slackSetup}`);
  }

  return outputs;
}
