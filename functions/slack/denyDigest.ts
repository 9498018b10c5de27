/**
 * The deny advisor's Slack digest: one message per batch window listing what is new or changed, the fix first,
 * the ones an Allow cannot fix after them with the reason. Block Kit limits: 50 blocks per message, 3000 characters
 * per section text. https://api.slack.com/reference/block-kit/blocks#section
 */
import type { StoredFinding } from "../deny/store";
import { compactPolicy } from "../deny/analyze";

export interface DigestEntry {
  finding: StoredFinding;
  count: number;
  firstSeen: string;
  /** The role owner from its tag, when the inventory knows it. */
  owner: string | null;
}

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

const MAX_ENTRIES = 15; // 2 blocks each + header/context stays under Slack's 50
const SECTION_LIMIT = 3000;

/** `arn:aws:iam::111122223333:role/ops/deployer` -> `role/ops/deployer (111122223333)`. */
export function shortPrincipal(arn: string | null): string {
  if (!arn) return "unknown principal";
  const m = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):(.+)$/.exec(arn);
  return m ? `${m[2]} (${m[1]})` : arn;
}

function ownerText(owner: string | null): string {
  if (!owner) return "";
  return /^[UW][A-Z0-9]{8,12}$/.test(owner) ? ` · owner <@${owner}>` : ` · owner ${escape(owner)}`;
}

/** Slack mrkdwn needs &, < and > escaped in user-controlled text. */
export function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function clip(text: string, limit = SECTION_LIMIT): string {
  return text.length <= limit ? text : text.slice(0, limit - 20) + "\n…(truncated)";
}

function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `<!date^${Math.floor(t / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/** Where a suggested Allow goes: the permission set for Identity Center roles, else the principal's own policy. */
export function fixWhere(f: Pick<StoredFinding, "permissionSet">): string {
  return f.permissionSet
    ? `add to permission set ${escape(f.permissionSet)} in IAM Identity Center, which owns this role`
    : "add to the principal's identity-based policy";
}

function entryBlocks(e: DigestEntry): Record<string, unknown>[] {
  const f = e.finding;
  const what = `\`${escape(f.action ?? "unmapped action")}\` on \`${escape(f.resource ?? "*")}\``;
  const seen = `${e.count}× since ${when(e.firstSeen)}`;
  const session = f.sessionName ? ` (session ${escape(f.sessionName)})` : "";
  const head = `*${escape(shortPrincipal(f.principalArn))}*${session}${ownerText(e.owner)}\nwas denied ${what} in account ${f.accountId ?? "?"} · ${seen}`;
  // Issue 18: a sensitive action is never a plain fix; the warning sits with the fix (or the reason there is none).
  const review = f.sensitive ? `\n:warning: *Review before granting*: \`${escape(f.action ?? "")}\` is sensitive (${escape(f.sensitive.level)}): ${escape(f.sensitive.reason)}` : "";
  if (f.suggestion) {
    return [
      { type: "section", text: { type: "mrkdwn", text: clip(`${head}${review}\n*Suggested fix* (${fixWhere(f)}):`) } },
      { type: "section", text: { type: "mrkdwn", text: clip("```" + compactPolicy(f.suggestion as Parameters<typeof compactPolicy>[0]) + "```") } },
    ];
  }
  const cause = f.cause.replace(/-/g, " ");
  const why = f.whyNot ?? `caused by a ${cause}: an Allow on the role will not fix it`;
  return [{ type: "section", text: { type: "mrkdwn", text: clip(`${head}\n:no_entry: ${escape(why)}${review}`) } }];
}

/** Build the digest for the entries that need a notice (new, or suggestion changed). */
export function buildDenyDigest(entries: DigestEntry[]): SlackMessage {
  const fixable = entries.filter((e) => e.finding.suggestion);
  const other = entries.filter((e) => !e.finding.suggestion);
  const ordered = [...fixable, ...other];
  const shown = ordered.slice(0, MAX_ENTRIES);
  const title = `Access denied: ${fixable.length} with a suggested fix, ${other.length} an Allow cannot fix`;
  const blocks: Record<string, unknown>[] = [{ type: "header", text: { type: "plain_text", text: title.slice(0, 150) } }];
  shown.forEach((e, i) => {
    if (i > 0) blocks.push({ type: "divider" });
    blocks.push(...entryBlocks(e));
  });
  const more = ordered.length - shown.length;
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `${more > 0 ? `…and ${more} more (see the findings table). ` : ""}trailwatch deny advisor · one notice per principal, action and resource until its suggestion changes`,
      },
    ],
  });
  return { text: title, blocks };
}
