/**
 * The Slack credentials as Secrets Manager secrets in the security account, shared by every function that talks
 * to Slack. Per credential, in this order: an existing secret named in config (`secrets.slackBotToken` /
 * `secrets.slackSigningSecret`); a secret created here from the secure config value `slackBotToken` /
 * `slackSigningSecret`; or, when neither is given yet, the secret created without a value, so the first `pulumi up`
 * can deploy the Slack app whose request URL the app manifest needs (the order of operations: docs/deploy.md).
 * Functions get the secret ARN and read the value at run time: never an environment variable, never inside a code
 * archive; a read that fails (no value yet) is retried on the next invocation (functions/slack/client.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_KEYS, type StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";

export type SlackSecretKey = (typeof SECRET_KEYS)[number];

export interface SlackSecrets {
  /** ARN (or name) of the secret holding the bot token (xoxb-...). */
  botTokenArn: pulumi.Output<string>;
  /** ARN (or name) of the secret holding the app's signing secret. */
  signingSecretArn: pulumi.Output<string>;
  /** Credentials given neither as an existing secret nor as a secure value: their secrets exist with no value yet. */
  pending: SlackSecretKey[];
}

const memo = new WeakMap<StackConfig, SlackSecrets>();

/** The `slack` section; the config schema guarantees it for every feature that posts (SLACK_FEATURES). */
export function slackSection(config: StackConfig): NonNullable<StackConfig["slack"]> {
  if (!config.slack) throw new Error("trailwatch:slack: required by a feature that posts to Slack (set it, or turn the feature off)");
  return config.slack;
}

/** Memoized per program run: every feature calling it gets the same two secrets. */
export function slackSecrets(config: StackConfig, providers: AccountProviders): SlackSecrets {
  const existing = memo.get(config);
  if (existing) return existing;
  slackSection(config);
  const opts = { provider: orgContext(config, providers).provider("security") };
  const cfg = new pulumi.Config("trailwatch");
  const pending: SlackSecretKey[] = [];
  const make = (key: SlackSecretKey, description: string): pulumi.Output<string> => {
    const ref = config.secrets[key];
    if (ref) return pulumi.output(ref);
    const secret = new aws.secretsmanager.Secret(`slack-${key}`, { name: `trailwatch/${pulumi.getStack()}/${key}`, description, recoveryWindowInDays: 7 }, opts);
    const value = cfg.getSecret(key);
    // CreateSecret without SecretString makes a secret with no version; GetSecretValue fails until one is put
    // (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html).
    if (value === undefined) pending.push(key);
    else new aws.secretsmanager.SecretVersion(`slack-${key}-value`, { secretId: secret.id, secretString: value }, opts);
    return secret.arn;
  };
  const secrets = {
    botTokenArn: make("slackBotToken", "trailwatch Slack bot token (xoxb-...)"),
    signingSecretArn: make("slackSigningSecret", "trailwatch Slack app signing secret"),
    pending,
  };
  memo.set(config, secrets);
  return secrets;
}

/**
 * The `slackSetup` stack output: what is left before Slack works, or undefined when nothing is (or Slack is off, or
 * no feature used the secrets). Read after every feature is wired.
 */
export function slackSetupStatus(config: StackConfig): string | undefined {
  const s = memo.get(config);
  if (!s || s.pending.length === 0) return undefined;
  const stack = pulumi.getStack();
  return (
    `pending: no value yet for ${s.pending.map((k) => `trailwatch:${k}`).join(" and ")}; posts to Slack fail and are retried until then. ` +
    `Create the Slack app from the slackAppManifest output, then ${s.pending.map((k) => `pulumi config set --secret trailwatch:${k} ...`).join("; ")}; pulumi up ` +
    `(or put the values into the secrets ${s.pending.map((k) => `trailwatch/${stack}/${k}`).join(", ")} with aws secretsmanager put-secret-value). docs/deploy.md, "Slack".`
  );
}
