/**
 * EC2's encoded authorization failure messages, decoded where they were produced.
 *
 * Only `sts:DecodeAuthorizationMessage` in the account that produced a message decodes it; the decoded document says
 * whether an explicit Deny matched (`explicitDeny`), which statements matched (`matchedStatements.items[]`,
 * with `statementId` and `effect`), and the request's `context` (principal, action, resource, conditions).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 *
 * In the deployed pipeline the deny processor assumes the decode spoke role in that account (ExternalId; the role may
 * do nothing but sts:DecodeAuthorizationMessage) and decodes. Any failure (not permitted, throttled, the message
 * expired, no spoke in that account) leaves the undecoded finding as it was: a deny is never dropped for it.
 */
import { AssumeRoleCommand, DecodeAuthorizationMessageCommand, STSClient } from "@aws-sdk/client-sts";
import { partitionOf } from "../cloudtrail";

/** The role every account gets for decoding (StackSet for members, directly in the management account). */
export const DECODE_SPOKE_ROLE_NAME = "trailwatch-deny-decode-spoke";

/** What the advice needs from a decoded message. */
export interface DecodedAuthorization {
  /** true: an explicit Deny matched; false: no statement allowed it (implicit deny). */
  explicit: boolean;
  /** Statement ids of the matched statements (explicit denies name theirs; may be empty). */
  statements: string[];
  /** The action and resource AWS evaluated, when the document gives them. */
  action: string | null;
  resource: string | null;
}

/** Read a DecodedMessage JSON string; null when it is not one (never throws). */
export function readDecodedMessage(decoded: unknown): DecodedAuthorization | null {
  if (typeof decoded !== "string" || decoded.length > 1_000_000) return null;
  let doc: any;
  try {
    doc = JSON.parse(decoded);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== "object" || typeof doc.explicitDeny !== "boolean" || doc.allowed === true) return null;
  const items: unknown[] = Array.isArray(doc.matchedStatements?.items) ? doc.matchedStatements.items : [];
  const statements = items
    .map((s) => (s && typeof s === "object" ? (s as { statementId?: unknown }).statementId : null))
    .filter((id): id is string => typeof id === "string" && id.length > 0 && id.length <= 256)
    .slice(0, 20);
  const ctx = doc.context && typeof doc.context === "object" ? doc.context : {};
  const text = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 2048 ? v : null);
  return { explicit: doc.explicitDeny, statements, action: text(ctx.action), resource: text(ctx.resource) };
}

/** Decodes one message in the account that produced it; throws on any failure (the caller falls back). */
export type Decoder = (accountId: string, region: string | null, encodedMessage: string) => Promise<string>;

/**
 * The deployed decoder: assume `DECODE_SPOKE_ROLE_NAME` in the account (with the ExternalId), then
 * DecodeAuthorizationMessage with those credentials. Sessions are reused per account while they last.
 */
export function spokeDecoder(opts: { externalId: string; sessionName?: string; homeRegion?: string }): Decoder {
  // A plain object filled at run time (the closure serializer turns a module-level Map into {}).
  const sessions: Record<string, { client: STSClient; until: number } | undefined> = {};
  return async (accountId, region, encodedMessage) => {
    if (!/^\d{12}$/.test(accountId)) throw new Error(`not an account id: ${accountId}`);
    const stsRegion = region && /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? region : (opts.homeRegion ?? "us-east-1");
    let cached = sessions[accountId];
    if (!cached || cached.until <= Date.now()) {
      const out = await new STSClient({ region: stsRegion }).send(
        new AssumeRoleCommand({
          RoleArn: `arn:${partitionOf(stsRegion)}:iam::${accountId}:role/${DECODE_SPOKE_ROLE_NAME}`,
          RoleSessionName: opts.sessionName ?? "trailwatch-deny-decode",
          ExternalId: opts.externalId,
          DurationSeconds: 900,
        }),
      );
      const c = out.Credentials!;
      const client = new STSClient({ region: stsRegion, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration } });
      cached = { client, until: (c.Expiration ? new Date(c.Expiration).getTime() : Date.now() + 900_000) - 60_000 };
      sessions[accountId] = cached;
    }
    const out = await cached.client.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: encodedMessage }));
    if (typeof out.DecodedMessage !== "string") throw new Error("DecodeAuthorizationMessage returned no DecodedMessage");
    return out.DecodedMessage;
  };
}
