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
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { envAccountDirectory } from "../functions/accounts/directory";

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
  /** Where the errors/throttles alarm goes (the central alert topic). */
  alarmTopicArn?: pulumi.Input<string>;
  /**
   * Concurrent executions reserved for (and the most allowed to) the Slack function: the URL is public, so a flood
   * must not take the account's shared concurrency from the detect and worker functions. The account must keep 100
   * unreserved: its Lambda concurrency quota must be at least this + 100.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html @default 10
   */
  reservedConcurrency?: number;
}

/** Default reserved concurrency of the Slack function (a click takes well under a second; Slack retries 3 times). */
export const SLACK_RESERVED_CONCURRENCY = 10;

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
        reservedConcurrentExecutions: args.reservedConcurrency ?? SLACK_RESERVED_CONCURRENCY,
        logRetentionDays: args.logRetentionDays,
        environment,
        statements: [
          { Sid: "SlackSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.slackBotTokenSecretArn, args.slackSigningSecretArn] },
          ...args.features.flatMap((f) => f.statements),
          // The review and window messages it updates name accounts (components/accountDirectory.ts).
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => {
          const ddb = new DynamoDBClient({});
          const log = (l: object) => console.log(JSON.stringify(l));
          const register: Register[] = [];
          const featureSettings: { accountNames?: Record<string, string> }[] = [];
          if (process.env.REVIEW_TABLE) {
            const settings = JSON.parse(process.env.SG_BOT_SETTINGS!);
            featureSettings.push(settings);
            register.push(registerSgReview({ store: dynamoReviewStore(ddb, process.env.REVIEW_TABLE), settings, log }));
          }
          if (process.env.SCP_WATCH_TABLE) {
            const settings = JSON.parse(process.env.SCP_WATCH_SETTINGS!);
            featureSettings.push(settings);
            register.push(registerScpWatch({ store: dynamoWindowStore(ddb, process.env.SCP_WATCH_TABLE), settings, log }));
          }
          // Organizations' account names, under each feature's config names, filled in the background from the
          // first request on: a click or command never waits for ListAccounts within Slack's 3 seconds (the first in a
          // new container may show config names only). Cached an hour per container; a refused listing is logged once.
          const directory = envAccountDirectory({}, log);
          const configured = featureSettings.map((f) => ({ ...(f.accountNames ?? {}) }));
          const refreshNames = () =>
            void directory.names().then((listed) => featureSettings.forEach((f, i) => (f.accountNames = { ...listed, ...configured[i] })));
          const handler = slackAppHandler({ signingSecretId: process.env.SLACK_SIGNING_SECRET_SECRET!, botTokenSecretId: process.env.SLACK_BOT_TOKEN_SECRET!, register }) as any;
          return ((event: unknown, context: unknown) => {
            refreshNames();
            return handler(event, context);
          }) as any;
        },
      },
      p,
    );
    const url = new aws.lambda.FunctionUrl(`${name}-url`, { functionName: this.fn.function.name, authorizationType: "NONE" }, p);
    // With auth type NONE the function's resource policy must still grant public access, and function URLs created
    // since October 2025 need both statements: lambda:InvokeFunctionUrl (FunctionUrlAuthType NONE) and
    // lambda:InvokeFunction (invokedViaFunctionUrl true, so it opens the URL only, not the Invoke API). Without them
    // every Slack request gets 403. https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
    new aws.lambda.Permission(
      `${name}-url-public`,
      { action: "lambda:InvokeFunctionUrl", function: this.fn.function.name, principal: "*", functionUrlAuthType: "NONE" },
      { ...p, dependsOn: [url] },
    );
    new aws.lambda.Permission(
      `${name}-url-invoke`,
      { action: "lambda:InvokeFunction", function: this.fn.function.name, principal: "*", invokedViaFunctionUrl: true },
      { ...p, dependsOn: [url] },
    );
    if (args.alarmTopicArn) {
      // Errors (a broken deploy, Slack or DynamoDB down) and throttles (the reserved concurrency is exhausted: a flood
      // on the public URL) both mean clicks are being lost.
      // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
      new aws.cloudwatch.MetricAlarm(
        `${name}-errors`,
        {
          alarmDescription: "trailwatch: the Slack app function failed or was throttled; buttons and /commands may not work",
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          evaluationPeriods: 1,
          treatMissingData: "notBreaching",
          metricQueries: [
            { id: "errors", metric: { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: this.fn.function.name }, period: 300, stat: "Sum" } },
            { id: "throttles", metric: { namespace: "AWS/Lambda", metricName: "Throttles", dimensions: { FunctionName: this.fn.function.name }, period: 300, stat: "Sum" } },
            { id: "failed", expression: "errors + throttles", label: "Errors + throttles", returnData: true },
          ],
          alarmActions: [args.alarmTopicArn],
          okActions: [args.alarmTopicArn],
        },
        p,
      );
    }
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
