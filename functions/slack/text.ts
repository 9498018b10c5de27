/**
 * The one Slack text layer every message builder uses. Attackers control most of what we show (role paths and session
 * names, resource ids, tags, error messages, GuardDuty titles, Config annotations), so:
 * - every interpolated value goes through `mrkdwnText` / `codeSpan` / `codeBlock` / `plainText`: `&`, `<` and `>`
 *   are escaped (the only characters Slack's mrkdwn treats as control characters: `<!channel>`, `<@U…>`,
 *   `<https://…|label>` are live only when written with `<`), https://api.slack.com/reference/surfaces/formatting#escaping
 * - bidi controls (which reorder what a reader sees) become a visible `�`, zero-width characters are removed;
 * - single-line fields lose their newlines;
 * - every text is cut to its Block Kit limit, at a character boundary (never inside `&amp;` or a surrogate pair), and
 *   lists end with "… and N more" instead of being cut mid-line;
 * - `fitMessage` is the last net: whatever a builder produced, the message it returns is within Slack's limits
 *   (Slack answers `invalid_blocks` otherwise, and the notice is lost).
 * Mentions and links are made only here, from trusted inputs: `userMention` accepts only a Slack user id, `link` only
 * an https URL the caller built (its parts encoded), `slackDate` only a parsed time.
 *
 * No function here is named like a JavaScript global (`escape`, `name`, `status`...): Pulumi's closure serializer does
 * not capture such a function and the Lambda archive silently calls the global instead (TOOLCHAIN.md).
 */

/**
 * Block Kit and chat.postMessage limits (checked 2026-12):
 * https://api.slack.com/reference/block-kit/blocks (50 blocks per message; section text 3,000, fields 10 of 2,000 each;
 * header plain_text 150; context 10 elements; actions 25 elements; block_id 255),
 * https://api.slack.com/reference/block-kit/block-elements#button (text 75, value 2,000, url 3,000),
 * https://api.slack.com/reference/block-kit/composition-objects#confirm (title 100, text 300, buttons 30),
 * https://api.slack.com/changelog/2018-04-truncating-really-long-messages (top-level `text`: truncated past 40,000;
 * Slack asks for less, and splits long texts into several messages, so we keep it to a notification's length).
 */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  field: 2000,
  fields: 10,
  header: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  blockId: 255,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Our own bound for the top-level `text` (the notification and fallback): well under Slack's 4,000 / 40,000. */
  messageText: 3000,
} as const;

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

const ELLIPSIS = "…";

/**
 * Characters a reader cannot see but that change what they read: bidi embeddings, overrides and isolates (U+202A-E,
 * U+2066-9), marks (U+200E/F, U+061C) become `�`; zero-width spaces and joiners, word joiner, BOM, soft hyphen and
 * the Mongolian vowel separator are removed; other control characters become a space (newlines survive here and are
 * removed by `singleLine`).
 */
export function neutralizeText(value: unknown): string {
  const s = value === null || value === undefined ? "" : String(value);
  return s
    .replace(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g, "\uFFFD")
    .replace(/[\u200B-\u200D\u2060-\u2064\uFEFF\u00AD\u180E]/g, "")
    .replace(/\r\n?|[\u2028\u2029]/g, "\n")
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, " ");
}

/** One line: newlines and tabs become spaces, runs of spaces one. */
export function singleLine(value: unknown): string {
  return neutralizeText(value).replace(/[\n\t]+/g, " ").replace(/ {2,}/g, " ").trim();
}

