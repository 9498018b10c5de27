/**
 * The Slack app's one request URL (interactivity and slash commands) on a Lambda Function URL. Bolt's
 * AwsLambdaReceiver checks `v0:{timestamp}:{raw body}` HMAC-SHA256 against the signing secret and refuses requests
 * older than 5 minutes with a 401 before any listener runs. Bolt on Lambda runs the listener before it answers
 * (TOOLCHAIN.md), so listeners do the fast part only and hand slow work to workers (through table streams).
 * Each feature registers its own listeners; secrets are read from Secrets Manager on a container's first request.
 */
import { App, AwsLambdaReceiver } from "@slack/bolt";
import { readSecret, tokenFromSecret } from "./client";

export type Register = (app: App) => void;
type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

export function slackAppHandler(deps: { signingSecretId: string; botTokenSecretId: string; register: Register[] }): LambdaHandler {
  let ready: Promise<LambdaHandler> | undefined;
  const init = async (): Promise<LambdaHandler> => {
    const [signingSecret, botToken] = await Promise.all([readSecret(deps.signingSecretId), readSecret(deps.botTokenSecretId)]);
    const receiver = new AwsLambdaReceiver({ signingSecret: tokenFromSecret(signingSecret) });
    const app = new App({
      token: tokenFromSecret(botToken),
      receiver,
      tokenVerificationEnabled: false, // no auth.test round trip on cold start
      // Few retries: the function has seconds, not the default half hour of backoff.
      clientOptions: { slackApiUrl: process.env.SLACK_API_URL || undefined, retryConfig: { retries: 2 } },
    });
    for (const register of deps.register) register(app);
    return receiver.toHandler() as unknown as LambdaHandler;
  };
  return async (event, context) => {
    if (!ready) {
      ready = init();
      ready.catch(() => (ready = undefined));
    }
    return (await ready)(event, context);
  };
}
