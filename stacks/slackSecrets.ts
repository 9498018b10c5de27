/**
 * The Slack credentials as Secrets Manager secrets in the security account, shared by every function that talks
 * to Slack. Either existing secrets named in config (`secrets.slackBotToken` / `secrets.slackSigningSecret`), or
 * secrets created here from the secure config values `slackBotToken` / `slackSigningSecret`. Functions get the
 * secret ARN and read the value at run time: never an environment variable, never inside a code archive.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import type { AccountProviders } from "./providers";

export interface SlackSecrets {
  /** ARN (or name) of the secret holding the bot token (xoxb-...). */
  botTokenArn: pulumi.Output<string>;
  /** ARN (or name) of the secret holding the app's signing secret. */
  signingSecretArn: pulumi.Output<string>;
}

const memo = new WeakMap<StackConfig, SlackSecrets>();

/** Memoized per program run: every feature calling it gets the same two secrets. */
export function slackSecrets(config: StackConfig, providers: AccountProviders): SlackSecrets {
  const existing = memo.get(config);
  if (existing) return existing;
  const opts = { provider: providers.of("security") };
  const cfg = new pulumi.Config("trailwatch");
  const make = (key: "slackBotToken" | "slackSigningSecret", description: string): pulumi.Output<string> => {
    const ref = config.secrets[key];
    if (ref) return pulumi.output(ref);
    const value = cfg.getSecret(key);
    if (value === undefined)
      throw new Error(`trailwatch:${key}: required (a secure value: pulumi config set --secret trailwatch:${key} ...) unless trailwatch:secrets.${key} names an existing secret`);
    const secret = new aws.secretsmanager.Secret(`slack-${key}`, { name: `trailwatch/${pulumi.getStack()}/${key}`, description, recoveryWindowInDays: 7 }, opts);
    new aws.secretsmanager.SecretVersion(`slack-${key}-value`, { secretId: secret.id, secretString: value }, opts);
    return secret.arn;
  };
  const secrets = {
    botTokenArn: make("slackBotToken", "trailwatch Slack bot token (xoxb-...)"),
    signingSecretArn: make("slackSigningSecret", "trailwatch Slack app signing secret"),
  };
  memo.set(config, secrets);
  return secrets;
}
