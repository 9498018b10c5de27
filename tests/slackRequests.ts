/**
 * Slack requests as Slack sends them to the app's Function URL (payload 2.0): form-encoded bodies signed with
 * `v0:{timestamp}:{body}` HMAC-SHA256. https://api.slack.com/authentication/verifying-requests-from-slack
 */
import * as crypto from "crypto";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

/** A Function URL request with a signed form body; `tamper` changes the body after signing. */
export function signedRequest(body: string, opts: { secret?: string; ts?: number; tamper?: (body: string) => string } = {}) {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const sig = "v0=" + crypto.createHmac("sha256", opts.secret ?? SIGNING_SECRET).update(`v0:${ts}:${body}`).digest("hex");
  return {
    version: "2.0",
    rawPath: "/",
    rawQueryString: "",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-signature": sig, "x-slack-request-timestamp": String(ts) },
    requestContext: { http: { method: "POST", path: "/" } },
    body: opts.tamper ? opts.tamper(body) : body,
    isBase64Encoded: false,
  };
}

/** An interactivity request (`payload=<json>`). */
export function interactionRequest(payload: object, opts: Parameters<typeof signedRequest>[1] = {}) {
  return signedRequest(`payload=${encodeURIComponent(JSON.stringify(payload))}`, opts);
}

/** A slash command request. */
export function commandRequest(command: string, text: string, user: string) {
  return signedRequest(
    new URLSearchParams({ command, text, user_id: user, channel_id: "C04SECOPS01", team_id: "T0123TEAM", response_url: "http://127.0.0.1:9/unused", trigger_id: "1.2.3", api_app_id: "A0123APP", token: "t" }).toString(),
  );
}

/** A button click on a message in the security channel. */
export function buttonClick(user: string, actionId: string, value: string, messageTs: string) {
  return {
    type: "block_actions",
    team: { id: "T0123TEAM", domain: "example" },
    user: { id: user, username: user.toLowerCase(), team_id: "T0123TEAM" },
    api_app_id: "A0123APP",
    token: "legacy-verification-token",
    container: { type: "message", message_ts: messageTs, channel_id: "C04SECOPS01", is_ephemeral: false },
    trigger_id: "123.456.abc",
    channel: { id: "C04SECOPS01", name: "security" },
    message: { ts: messageTs, type: "message" },
    response_url: "http://127.0.0.1:9/unused",
    actions: [{ action_id: actionId, block_id: "trailwatch", type: "button", value, action_ts: "1700000001.000000" }],
  };
}
