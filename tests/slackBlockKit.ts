/**
 * A Slack Web API stub that refuses what Slack refuses, and the checks a security channel needs on what was posted.
 * Limits (checked 2026-12): https://api.slack.com/reference/block-kit/blocks (50 blocks; section text 3,000, fields
 * 10 x 2,000; header 150 plain_text; context 10 elements; actions 25 elements; block_id 255),
 * https://api.slack.com/reference/block-kit/block-elements#button (text 75, value 2,000, url 3,000, action_id 255),
 * https://api.slack.com/reference/block-kit/composition-objects#confirm (title 100, text 300, buttons 30), text
 * objects at least 1 character; top-level `text` past 40,000 characters: msg_too_long
 * (https://api.slack.com/changelog/2018-04-truncating-really-long-messages). Slack answers HTTP 200 with
 * `{"ok": false, "error": "invalid_blocks", "errors": ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]}`.
 * Message metadata (the Slack outbox puts the notice id there): `{event_type, event_payload}`, event_type of letters,
 * numbers, underscores and hyphens (anything else: an `invalid_metadata_schema` warning and the metadata is dropped,
 * the message still posted), event_payload a JSON object (https://docs.slack.dev/messaging/message-metadata); a
 * metadata argument that is not such an object is refused with `invalid_metadata_format`
 * (https://api.slack.com/methods/chat.postMessage#errors). Posted messages keep their metadata for
 * conversations.history / conversations.replies with include_all_metadata, as the outbox's uncertain-retry search reads them.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { slackRequest } from "./localServices";

export interface RecordedCall {
  method: string;
  token: string | undefined;
  args: Record<string, any>;
  /** What Slack would have answered: null for ok, else the error code. */
  error: string | null;
  errors: string[];
  /** Warnings Slack would have answered with an accepted call (e.g. `invalid_metadata_schema`: metadata dropped). */
  warnings: string[];
  /** The ts Slack answered for an accepted post or update. */
  ts?: string;
}

/** What Slack makes of a message's `metadata` argument: an error (refused), a warning (dropped) or kept. */
export function metadataVerdict(metadata: unknown): { error?: string; warning?: string; kept?: { event_type: string; event_payload: Record<string, unknown> } } {
  if (metadata === undefined) return {};
  const m = metadata as { event_type?: unknown; event_payload?: unknown };
  if (!m || typeof m !== "object" || Array.isArray(m) || typeof m.event_type !== "string" || !m.event_payload || typeof m.event_payload !== "object" || Array.isArray(m.event_payload)) {
    return { error: "invalid_metadata_format" };
  }
  if (!/^[A-Za-z0-9_-]+$/.test(m.event_type)) return { warning: "invalid_metadata_schema" };
  return { kept: { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> } };
}

type Path = string;

function textObject(o: any, path: Path, max: number, errs: string[], opts: { plainOnly?: boolean } = {}) {
  if (!o || typeof o !== "object") return void errs.push(`missing text object [json-pointer:${path}]`);
  if (o.type !== "plain_text" && o.type !== "mrkdwn") errs.push(`invalid text type ${o.type} [json-pointer:${path}/type]`);
  if (opts.plainOnly && o.type !== "plain_text") errs.push(`must be plain_text [json-pointer:${path}/type]`);
  if (typeof o.text !== "string" || o.text.length < 1) errs.push(`must be more than 0 characters [json-pointer:${path}/text]`);
  else if (o.text.length > max) errs.push(`must be less than ${max + 1} characters [json-pointer:${path}/text]`);
}

