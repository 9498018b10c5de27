/**
 * SlackApp: the one request URL a Slack app has for interactivity and slash commands, shared by every feature that
 * takes decisions in the channel (SgRevertBot's review buttons, ScpWatch's /trailwatch-watch and Detach). The handler:
 * functions/slack/handler.ts makeSlackAppHandler. A Lambda
 * Function URL with no AWS auth: Slack cannot sign with SigV4, the Slack signature (checked before any listener) is
 * the authentication. https://api.slack.com/authentication/verifying-requests-from-slack
 */
import { SLACK_APP_DEFAULTS } from "./defaults";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction, type FunctionTransforms } from "./lambda";
import { readSecret, type Statement } from "./iam";
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { BOT_TOKEN_SECRET_ENV, SIGNING_SECRET_SECRET_ENV, makeSlackAppHandler } from "../functions/slack/handler";
import { transformed, type Transform } from "./transform";
import { alertAlarm } from "./alarm";

/**
 * What a feature adds to the Slack app's function: its environment (which also switches it on: the variables of
 * functions/slack/handler.ts SLACK_APP_FEATURE_ENV) and permissions.
 */
export interface SlackFeature {
  /** Its table and settings variables. */
  readonly environment: Record<string, pulumi.Input<string>>;
  /** What its listeners may do (read and update its table, ...). */
  readonly statements: Statement[];
}

/** A slash command the app manifest declares. */
export interface SlackCommand {
  /** @example "/trailwatch-watch" */
  readonly command: string;
  readonly description: string;
  /** @example "p-abc12345 [minutes]" */
  readonly usageHint: string;
}

export { SLACK_APP_DEFAULTS };

export interface SlackAppArgs {
  /** The secret (ARN) holding the bot token (xoxb-...); read at run time. */
  readonly slackBotTokenSecretArn: pulumi.Input<string>;
  /** The secret (ARN) holding the app's signing secret; read at run time. */
  readonly slackSigningSecretArn: pulumi.Input<string>;
  /** The features whose buttons and commands this URL serves. */
  readonly features: readonly SlackFeature[];
  /** Slash commands the manifest declares. @default [] */
  readonly commands?: readonly SlackCommand[];
  /** Days the function's logs are kept. @default SLACK_APP_DEFAULTS.logRetentionDays (90) */
  readonly logRetentionDays?: number;
  /** Where the errors/throttles alarm goes (the central alert topic); unset: no alarm. */
  readonly alarmTopicArn?: pulumi.Input<string>;
  /**
   * Concurrent executions reserved for (and the most allowed to) the Slack function: the URL is public, so a flood
   * must not take the account's shared concurrency from the detect and worker functions. The account must keep 100
   * unreserved: its Lambda concurrency quota must be at least this + 100.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
   * @default SLACK_APP_DEFAULTS.reservedConcurrency (10)
   */
  readonly reservedConcurrency?: number;
  /** Customize the function, its role and log group, the function URL and the alarm. */
  readonly transform?: FunctionTransforms & {
    readonly url?: Transform<aws.lambda.FunctionUrlArgs>;
    readonly alarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
  };
}

export class SlackApp extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly manifest: pulumi.Output<string>;
  readonly fn: InlineFunction;

  constructor(name: string, args: SlackAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:slack:SlackApp", name, {}, opts);
    const p = { parent: this };
    const t = args.transform;
    const commands = args.commands ?? [];
    const environment: Record<string, pulumi.Input<string>> = {
      [BOT_TOKEN_SECRET_ENV]: args.slackBotTokenSecretArn,
      [SIGNING_SECRET_SECRET_ENV]: args.slackSigningSecretArn,
    };
    for (const f of args.features) Object.assign(environment, f.environment);
    this.fn = new InlineFunction(
      name,
      {
        description: "Slack interactivity and commands: verifies the signature, checks approvers, records decisions",
        timeout: 10,
        reservedConcurrentExecutions: args.reservedConcurrency ?? SLACK_APP_DEFAULTS.reservedConcurrency,
        logRetentionDays: args.logRetentionDays ?? SLACK_APP_DEFAULTS.logRetentionDays,
        environment,
        statements: [
          readSecret(args.slackBotTokenSecretArn, "SlackBotToken"),
          readSecret(args.slackSigningSecretArn, "SlackSigningSecret"),
          ...args.features.flatMap((f) => f.statements),
          // The review and window messages it updates name accounts (components/accountDirectory.ts).
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => makeSlackAppHandler(),
        transform: { function: t?.function, role: t?.role, logGroup: t?.logGroup },
      },
      p,
    );
    const url = new aws.lambda.FunctionUrl(...transformed(t?.url, `${name}-url`, { functionName: this.fn.function.name, authorizationType: "NONE" }, p));
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
      alertAlarm(
        `${name}-errors`,
        {
          description: "trailwatch: the Slack app function failed or was throttled; buttons and /commands may not work",
          metricQueries: [
            { id: "errors", metric: { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: this.fn.function.name }, period: 300, stat: "Sum" } },
            { id: "throttles", metric: { namespace: "AWS/Lambda", metricName: "Throttles", dimensions: { FunctionName: this.fn.function.name }, period: 300, stat: "Sum" } },
            { id: "failed", expression: "errors + throttles", label: "Errors + throttles", returnData: true },
          ],
          treatMissingData: "notBreaching",
          topicArn: args.alarmTopicArn,
          transform: t?.alarm,
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
            ...(commands.length ? { slash_commands: commands.map((c) => ({ command: c.command, url: u, description: c.description, usage_hint: c.usageHint, should_escape: false })) } : {}),
          },
          // channels:history / groups:history: the Slack outbox looks a message up by its metadata after an attempt
          // whose outcome it could not know (a timeout), instead of posting it twice (functions/slack/outbox.ts).
          // users:read / users:read.email: an email owner tag becomes a mention only when Slack resolves it.
          oauth_config: { scopes: { bot: ["chat:write", "usergroups:read", "users:read", "users:read.email", "channels:history", "groups:history", ...(commands.length ? ["commands"] : [])] } },
          settings: { interactivity: { is_enabled: true, request_url: u }, org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false },
        },
        null,
        2,
      ),
    );
    this.registerOutputs({ url: this.url });
  }
}
