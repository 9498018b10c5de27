/**
 * Slack's request signature, checked before anything parses the body. Slack's rule: the base string is
 * `v0:{X-Slack-Request-Timestamp}:{raw body}`, the signature `v0=` + hex HMAC-SHA256 of it with the signing secret,
 * and a request whose timestamp is more than five minutes from now, either way, is refused (replay).
 * https://api.slack.com/authentication/verifying-requests-from-slack
 * Bolt's AwsLambdaReceiver (5.1) is laxer: it accepts future timestamps, takes the version from the header (a `v1=`
 * signature over `v1:ts:body` passes) and parses the body before verifying (a malformed unsigned body throws, and the
 * Function URL answers 502). So this runs first and everything it refuses gets 401.
 */
import * as crypto from "crypto";

export const SIGNATURE_VERSION = "v0";
/** Seconds a request may be away from now, in either direction. */
export const MAX_SKEW_SECONDS = 300;

export type VerifyResult = { ok: true; body: string } | { ok: false; reason: string };

/** A Lambda Function URL request (payload 2.0), as far as the signature needs it. */
export interface UrlRequest {
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
}

function header(req: UrlRequest, name: string): string | undefined {
  const h = req.headers ?? {};
  const key = Object.keys(h).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : h[key];
}

/** Verify a Slack request; on success return the body as UTF-8 text (Function URLs may base64 it). */
export function verifySlackRequest(req: UrlRequest, signingSecret: string, nowSeconds: number): VerifyResult {
  const ts = header(req, "x-slack-request-timestamp");
  const sig = header(req, "x-slack-signature");
  if (!ts || !sig) return { ok: false, reason: "missing X-Slack-Request-Timestamp or X-Slack-Signature" };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: "timestamp is not a number of seconds" };
  if (Math.abs(nowSeconds - Number(ts)) > MAX_SKEW_SECONDS) return { ok: false, reason: `timestamp ${ts} is more than ${MAX_SKEW_SECONDS} s from now (${nowSeconds})` };
  if (!sig.startsWith(`${SIGNATURE_VERSION}=`)) return { ok: false, reason: `signature version is not ${SIGNATURE_VERSION}` };
  const raw = req.body === undefined ? Buffer.alloc(0) : req.isBase64Encoded ? Buffer.from(req.body, "base64") : Buffer.from(req.body, "utf8");
  const expected = Buffer.from(
    `${SIGNATURE_VERSION}=` + crypto.createHmac("sha256", signingSecret).update(`${SIGNATURE_VERSION}:${ts}:`).update(raw).digest("hex"),
    "utf8",
  );
  const given = Buffer.from(sig, "utf8");
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, reason: "signature does not match" };
  return { ok: true, body: raw.toString("utf8") };
}
