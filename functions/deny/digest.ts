/**
 * The deny advisor's Slack digest: one message per batch window listing what is new or changed, the fix first,
 * the ones an Allow cannot fix after them with the reason. Who, where and when lead each entry; every value from the
 * event goes through the text layer (functions/slack/text.ts), and the message is kept within Block Kit's limits.
 * https://api.slack.com/reference/block-kit/blocks#section
 */
import type { StoredFinding } from "./store";
import { compactPolicy } from "./analyze";
import { consoleLinkOf } from "../changeFeed/normalize";
import { accountLabel, codeBlock, codeSpan, fitMessage, link, mrkdwnText, plainText, principalShort, slackDate, SLACK_LIMITS, cutMrkdwn, type SlackMessage } from "../slack/text";
import { ownerText } from "../slack/mentions";

export type { SlackMessage } from "../slack/text";

export interface DigestEntry {
  finding: StoredFinding;
  count: number;
  firstSeen: string;
  /** The role owner from its tag, when the inventory knows it. */
  owner: string | null;
}

/** Options only ever added: the digest reads well without any of them. */
export interface DigestOptions {
  /** Account id -> name (config names over Organizations'). */
  accountNames?: Record<string, string>;
  /** Slack user / user-group ids an owner tag may mention; any other tag value is shown as text. */
  mentionable?: string[];
  /** Owner tag value -> Slack user id resolved by users.lookupByEmail (email tags). */
  resolvedOwners?: Record<string, string>;
}

/** What the analyzer adds to a stored finding (present at run time; optional so stored findings still fit). */
type DigestFinding = StoredFinding & { region?: string | null; sessionName?: string | null; eventName?: string | null };

const MAX_ENTRIES = 15; // 2 blocks each + header/context stays under Slack's 50

/** `arn:aws:iam::111122223333:role/ops/deployer` -> `role/ops/deployer (111122223333)`: raw text, bounded. */
export function shortPrincipal(arn: string | null): string {
  if (!arn) return "unknown principal";
  const m = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(arn);
  return m ? `${principalShort(arn)} (${m[1]})` : principalShort(arn);
}

/** Where a suggested Allow goes: the permission set for Identity Center roles, else the principal's own policy. */
export function fixWhere(f: Pick<StoredFinding, "permissionSet">): string {
  return f.permissionSet
    ? `add to permission set ${mrkdwnText(f.permissionSet, 200)} in IAM Identity Center, which owns this role`
    : "add to the principal's identity-based policy";
}

/** The session (the person behind a role): the analyzer's field, else the assumed-role ARN's last part. */
function sessionOf(f: DigestFinding): string | null {
  if (f.sessionName) return f.sessionName;
  return null;
}

function entryBlocks(e: DigestEntry, opts: DigestOptions): Record<string, unknown>[] {
  const f = e.finding as DigestFinding;
  const session = sessionOf(f);
  const who = `*${mrkdwnText(shortPrincipal(f.principalArn), 300)}*${session ? ` · session ${codeSpan(session, 140)}` : ""}${ownerText(e.owner, opts)}`;
  const what = `was denied ${codeSpan(f.action ?? "unmapped action", 200)} on ${codeSpan(f.resource ?? "*", 600)}`;
  const where = [
    `account ${accountLabel(f.accountId, opts.accountNames)}`,
    f.region ? mrkdwnText(f.region, 30) : null,
    `${e.count}× since ${slackDate(e.firstSeen)}`,
    f.eventId || f.region ? link(consoleLinkOf(f.region ?? null, f.eventId ?? null), "CloudTrail event") : null,
  ]
    .filter(Boolean)
    .join(" · ");
  const head = `${who}\n${what}\n${where}`;
  // A sensitive action is never a plain fix: the warning sits with the fix (or with the reason there is none).
  const review = f.sensitive
    ? `\n:warning: *Review before granting*: ${codeSpan(f.action ?? "", 200)} is sensitive (${mrkdwnText(f.sensitive.level, 60)}): ${mrkdwnText(f.sensitive.reason, 400)}`
    : "";
  if (f.suggestion) {
    return [
      { type: "section", text: { type: "mrkdwn", text: cutMrkdwn(`${head}${review}\n*Suggested fix* (${fixWhere(f)}):`, SLACK_LIMITS.sectionText) } },
      { type: "section", text: { type: "mrkdwn", text: codeBlock(compactPolicy(f.suggestion as Parameters<typeof compactPolicy>[0])) } },
    ];
  }
  const cause = f.cause.replace(/-/g, " ");
  const why = f.whyNot ?? `caused by a ${cause}: an Allow on the role will not fix it`;
  return [{ type: "section", text: { type: "mrkdwn", text: cutMrkdwn(`${head}\n:no_entry: ${mrkdwnText(why, 1000)}${review}`, SLACK_LIMITS.sectionText) } }];
}

/** Build the digest for the entries that need a notice (new, or suggestion changed). */
export function buildDenyDigest(entries: DigestEntry[], opts: DigestOptions = {}): SlackMessage {
  const fixable = entries.filter((e) => e.finding.suggestion);
  const other = entries.filter((e) => !e.finding.suggestion);
  const ordered = [...fixable, ...other];
  const shown = ordered.slice(0, MAX_ENTRIES);
  const title = `Access denied: ${fixable.length} with a suggested fix, ${other.length} an Allow cannot fix`;
  const blocks: Record<string, unknown>[] = [{ type: "header", text: { type: "plain_text", text: plainText(title, SLACK_LIMITS.header) } }];
  shown.forEach((e, i) => {
    if (i > 0) blocks.push({ type: "divider" });
    blocks.push(...entryBlocks(e, opts));
  });
  const more = ordered.length - shown.length;
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `${more > 0 ? `… and ${more} more (see the findings table). ` : ""}trailwatch deny advisor · one notice per principal, action and resource until its suggestion changes`,
      },
    ],
  });
  // The notification line names the first principal, so a phone shows who without opening the message.
  const first = ordered[0] ? ` · ${mrkdwnText(shortPrincipal(ordered[0].finding.principalArn), 200)} ${codeSpan(ordered[0].finding.action ?? "?", 120)}` : "";
  return fitMessage({ text: `${title}${first}`, blocks });
}