/** Every reason Slack would refuse these blocks (empty: accepted). */
export function blockKitErrors(blocks: unknown): string[] {
  const errs: string[] = [];
  if (blocks === undefined) return errs;
  if (!Array.isArray(blocks)) return ["blocks must be an array [json-pointer:/blocks]"];
  if (blocks.length > 50) errs.push("no more than 50 items allowed [json-pointer:/blocks]");
  blocks.forEach((b: any, i) => {
    const p = `/blocks/${i}`;
    if (typeof b?.block_id === "string" && b.block_id.length > 255) errs.push(`must be less than 256 characters [json-pointer:${p}/block_id]`);
    switch (b?.type) {
      case "header":
        textObject(b.text, `${p}/text`, 150, errs, { plainOnly: true });
        break;
      case "section":
        if (!b.text && !b.fields) errs.push(`must provide text or fields [json-pointer:${p}]`);
        if (b.text) textObject(b.text, `${p}/text`, 3000, errs);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length < 1) errs.push(`fields must be a non-empty array [json-pointer:${p}/fields]`);
          else {
            if (b.fields.length > 10) errs.push(`no more than 10 items allowed [json-pointer:${p}/fields]`);
            b.fields.forEach((f: any, j: number) => textObject(f, `${p}/fields/${j}`, 2000, errs));
          }
        }
        break;
      case "context":
        if (!Array.isArray(b.elements) || b.elements.length < 1) errs.push(`elements must be a non-empty array [json-pointer:${p}/elements]`);
        else {
          if (b.elements.length > 10) errs.push(`no more than 10 items allowed [json-pointer:${p}/elements]`);
          b.elements.forEach((e: any, j: number) => (e?.type === "image" ? undefined : textObject(e, `${p}/elements/${j}`, 3000, errs)));
        }
        break;
      case "actions":
        if (!Array.isArray(b.elements) || b.elements.length < 1) errs.push(`elements must be a non-empty array [json-pointer:${p}/elements]`);
        else {
          if (b.elements.length > 25) errs.push(`no more than 25 items allowed [json-pointer:${p}/elements]`);
          b.elements.forEach((e: any, j: number) => {
            const q = `${p}/elements/${j}`;
            if (e?.type !== "button") return;
            textObject(e.text, `${q}/text`, 75, errs, { plainOnly: true });
            if (typeof e.value === "string" && e.value.length > 2000) errs.push(`must be less than 2001 characters [json-pointer:${q}/value]`);
            if (typeof e.url === "string" && e.url.length > 3000) errs.push(`must be less than 3001 characters [json-pointer:${q}/url]`);
            if (typeof e.action_id === "string" && e.action_id.length > 255) errs.push(`must be less than 256 characters [json-pointer:${q}/action_id]`);
            if (e.confirm) {
              textObject(e.confirm.title, `${q}/confirm/title`, 100, errs, { plainOnly: true });
              textObject(e.confirm.text, `${q}/confirm/text`, 300, errs);
              textObject(e.confirm.confirm, `${q}/confirm/confirm`, 30, errs, { plainOnly: true });
              textObject(e.confirm.deny, `${q}/confirm/deny`, 30, errs, { plainOnly: true });
            }
          });
        }
        break;
      case "divider":
        break;
      default:
        errs.push(`unsupported block type ${b?.type} [json-pointer:${p}/type]`);
    }
  });
  return errs;
}

/** Every mrkdwn string a message shows, with where it is (the top-level text is mrkdwn too). */
export function mrkdwnStrings(args: { text?: unknown; blocks?: unknown }): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  if (typeof args.text === "string") out.push({ where: "/text", text: args.text });
  const visit = (o: any, path: string) => {
    if (!o || typeof o !== "object") return;
    if (Array.isArray(o)) return o.forEach((x, i) => visit(x, `${path}/${i}`));
    if (o.type === "mrkdwn" && typeof o.text === "string") out.push({ where: path, text: o.text });
    for (const [k, v] of Object.entries(o)) if (typeof v === "object") visit(v, `${path}/${k}`);
  };
  visit(args.blocks, "/blocks");
  return out;
}

/** Every string a message shows (plain_text included). */
export function allStrings(args: { text?: unknown; blocks?: unknown }): string[] {
  const out: string[] = [];
  if (typeof args.text === "string") out.push(args.text);
  const visit = (o: any) => {
    if (!o || typeof o !== "object") return;
    if (Array.isArray(o)) return o.forEach(visit);
    if (typeof o.text === "string") out.push(o.text);
    for (const v of Object.values(o)) if (typeof v === "object") visit(v);
  };
  visit(args.blocks);
  return out;
}

/**
 * Live markup that did not come from our code or config: every `<…>` in mrkdwn must be a date (`<!date^…>`), a mention
 * of a user the test allows, or a link to an AWS console host. `<!channel>`, `<!here>`, `<!everyone>`,
 * `<!subteam^…>`, `<@U…>` of anyone else and `<https://evil.example|approve>` are violations.
 */
export function untrustedMarkup(args: { text?: unknown; blocks?: unknown }, allowedUsers: string[]): string[] {
  const bad: string[] = [];
  for (const { where, text } of mrkdwnStrings(args)) {
    for (const m of text.matchAll(/<([^>]*)>?/g)) {
      const inner = m[1];
      const ok =
        /^!date\^\d+\^[^|]*\|[0-9T:Z-]+$/.test(inner) ||
        (/^@[UW][A-Z0-9]+$/.test(inner) && allowedUsers.includes(inner.slice(1))) ||
        /^https:\/\/([a-z0-9-]+\.)?console\.aws\.amazon\.com\/[^|<>\s]*\|[^<>|]*$/.test(inner);
      if (!ok) bad.push(`${where}: ${m[0].slice(0, 120)}`);
    }
  }
  return bad;
}

