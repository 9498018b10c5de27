/**
 * SlackApp: the one request URL a Slack app has for interactivity and slash commands, shared by every feature that
 * takes decisions in the channel (SgRevertBot's review buttons, ScpWatch's /trailwatch-watch and Detach). A Lambda
 * Function URL with no AWS auth: Slack cannot sign with SigV4, the Slack signature (checked before any listener) is
 * the authentication. https://api.slack.com/authentication/verifying-requests-from-slack
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InlineFunction } from "./lambda";
import type { Statement } from "./iam";
import { slackAppHandler, type Register } from "../functions/slack/app";
import { registerSgReview } from "../functions/sg/revert/adapters";
import { dynamoReviewStore } from "../functions/sg/revert/state";
import { registerScpWatch } from "../functions/scp/slack";
import { dynamoWindowStore } from "../functions/scp/store";

/** What a feature adds to the Slack app's function: its environment (which also switches it on) and permissions. */
export interface SlackFeature {
  environment: Record<string, pulumi.Input<string>>;
  statements: Statement[];
}

export interface SlackAppArgs {
  slackBotTokenSecretArn: pulumi.Input<string>;
  slackSigningSecretArn: pulumi.Input<string>;
  features: SlackFeature[];
  /** Slash commands the manifest declares. */
  commands: { command: string; description: string; usageHint: string }[];
  logRetentionDays: number;
}

export class SlackApp extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly manifest: pulumi.Output<string>;
  readonly fn: InlineFunction;

  constructor(name: string, args: SlackAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:slack:SlackApp", name, {}, opts);
    const p = { parent: this };
    const environment: Record<string, pulumi.Input<string>> = {
      SLACK_BOT_TOKEN_SECRET: args.slackBotTokenSecretArn,
      SLACK_SIGNING_SECRET_SECRET: args.slackSigningSecretArn,
    };
    for (const f of args.features) Object.assign(environment, f.environment);
    this.fn = new InlineFunction(
      name,
      {
        description: "Slack interactivity and commands: verifies the signature, checks approvers, records decisions",
        timeout: 10,
        logRetentionDays: args.logRetentionDays,
        environment,
        statements: [
          { Sid: "SlackSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.slackBotTokenSecretArn, args.slackSigningSecretArn] },
          ...args.features.flatMap((f) => f.statements),
        ],
        callbackFactory: () => {
          const ddb = new DynamoDBClient({});
          const log = (l: object) => console.log(JSON.stringify(l));
          const register: Register[] = [];
          if (process.env.REVIEW_TABLE)
            register.push(registerSgReview({ store: dynamoReviewStore(ddb, process.env.REVIEW_TABLE), settings: JSON.parse(process.env.SG_BOT_SETTINGS!), log }));
          if (process.env.SCP_WATCH_TABLE)
            register.push(registerScpWatch({ store: dynamoWindowStore(ddb, process.env.SCP_WATCH_TABLE), settings: JSON.parse(process.env.SCP_WATCH_SETTINGS!), log }));
          return slackAppHandler({ signingSecretId: process.env.SLACK_SIGNING_SECRET_SECRET!, botTokenSecretId: process.env.SLACK_BOT_TOKEN_SECRET!, register }) as any;
        },
      },
      p,
    );
    const url = new aws.lambda.FunctionUrl(`${name}-url`, { functionName: this.fn.function.name, authorizationType: "NONE" }, p);
    this.url = url.functionUrl;
    // Create the Slack app from this in one step (api.slack.com/apps -> From an app manifest).
    // https://api.slack.com/reference/manifests
    this.manifest = this.url.apply((u) =>
      JSON.stringify(
        {
          display_information: { name: "trailwatch", description: "AWS security monitoring and response" },
          features: {
            bot_user: { display_name: "trailwatch", always_online: true },
            ...(args.commands.length ? { slash_commands: args.commands.map((c) => ({ command: c.command, url: u, description: c.description, usage_hint: c.usageHint, should_escape: false })) } : {}),
          },
          // channels:history / groups:history: the Slack outbox looks a message up by its metadata after an attempt
          // whose outcome it could not know (a timeout), instead of posting it twice (functions/slack/outbox.ts).
          // users:read / users:read.email: an email owner tag becomes a mention only when Slack resolves it.
          oauth_config: { scopes: { bot: ["chat:write", "usergroups:read", "users:read", "users:read.email", "channels:history", "groups:history", ...(args.commands.length ? ["commands"] : [])] } },
          settings: { interactivity: { is_enabled: true, request_url: u }, org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false },
        },
        null,
        2,
      ),
    );
    this.registerOutputs({ url: this.url });
  }
}
