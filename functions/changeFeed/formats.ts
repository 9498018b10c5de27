/**
 * Change records as the places a team watches changes want them: PagerDuty and FireHydrant change events, a generic
 * webhook, a one-line summary, and a Slack Block Kit digest. Pure builders: the caller POSTs them.
 */
import type { ChangeRecord } from "./normalize";
import { accountLabel, codeSpan, cutMrkdwn, fitMessage, link, mrkdwnText, plainText, slackDate, SLACK_LIMITS } from "../slack/text";

/** A short name for who made the change: `deployer/alice` for an assumed role's session, the SSO user, or the user. */
export function whoOf(change: ChangeRecord): string {
  const { principal, sessionName, type } = change.who;
  const short = principal ? principal.split(/[:/]/).pop() || principal : null;
  if (type === "AssumedRole" && sessionName) return short && !short.startsWith("AWSReservedSSO_") ? `${short}/${sessionName}` : sessionName;
  return short ?? "unknown";
}

function how(change: ChangeRecord): string {
  const { via, tool } = change.who;
  return tool && via !== "cli" ? `${via}, ${tool}` : via;
}

/** The first resource's id (`security-group/sg-0abc` -> `sg-0abc`), with a count of the others. */
function target(change: ChangeRecord): string {
  const [first, ...rest] = change.what.resources;
  if (!first) return "";
  const id = first.split(":").slice(5).join(":").split("/").pop() || first;
  return ` ${id}${rest.length ? ` (+${rest.length} more)` : ""}`;
}

/** e.g. `prod 111122223333 eu-west-1: alice (console) ec2 AuthorizeSecurityGroupIngress sg-0abc failed: UnauthorizedOperation` */
export function summarize(change: ChangeRecord): string {
  const w = change.where;
  const failed = change.result.ok ? "" : ` failed: ${change.result.errorCode ?? "error"}`;
  return `${w.environment} ${w.account ?? "?"} ${w.region ?? "?"}: ${whoOf(change)} (${how(change)}) ${change.what.service} ${change.what.eventName}${target(change)}${failed}`;
}

const clip = (text: string, limit: number): string => (text.length <= limit ? text : text.slice(0, limit - 1) + "…");

function details(change: ChangeRecord): Record<string, string | string[] | boolean | null> {
  return {
    environment: change.where.environment, account: change.where.account, region: change.where.region, owner: change.where.owner,
    principal: change.who.principal, session_name: change.who.sessionName, via: change.who.via, tool: change.who.tool,
    source_ip: change.who.sourceIp, user_agent: change.who.userAgent, service: change.what.service, event_name: change.what.eventName,
    resources: change.what.resources, ok: change.result.ok, error_code: change.result.errorCode, error_message: change.result.errorMessage,
    event_id: change.eventId,
  };
}

/**
 * PagerDuty Events API v2 change event, for POST https://events.pagerduty.com/v2/change/enqueue.
 * https://developer.pagerduty.com/docs/send-change-event : routing_key and payload.summary (at most 1024 characters)
 * are required; timestamp (ISO-8601), source, custom_details and links ({href, text}) are optional.
 */
export function pagerDutyChangeEvent(change: ChangeRecord, routingKey: string) {
  return {
    routing_key: routingKey,
    payload: {
      summary: clip(summarize(change), 1024),
      ...(change.time ? { timestamp: change.time } : {}),
      source: `aws:${change.where.account ?? "unknown"}:${change.where.region ?? "unknown"}`,
      custom_details: details(change),
    },
    links: [{ href: change.consoleLink, text: "CloudTrail event" }],
  };
}

/**
 * FireHydrant change event, for POST https://api.firehydrant.io/v1/changes/events.
 * https://docs.firehydrant.com/docs/change-events and the API's CreateChangeEvent model: summary is required;
 * description, labels (string values), starts_at / ends_at (date-time), environments and services (FireHydrant
 * ids), external_id and attachments (`type: "link"`) are optional. The environment name goes in the labels; pass
 * `environmentIds` (name -> FireHydrant environment id) to attach the change to the environment itself.
 */
