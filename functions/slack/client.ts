/**
 * The Slack Web API client every posting function uses: the bot token is read from Secrets Manager at run time
 * (never an environment variable, never captured in code) and cached for the container's life.
 * `SLACK_API_URL` points the client at a local stub in tests.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { WebClient } from "@slack/web-api";

// A plain object, not a Map: CallbackFunction serializes module state captured by a handler, and a Map comes out
// as a plain object that throws "Map.prototype.get called on incompatible receiver" in Lambda (seen in
// tests/denyLambda.test.ts running the plan's archive).
const clients: Record<string, Promise<WebClient> | undefined> = {};

/** A secret holds the token either as the whole string or as JSON `{"token": "..."}` / `{"botToken": "..."}`. */
export function tokenFromSecret(secret: string): string {
  const t = secret.trim();
  if (t.startsWith("{")) {
    const o = JSON.parse(t) as Record<string, string>;
    const v = o.token ?? o.botToken ?? o.value;
    if (!v) throw new Error("secret JSON has no token / botToken / value field");
    return v;
  }
  return t;
}

export async function readSecret(secretId: string): Promise<string> {
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
  if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
  return out.SecretString;
}

/** One WebClient per secret per container; retries follow the Web API's rate-limit headers. */
export function slackClient(botTokenSecretId: string): Promise<WebClient> {
  return cachedClient(botTokenSecretId, "default", (token) => new WebClient(token, { slackApiUrl: process.env.SLACK_API_URL || undefined, retryConfig: { retries: 2 } }));
}

/**
 * The outbox poster's client: no hidden retries or waits, so the poster decides (functions/slack/outbox.ts): a 429
 * is rejected with its Retry-After, and a call that takes longer than SLACK_TIMEOUT_MS (default 10 s) is abandoned as
 * a timeout, whose outcome the poster then checks in the channel.
 */
export function outboxSlackClient(botTokenSecretId: string): Promise<WebClient> {
  return cachedClient(botTokenSecretId, "outbox", (token) =>
    new WebClient(token, {
      slackApiUrl: process.env.SLACK_API_URL || undefined,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: Number(process.env.SLACK_TIMEOUT_MS) || 10_000,
    }),
  );
}

function cachedClient(botTokenSecretId: string, kind: string, make: (token: string) => WebClient): Promise<WebClient> {
  const key = `${kind}|${botTokenSecretId}`;
  let c = clients[key];
  if (!c) {
    c = readSecret(botTokenSecretId).then((s) => make(tokenFromSecret(s)));
    c.catch(() => delete clients[key]); // a failed read is retried on the next invocation
    clients[key] = c;
  }
  return c;
}