/** `&`, `<`, `>` as Slack wants them in mrkdwn and in the top-level `text`. Assumes neutralised input. */
function escapeControl(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Escape each code point of `raw` and stop before `max` characters, ending with `…` when something was left out: the
 * cut never splits an entity or a surrogate pair.
 */
function escapeWithin(raw: string, max: number, escapeOne: (ch: string) => string): string {
  let out = "";
  const chars = Array.from(raw);
  for (let i = 0; i < chars.length; i++) {
    const piece = escapeOne(chars[i]);
    const rest = i === chars.length - 1 ? 0 : ELLIPSIS.length;
    if (out.length + piece.length + rest > max) return out + ELLIPSIS;
    out += piece;
  }
  return out;
}

/**
 * A value as mrkdwn text: neutralised, escaped, on one line unless `multiline`, at most `max` characters (default:
 * a section's 3,000).
 */
export function mrkdwnText(value: unknown, max: number = SLACK_LIMITS.sectionText, opts: { multiline?: boolean } = {}): string {
  const raw = opts.multiline ? neutralizeText(value) : singleLine(value);
  const escaped = escapeControl(raw);
  return escaped.length <= max ? escaped : escapeWithin(raw, max, escapeControl);
}

/** A value in an inline code span: backticks inside would end the span, so they become `ˋ`. */
export function codeSpan(value: unknown, max = 500): string {
  const raw = singleLine(value).replace(/`/g, "\u02CB");
  return "`" + mrkdwnText(raw, Math.max(1, max - 2)) + "`";
}

/** A multi-line value in a code block (``` ... ```); a ``` inside would end it early. */
export function codeBlock(value: unknown, max: number = SLACK_LIMITS.sectionText): string {
  const raw = neutralizeText(value).replace(/```/g, "\u02CB\u02CB\u02CB");
  return "```" + mrkdwnText(raw, Math.max(1, max - 6), { multiline: true }) + "```";
}

/** Text for a plain_text object (no markup at all, so no escaping), one line, at most `max`. */
export function plainText(value: unknown, max: number): string {
  const raw = singleLine(value);
  return raw.length <= max ? raw : escapeWithin(raw, max, (c) => c);
}

/** Cut already-formatted mrkdwn at a line boundary where possible, never inside an entity or a `<…>` we made. */
export function cutMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  // Room for the ellipsis and a closing code fence.
  let cut = text.slice(0, max - ELLIPSIS.length - 3);
  const nl = cut.lastIndexOf("\n");
  if (nl > max * 0.6) cut = cut.slice(0, nl);
  // An entity (`&amp;`) or a link/date/mention (`<…>`) cut in half would show garbage or leave a live `<`.
  const amp = cut.lastIndexOf("&");
  if (amp >= 0 && cut.indexOf(";", amp) < 0) cut = cut.slice(0, amp);
  const lt = cut.lastIndexOf("<");
  if (lt >= 0 && cut.indexOf(">", lt) < 0) cut = cut.slice(0, lt);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  // An unclosed code fence would swallow the ellipsis line.
  if ((cut.match(/```/g) ?? []).length % 2 === 1) cut += "```";
  return cut + ELLIPSIS;
}

/**
 * Lines (already mrkdwn) joined with newlines within `max`, whole lines only; what does not fit is counted in a last
 * line, `… and N more` by default. Each line is cut to `max` first, so one long line cannot hide the others.
 */
export function linesWithin(lines: string[], max: number, more: (n: number) => string = (n) => `${ELLIPSIS} and ${n} more`): { text: string; shown: number } {
  let text = "";
  for (let i = 0; i < lines.length; i++) {
    const line = cutMrkdwn(lines[i], Math.min(max, 1000));
    const left = lines.length - i - 1;
    const reserve = left > 0 ? 1 + more(left).length : 0;
    const next = text ? `${text}\n${line}` : line;
    if (next.length + reserve > max) {
      const tail = more(lines.length - i);
      return { text: text ? `${text}\n${tail}` : tail, shown: i };
    }
    text = next;
  }
  return { text, shown: lines.length };
}

/** A Slack user mention, only for a well-formed user id (never a name someone typed); otherwise the text, escaped. */
export function userMention(id: unknown): string {
  const s = typeof id === "string" ? id : "";
  return /^[UW][A-Z0-9]{2,20}$/.test(s) ? `<@${s}>` : mrkdwnText(s || "unknown", 200);
}

/** A user-group mention (`<!subteam^S…>`), only for a well-formed group id. */
export function userGroupMention(id: unknown): string {
  const s = typeof id === "string" ? id : "";
  return /^S[A-Z0-9]{2,20}$/.test(s) ? `<!subteam^${s}>` : mrkdwnText(s || "unknown", 200);
}

/**
 * A link to an https URL our code built (its attacker-controlled parts passed through encodeURIComponent): `|` and
 * `>` would end the URL early, so anything outside a URL's characters refuses the link and shows the label alone.
 */
export function link(url: string, label: unknown): string {
  const text = mrkdwnText(label, 300);
  if (!/^https:\/\/[A-Za-z0-9.-]+(?:\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/?#[\]]*)?$/.test(url) || url.length > 2000 || /[|<>]/.test(url)) return text;
  return `<${url.replace(/&/g, "&amp;")}|${text}>`;
}

/**
 * A time as Slack's date formatting (each reader's own time zone), falling back to the UTC time. Only a parseable
 * time becomes markup. https://api.slack.com/reference/surfaces/formatting#date-formatting
 */
export function slackDate(iso: unknown, format = "{date_short_pretty} {time}"): string {
  const t = typeof iso === "string" || typeof iso === "number" ? new Date(iso).getTime() : NaN;
  if (!Number.isFinite(t)) return "time unknown";
  const utc = new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
  return `<!date^${Math.floor(t / 1000)}^${format}|${utc}>`;
}

type Block = Record<string, any>;

/** Cut a text object to `max` by its type (plain_text has no markup to protect). */
function fitTextObject(o: any, max: number): any {
  if (!o || typeof o !== "object" || typeof o.text !== "string") return o;
  if (o.type === "plain_text") return { ...o, text: plainText(o.text, max) || " " };
  return { ...o, text: cutMrkdwn(o.text, max) };
}

function fitElement(e: any): any {
  if (!e || typeof e !== "object") return e;
  const out = { ...e };
  if (out.type === "button") {
    out.text = fitTextObject(out.text, SLACK_LIMITS.buttonText);
    // A value cut short would act on something else: such a button is left out (builders keep values short).
    if (typeof out.value === "string" && out.value.length > SLACK_LIMITS.buttonValue) return null;
    if (typeof out.url === "string" && out.url.length > SLACK_LIMITS.buttonUrl) delete out.url;
    if (out.confirm) {
      out.confirm = {
        ...out.confirm,
        title: fitTextObject(out.confirm.title, SLACK_LIMITS.confirmTitle),
        text: fitTextObject(out.confirm.text, SLACK_LIMITS.confirmText),
        confirm: fitTextObject(out.confirm.confirm, SLACK_LIMITS.confirmButton),
        deny: fitTextObject(out.confirm.deny, SLACK_LIMITS.confirmButton),
      };
    }
  }
  return out;
}

function fitBlock(b: Block): Block {
  const out: Block = { ...b };
  if (typeof out.block_id === "string" && out.block_id.length > SLACK_LIMITS.blockId) out.block_id = out.block_id.slice(0, SLACK_LIMITS.blockId);
  switch (out.type) {
    case "header":
      out.text = fitTextObject({ ...out.text, type: "plain_text" }, SLACK_LIMITS.header);
      break;
    case "section":
      if (out.text) out.text = fitTextObject(out.text, SLACK_LIMITS.sectionText);
      if (Array.isArray(out.fields)) {
        const fields = out.fields.map((f: any) => fitTextObject(f, SLACK_LIMITS.field));
        if (fields.length > SLACK_LIMITS.fields) {
          const extra = fields.length - SLACK_LIMITS.fields + 1;
          out.fields = [...fields.slice(0, SLACK_LIMITS.fields - 1), { type: "mrkdwn", text: `${ELLIPSIS} and ${extra} more` }];
        } else out.fields = fields;
      }
      break;
    case "context":
      if (Array.isArray(out.elements)) {
        const els = out.elements.map((e: any) => fitTextObject(e, SLACK_LIMITS.contextText));
        out.elements = els.length > SLACK_LIMITS.contextElements ? [...els.slice(0, SLACK_LIMITS.contextElements - 1), { type: "mrkdwn", text: `${ELLIPSIS} and ${els.length - SLACK_LIMITS.contextElements + 1} more` }] : els;
      }
      break;
    case "actions":
      if (Array.isArray(out.elements)) out.elements = out.elements.slice(0, SLACK_LIMITS.actionsElements).map(fitElement).filter((e: unknown) => e !== null);
      break;
  }
  return out;
}

/**
 * The last net under every builder: a message within Slack's limits whatever went into it. More than 50 blocks keep
 * the first 49 and say how many were left out (the last block, often the buttons, is kept); a text over its limit is
 * cut with `…`; the top-level text stays one notification long.
 */
export function fitMessage<M extends { text: string; blocks: object[] }>(m: M): M {
  let blocks = (m.blocks as Block[]).map(fitBlock).filter((b) => b.type !== "actions" || (Array.isArray(b.elements) && b.elements.length > 0));
  if (blocks.length > SLACK_LIMITS.blocks) {
    const last = blocks[blocks.length - 1];
    const keepLast = last.type === "actions";
    const head = blocks.slice(0, SLACK_LIMITS.blocks - (keepLast ? 2 : 1));
    const left = blocks.length - head.length - (keepLast ? 1 : 0);
    blocks = [...head, { type: "context", elements: [{ type: "mrkdwn", text: `${ELLIPSIS} and ${left} more not shown` }] }, ...(keepLast ? [last] : [])];
  }
  return { ...m, text: cutMrkdwn(m.text, SLACK_LIMITS.messageText), blocks };
}

/** `a, b, c … and 2 more` for short inline lists of already-formatted items. */
export function inlineList(items: string[], maxItems: number, sep = ", "): string {
  const shown = items.slice(0, maxItems).join(sep);
  return items.length > maxItems ? `${shown} ${ELLIPSIS} and ${items.length - maxItems} more` : shown;
}

/**
 * `prod-payments (111122223333)` from a name map, else the id; escaped. The name is config or Organizations data, the
 * id twelve digits: still escaped, as a name may hold anything.
 */
export function accountLabel(accountId: string | null | undefined, names: Record<string, string> = {}): string {
  if (!accountId) return "unknown account";
  const id = mrkdwnText(accountId, 40);
  const n = Object.prototype.hasOwnProperty.call(names, accountId) ? names[accountId] : undefined;
  return n ? `${mrkdwnText(n, 80)} (${id})` : id;
}

/**
 * Who, short enough to read at a glance and bounded: `role/ops/deployer` for an IAM role (a long path keeps its first
 * and last parts: `role/a/b/…/deployer`), the session name alongside for an assumed role. Raw text (not escaped).
 */
export function principalShort(arn: string | null | undefined, max = 120): string {
  if (!arn) return "unknown principal";
  const m = /^arn:aws[a-z-]*:(?:iam|sts)::\d{12}:(.+)$/s.exec(arn);
  let rest = m ? m[1] : arn;
  const assumed = /^assumed-role\/(.+)$/s.exec(rest);
  if (assumed) rest = `role/${assumed[1]}`;
  if (rest.length <= max) return rest;
  const parts = rest.split("/");
  const last = parts[parts.length - 1].slice(-Math.floor(max / 2));
  const first = parts[0];
  const keep = `${first}/${parts.slice(1, -1).join("/")}`.slice(0, Math.max(10, max - last.length - 3));
  return `${keep}/…/${last}`.slice(0, max + 2);
}
