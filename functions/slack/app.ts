/**
 * The Slack app's one request URL (interactivity and slash commands) on a Lambda Function URL. Every request is
 * verified here first (functions/slack/verify.ts: `v0` HMAC-SHA256 over the raw body, timestamp within 5 minutes
 * either way) and answered 401 before anything parses it; Bolt only sees verified requests, with the body already
 * decoded as UTF-8 (Bolt would decode a base64 body as ASCII). Bolt on Lambda runs the listener before it answers
 * (TOOLCHAIN.md), so listeners do the fast part only and hand slow work to workers (through table streams).
 * Each feature registers its own listeners; secrets are read from Secrets Manager, and the bot's ids with one
 * `auth.test`, on a container's first request: given `botId`/`botUserId`, Bolt makes no `auth.test` per request
 * (with `tokenVerificationEnabled: false` alone it makes one on every request, a second round trip to Slack inside
 * the 3 s Slack allows for the answer). https://api.slack.com/methods/auth.test
 */
import { App, AwsLambdaReceiver } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import { readSecret, tokenFromSecret } from "./client";
import { verifySlackRequest, type UrlRequest } from "./verify";

export type Register = (app: App) => void;
type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

export function slackAppHandler(deps: { signingSecretId: string; botTokenSecretId: string; register: Register[] }): LambdaHandler {
  let ready: Promise<{ signingSecret: string; handler: LambdaHandler }> | undefined;
  const init = async () => {
    const [signing, token] = await Promise.all([readSecret(deps.signingSecretId), readSecret(deps.botTokenSecretId)]);
    const signingSecret = tokenFromSecret(signing);
    const botToken = tokenFromSecret(token);
    // Few retries: the function has seconds, not the default half hour of backoff.
    const clientOptions = { slackApiUrl: process.env.SLACK_API_URL || undefined, retryConfig: { retries: 2 } };
    const who = await new WebClient(botToken, clientOptions).auth.test();
    if (!who.bot_id || !who.user_id) throw new Error("auth.test did not return bot_id and user_id: is the token a bot token (xoxb-)?");
    const receiver = new AwsLambdaReceiver({ signingSecret });
    const app = new App({ token: botToken, botId: who.bot_id, botUserId: who.user_id, receiver, tokenVerificationEnabled: false, clientOptions });
    for (const register of deps.register) register(app);
    return { signingSecret, handler: receiver.toHandler() as unknown as LambdaHandler };
  };
  return async (event, context) => {
    if (!ready) {
      ready = init();
      ready.catch(() => (ready = undefined));
    }
    const { signingSecret, handler } = await ready;
    const req = (event ?? {}) as UrlRequest;
    const verified = verifySlackRequest(req, signingSecret, Math.floor(Date.now() / 1000));
    if (!verified.ok) {
      console.log(JSON.stringify({ msg: "slack request refused", reason: verified.reason }));
      return { statusCode: 401, body: "" };
    }
    return handler({ ...req, body: verified.body, isBase64Encoded: false }, context);
  };
}