/** Text that went through JavaScript's global escape() (`%20`, `%3A`, `%28`...), outside link URLs. */
export function percentEncoded(args: { text?: unknown; blocks?: unknown }): string[] {
  return allStrings(args)
    .map((t) => t.replace(/<https:[^|>]*\|/g, "<"))
    .filter((t) => /%(2[0-9A-F]|3[A-F]|5[BDE]|7[B-E])/.test(t))
    .map((t) => t.slice(0, 160));
}

/** Bidi controls or zero-width characters shown to the reader. */
export function hiddenCharacters(args: { text?: unknown; blocks?: unknown }): string[] {
  return allStrings(args).filter((t) => /[\u202A-\u202E\u2066-\u2069\u200B-\u200F\u2060\uFEFF\u061C]/.test(t)).map((t) => t.slice(0, 160));
}

const POSTING = new Set(["chat.postMessage", "chat.update", "chat.postEphemeral"]);

/** The Slack Web API on 127.0.0.1 enforcing Block Kit limits: refused calls answer ok:false as Slack does. */
export async function startBlockKitSlackStub(opts: { lookupByEmail?: Record<string, string> } = {}): Promise<{ url: string; apiUrl: string; calls: RecordedCall[]; close(): Promise<void> }> {
  const calls: RecordedCall[] = [];
  /** Accepted posts, as conversations.history / replies return them. */
  const messages: { channel: string; ts: string; thread_ts?: string; text?: string; metadata?: { event_type: string; event_payload: Record<string, unknown> } }[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { method, args } = slackRequest(req, body);
      let error: string | null = null;
      let errors: string[] = [];
      const warnings: string[] = [];
      let metadata: ReturnType<typeof metadataVerdict> = {};
      if (POSTING.has(method)) {
        errors = blockKitErrors(args.blocks);
        metadata = method === "chat.postEphemeral" ? {} : metadataVerdict(args.metadata);
        if (typeof args.text === "string" && args.text.length > 40_000) error = "msg_too_long";
        else if (errors.length) error = "invalid_blocks";
        else if ((typeof args.text !== "string" || args.text.length === 0) && !args.blocks) error = "no_text";
        else if (metadata.error) error = metadata.error;
        if (metadata.warning) warnings.push(metadata.warning);
      }
      const call: RecordedCall = { method, token: req.headers.authorization?.replace(/^Bearer /, ""), args, error, errors, warnings };
      calls.push(call);
      res.setHeader("content-type", "application/json");
      if (error) return void res.end(JSON.stringify({ ok: false, error, errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } }));
      if (method === "users.lookupByEmail") {
        const id = opts.lookupByEmail?.[args.email];
        return void res.end(JSON.stringify(id ? { ok: true, user: { id } } : { ok: false, error: "users_not_found" }));
      }
      if (method === "usergroups.users.list") return void res.end(JSON.stringify({ ok: true, users: [] }));
      // As Slack answers for a bot token (the Slack app's container asks once): https://api.slack.com/methods/auth.test
      if (method === "auth.test") return void res.end(JSON.stringify({ ok: true, url: "https://example.slack.com/", team: "example", user: "trailwatch", team_id: "T0123TEAM", user_id: "U0TRAILBOT", bot_id: "B0TRAILBOT" }));
      if (method === "conversations.history" || method === "conversations.replies") {
        const oldest = Number(args.oldest ?? 0);
        const withMeta = String(args.include_all_metadata) === "true";
        const list = messages.filter((m) => m.channel === args.channel && Number(m.ts) >= oldest && (method === "conversations.history" ? !m.thread_ts : m.thread_ts === args.ts));
        return void res.end(JSON.stringify({ ok: true, messages: list.map((m) => ({ type: "message", ts: m.ts, text: m.text, ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) })) }));
      }
      n += 1;
      const ts = method === "chat.update" && args.ts ? String(args.ts) : `1700000100.${String(n).padStart(6, "0")}`;
      if (POSTING.has(method)) call.ts = ts;
      if (method === "chat.postMessage") messages.push({ channel: args.channel, ts, thread_ts: args.thread_ts, text: args.text, metadata: metadata.kept });
      res.end(JSON.stringify({ ok: true, channel: args.channel, ts, ...(warnings.length ? { warning: warnings.join(","), response_metadata: { warnings } } : {}) }));
    });
  });
  const url = await new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  return { url, apiUrl: `${url}/api/`, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}
