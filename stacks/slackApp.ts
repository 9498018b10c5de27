/** Wiring for the Slack app's request URL: one endpoint for every feature that takes decisions in the channel. */
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { Outputs } from "./program";
import { SlackApp, type SlackFeature } from "../components/slackApp";
import { WATCH_COMMAND } from "../functions/scp/slack";
import { slackSecrets } from "./slackSecrets";

export function wireSlackApp(config: StackConfig, providers: AccountProviders, features: { sgReview?: SlackFeature; scpWatch?: SlackFeature; alarmTopicArn?: pulumi.Input<string> }): Outputs {
  const list = [features.sgReview, features.scpWatch].filter((f): f is SlackFeature => !!f);
  if (list.length === 0) return {};
  const secrets = slackSecrets(config, providers);
  const app = new SlackApp(
    "slack-app",
    {
      slackBotTokenSecretArn: secrets.botTokenArn,
      slackSigningSecretArn: secrets.signingSecretArn,
      features: list,
      commands: features.scpWatch ? [{ command: WATCH_COMMAND, description: "Watch an SCP's denies for a while", usageHint: "p-abc12345 [minutes]" }] : [],
      logRetentionDays: config.slack?.logRetentionDays,
      alarmTopicArn: features.alarmTopicArn,
    },
    { provider: orgContext(config, providers).provider("security") },
  );
  return { slackRequestUrl: app.url, slackAppManifest: app.manifest };
}
