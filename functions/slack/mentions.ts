/**
 * Mentions only from trusted sources. Anyone who may tag a role chooses its `owner` tag, so a tag value becomes a
 * mention only when it is a Slack user or user-group id on the configured allow list, or an email address Slack
 * itself resolved to a user (users.lookupByEmail, scope users:read.email:
 * https://api.slack.com/methods/users.lookupByEmail). Anything else is shown as text.
 */
import { mrkdwnText, userGroupMention, userMention } from "./text";

export interface MentionPolicy {
  /** Slack user (U…/W…) and user-group (S…) ids that may be mentioned. */
  mentionable?: string[];
  /** Owner tag value (an email) -> the Slack user id users.lookupByEmail returned for it. */
  resolvedOwners?: Record<string, string>;
}

/** The mention for an owner tag value, or null when the value may not mention anyone. */
export function trustedMention(owner: string | null | undefined, policy: MentionPolicy): string | null {
  if (!owner) return null;
  const v = owner.trim();
  const allowed = policy.mentionable ?? [];
  if (/^[UW][A-Z0-9]{2,20}$/.test(v) && allowed.includes(v)) return userMention(v);
  if (/^S[A-Z0-9]{2,20}$/.test(v) && allowed.includes(v)) return userGroupMention(v);
  const resolved = policy.resolvedOwners && Object.prototype.hasOwnProperty.call(policy.resolvedOwners, v) ? policy.resolvedOwners[v] : undefined;
  if (resolved && /^[UW][A-Z0-9]{2,20}$/.test(resolved)) return userMention(resolved);
  return null;
}

/** ` · owner <@U…>` for a trusted owner, ` · owner <the tag, as text>` otherwise, "" without an owner. */
export function ownerText(owner: string | null | undefined, policy: MentionPolicy = {}): string {
  if (!owner) return "";
  return ` · owner ${trustedMention(owner, policy) ?? mrkdwnText(owner, 120)}`;
}

/** An email-shaped tag value, the only kind worth a users.lookupByEmail call. */
export function looksLikeEmail(v: string | null | undefined): v is string {
  return !!v && v.length <= 254 && /^[^\s@<>|]+@[^\s@<>|]+\.[A-Za-z]{2,}$/.test(v);
}

/**
 * Resolve email owner tags through users.lookupByEmail (a failed or unknown lookup leaves the tag as text). The caller
 * passes the Web API call, so this stays pure and the posting code owns the client.
 */
export async function resolveOwnerEmails(owners: (string | null)[], lookup: (email: string) => Promise<string | null>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const o of new Set(owners.filter(looksLikeEmail))) {
    const id = await lookup(o).catch(() => null);
    if (id) out[o] = id;
  }
  return out;
}

/**
 * Wrap a role inventory's `ownerOf` so an email-shaped owner tag is looked up in Slack once per container
 * (users.lookupByEmail), the answer recorded in `resolved` (pass the same object as the digest's `resolvedOwners`).
 * A failed lookup leaves the tag as text; it is tried again after a day.
 */
export function resolvingOwnerOf(
  ownerOf: (principalArn: string) => Promise<string | null>,
  lookup: (email: string) => Promise<string | null>,
  resolved: Record<string, string>,
  now: () => number = () => Date.now(),
): (principalArn: string) => Promise<string | null> {
  // Plain objects, not Maps: CallbackFunction serializes captured state (see functions/slack/client.ts).
  const missUntil: Record<string, number> = {};
  return async (principalArn) => {
    const owner = await ownerOf(principalArn);
    if (looksLikeEmail(owner) && !resolved[owner] && (missUntil[owner] ?? 0) < now()) {
      const id = await lookup(owner).catch(() => null);
      if (id && /^[UW][A-Z0-9]{2,20}$/.test(id)) resolved[owner] = id;
      else missUntil[owner] = now() + 86_400_000;
    }
    return owner;
  };
}