export function fireHydrantChangeEvent(change: ChangeRecord, opts: { environmentIds?: Record<string, string>; serviceIds?: string[] } = {}) {
  const labels: Record<string, string> = { source: "trailwatch", result: change.result.ok ? "ok" : `failed: ${change.result.errorCode ?? "error"}` };
  for (const [k, v] of Object.entries(details(change))) if (typeof v === "string" && k !== "error_message" && k !== "user_agent") labels[k] = v;
  const envId = opts.environmentIds && Object.prototype.hasOwnProperty.call(opts.environmentIds, change.where.environment) ? opts.environmentIds[change.where.environment] : undefined;
  const lines = [
    `${whoOf(change)} changed ${change.what.service} with ${change.what.eventName} (${how(change)}).`,
    change.what.resources.length ? `Resources: ${change.what.resources.join(", ")}` : "",
    change.result.ok ? "" : `Failed: ${change.result.errorCode}${change.result.errorMessage ? ` - ${change.result.errorMessage}` : ""}`,
    `CloudTrail event: ${change.consoleLink}`,
  ];
  return {
    summary: summarize(change),
    description: lines.filter(Boolean).join("\n"),
    ...(change.time ? { starts_at: change.time } : {}),
    environments: envId ? [envId] : [],
    ...(opts.serviceIds?.length ? { services: opts.serviceIds } : {}),
    ...(change.eventId ? { external_id: change.eventId } : {}),
    labels,
    attachments: [{ type: "link", href_url: change.consoleLink, display_text: "CloudTrail event" }],
  };
}

/** The change record itself, versioned, for any webhook receiver. */
export function genericWebhook(change: ChangeRecord) {
  return { schema: "trailwatch.change/v1" as const, ...change };
}

// Block Kit limits: 50 blocks per message, 150 characters of header text, 3000 per section text; every value goes
// through the text layer (escaped, neutralised, cut). https://api.slack.com/reference/block-kit/blocks
const MAX_BLOCKS = 50;
const MAX_CHANGES = MAX_BLOCKS - 2; // the header and the closing context

function changeSection(c: ChangeRecord, accountNames: Record<string, string>): Record<string, unknown> {
  const failed = c.result.ok ? "" : `  :x: failed ${codeSpan(c.result.errorCode ?? "error", 120)}`;
  const owner = c.where.owner ? ` · owner ${mrkdwnText(c.where.owner, 120)}` : "";
  const res = c.what.resources.slice(0, 3).map((r) => codeSpan(r, 400)).join(", ");
  const more = c.what.resources.length > 3 ? ` … and ${c.what.resources.length - 3} more` : "";
  const text = [
    `*${mrkdwnText(whoOf(c), 200)}* (${mrkdwnText(how(c), 120)}) ${codeSpan(`${c.what.service}:${c.what.eventName}`, 200)}${failed}`,
    `${accountLabel(c.where.account, accountNames)} · ${mrkdwnText(c.where.region ?? "no region", 30)}${owner} · ${slackDate(c.time)} · ${link(c.consoleLink, "CloudTrail event")}`,
    res ? `${res}${more}` : "",
  ];
  return { type: "section", text: { type: "mrkdwn", text: cutMrkdwn(text.filter(Boolean).join("\n"), SLACK_LIMITS.sectionText) } };
}

/**
 * The environment's changes as one Slack message: a header, one section per change (oldest first, as given), and a
 * closing context line that says how many did not fit. `outsideIacOnly` keeps the changes no IaC tool made.
 */
export function slackDigest(
  changes: ChangeRecord[],
  environment: string,
  opts: { outsideIacOnly?: boolean; accountNames?: Record<string, string> } = {},
): { text: string; blocks: object[] } {
  const list = changes.filter((c) => c.where.environment === environment && (!opts.outsideIacOnly || c.who.via !== "iac"));
  const title = `${list.length} change${list.length === 1 ? "" : "s"} in ${environment}${opts.outsideIacOnly ? " made outside IaC" : ""}`;
  const shown = list.slice(0, MAX_CHANGES);
  const more = list.length - shown.length;
  const failed = list.filter((c) => !c.result.ok).length;
  const footer = `${more > 0 ? `… and ${more} more. ` : ""}${failed ? `${failed} failed. ` : ""}trailwatch change feed`;
  return fitMessage({
    text: mrkdwnText(title, 300),
    blocks: [
      { type: "header", text: { type: "plain_text", text: plainText(title, SLACK_LIMITS.header) } },
      ...shown.map((c) => changeSection(c, opts.accountNames ?? {})),
      { type: "context", elements: [{ type: "mrkdwn", text: footer }] },
    ],
  });
}
