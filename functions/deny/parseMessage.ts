/**
 * The access-denied message grammar, parsed piece by piece (not one greedy regex):
 *
 *   [prefix] "User" [": " <principal>] " is not authorized to perform" [":"] " " <action>
 *            [ " on resource: " <resource> | " on this resource" | " on the specified resource" ]
 *            [ " with an explicit deny" [" in a|an|the " <type>] [" transitively through a|an|the " <type>]
 *            | " because no " <type> " allows the " <action> " action" ]
 *            [ ": " <policy ARN> ] [ "." ] [ tails: "Encoded authorization failure message: …", an id … ]
 *
 * <resource> is an ARN, `*`, a quoted S3 ARN, or IAM's `role X` / `policy X` / `access key X`.
 * Forms: AWS's catalogue (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html,
 * copied in tests/fixtures/awsdocs-iam-user-guide), EC2's 2024 form with its encoded tail, and the
 * reason-less older form. SCP messages may say "explicit" even for an implicit SCP deny (same page, the note under
 * "Access denied due to a Service Control Policy"), so `explicit` is reported as the message states it.
 */

export type DenyCause =
  | "service-control-policy"
  | "resource-control-policy"
  | "permissions-boundary"
  | "identity-based-policy"
  | "resource-based-policy"
  | "session-policy"
  | "vpc-endpoint-policy"
  | "unknown";

export type MessageResource =
  | { kind: "arn"; value: string } // an ARN or `*`
  | { kind: "named"; type: "role" | "policy" | "user" | "group" | "access key"; name: string }
  | { kind: "unspecified"; text: string } // "on this resource", "on the specified resource"
  | { kind: "text"; value: string } // something else after "on resource:"
  | { kind: "url"; value: string }; // SQS names the queue by its URL

export interface ParsedDenyMessage {
  /** The message follows the authorization grammar ("... is not authorized to perform ..."). */
  authorization: boolean;
  principal: string | null;
  action: string | null;
  resource: MessageResource | null;
  /** true: "with an explicit deny", false: "because no ... allows", null: the message does not say. */
  explicit: boolean | null;
  /** The policy type as the message words it ("VPC endpoint policy", "sessions policy"). */
  policyTypeText: string | null;
  /** "... transitively through a service control policy": the policy that actually denied. */
  throughTypeText: string | null;
  cause: DenyCause;
  policyArn: string | null;
  authorizationId: string | null;
  encodedMessage: string | null;
  /**
   * The message is one of the forms that say only "denied" (AWS's generic texts, EC2's encoded form, SQS's URL
   * form): a policy decision whose cause the message does not give.
   */
  generic: boolean;
}

/** The cause a policy-type phrase names. Unrecognized phrases are "unknown", never guessed. */
export function causeOfPolicyType(text: string | null | undefined): DenyCause {
  const t = (text ?? "").toLowerCase();
  if (!t) return "unknown";
  if (/service control polic/.test(t)) return "service-control-policy";
  if (/resource control polic/.test(t)) return "resource-control-policy";
  if (/permissions? boundar/.test(t)) return "permissions-boundary";
  if (/vpc endpoint polic/.test(t)) return "vpc-endpoint-policy";
  if (/sessions? polic/.test(t)) return "session-policy";
  if (/identity[- ]based polic/.test(t)) return "identity-based-policy";
  // A role trust policy is the role's resource-based policy.
  if (/resource[- ]based polic|trust polic|bucket polic|key polic/.test(t)) return "resource-based-policy";
  return "unknown";
}

const EMPTY: ParsedDenyMessage = {
  authorization: false,
  principal: null,
  action: null,
  resource: null,
  explicit: null,
  policyTypeText: null,
  throughTypeText: null,
  cause: "unknown",
  policyArn: null,
  authorizationId: null,
  encodedMessage: null,
  generic: false,
};

const HEAD_TEXT = "is not authorized to perform";
const ACTION = /^([A-Za-z0-9-]+:[A-Za-z0-9*]+)/;
const ARN_TAIL = /^:\s*(arn:aws[a-z-]*:[^\s]+?)(?=[.,;]?(?:\s|$))/;
const ENCODED = /Encoded authorization failure message:\s*(\S+)/;
const AUTH_ID = /\b(?:authorization[- ]?details?[- ]?id|authorizationId|AuthorizationDetailsId)\s*[:=]?\s*([A-Za-z0-9_-]{6,})/i;
const NAMED = /^(role|policy|user|group|access key)\s+([^\s]+)/;
/** SQS (query and JSON protocols): "Access to the resource https://sqs.us-east-1.amazonaws.com/123456789012/q is denied." */
const SQS_DENIED = /Access to the resource (https?:\/\/\S+) is denied/;
/**
 * Messages that say nothing beyond "denied", once the tails (EC2's "Encoded authorization failure message: …") are
 * cut: still a policy decision, cause not given. EC2 before 2024, and where it still omits the principal, writes
 * "You are not authorized to perform this operation. Encoded authorization failure message: <blob>".
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 */
const GENERIC = /^(?:access denied|access is denied|you are not authorized to perform this (?:operation|action)|user is not authorized to perform this (?:operation|action)|not authorized|you do not have (?:sufficient )?(?:access|permissions?)(?: to (?:perform this (?:operation|action)|access this resource))?|)[.!]?$/i;

/** Strip one pair of surrounding quotes (S3 quotes the resource) and a trailing sentence period. */
function unquote(s: string): string {
  let v = s.replace(/[.,;]$/, "");
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) v = v.slice(1, -1);
  return v;
}

/** The "on …" part: returns the resource and the rest of the message after it. */
function readResource(rest: string): { resource: MessageResource | null; rest: string } {
  let m: RegExpExecArray | null;
  if ((m = /^\s*on (this resource|the specified resource)\b/.exec(rest))) return { resource: { kind: "unspecified", text: m[1] }, rest: rest.slice(m[0].length) };
  if (!(m = /^\s*on resource:?\s+/.exec(rest))) return { resource: null, rest };
  rest = rest.slice(m[0].length);
  if ((m = NAMED.exec(rest))) {
    const name = unquote(m[2]);
    return { resource: { kind: "named", type: m[1] as "role", name }, rest: rest.slice(m[0].length) };
  }
  // Quoted (S3): up to the closing quote, spaces allowed inside.
  if ((m = /^"([^"]*)"/.exec(rest))) return { resource: { kind: "arn", value: m[1] }, rest: rest.slice(m[0].length) };
  m = /^(\S+)/.exec(rest);
  if (!m) return { resource: null, rest };
  const value = unquote(m[1]);
  const resource: MessageResource = value === "*" || value.startsWith("arn:") ? { kind: "arn", value } : { kind: "text", value };
  return { resource, rest: rest.slice(m[0].length) };
}

/**
 * The reason part: explicit/implicit, the policy type, the policy type it came through, and what is left.
 * Written with indexOf and anchored patterns only: no lazy group meets another, so the time is linear in the length.
 */
function readReason(rest: string): Pick<ParsedDenyMessage, "explicit" | "policyTypeText" | "throughTypeText"> & { rest: string } {
  let m: RegExpExecArray | null;
  if ((m = /^\s*(?:with|due to) an explicit deny/i.exec(rest))) {
    const after = rest.slice(m[0].length);
    // The clause ends at the policy ARN (": arn:"), a sentence end, or the end of the message.
    const end = after.search(/:\s?arn:|\.\s|\.$/);
    const clause = end < 0 ? after : after.slice(0, end);
    let policyTypeText: string | null = null;
    let throughTypeText: string | null = null;
    const lower = clause.toLowerCase();
    const through = lower.indexOf(" transitively through ");
    const inPart = through < 0 ? clause : clause.slice(0, through);
    const ip = /^\s+in (?:a|an|the)\s+(.+)$/i.exec(inPart);
    if (ip) policyTypeText = ip[1].trim();
    if (through >= 0) {
      const tp = /^(?:a|an|the)\s+(.+)$/i.exec(clause.slice(through + " transitively through ".length));
      if (tp) throughTypeText = tp[1].trim();
    }
    // Text that is neither part stays in `rest` (as the regex's lookahead left it).
    const consumed = ip || through >= 0 ? clause.length : 0;
    return { explicit: true, policyTypeText, throughTypeText, rest: after.slice(consumed) };
  }
  if ((m = /^\s*because no /i.exec(rest))) {
    const after = rest.slice(m[0].length);
    const at = after.indexOf(" allows the ");
    const act = at < 0 ? null : /^ allows the \S+ action/.exec(after.slice(at));
    if (at > 0 && act) return { explicit: false, policyTypeText: after.slice(0, at), throughTypeText: null, rest: after.slice(at + act[0].length) };
  }
  return { explicit: null, policyTypeText: null, throughTypeText: null, rest };
}

/**
 * Where the authorization grammar starts: the first "User[: <principal>] is not authorized to perform", found with
 * indexOf and token checks (a regex with an unanchored `\S+` before a literal is quadratic on long unspaced text).
 * `msg` has single spaces only.
 */
function findHead(msg: string): { principal: string | null; end: number } | null {
  for (let at = msg.indexOf(HEAD_TEXT); at >= 0; at = msg.indexOf(HEAD_TEXT, at + 1)) {
    if (at < 1 || msg[at - 1] !== " ") continue;
    const lastStart = msg.lastIndexOf(" ", at - 2) + 1; // the token before " is not authorized"
    const last = msg.slice(lastStart, at - 1);
    let principal: string | null | undefined;
    if (/(?:^|[.:])User$/.test(last)) principal = null;
    else if (/(?:^|[.:])User:./.test(last)) principal = last.slice(last.indexOf("User:") + 5);
    else if (lastStart >= 2) {
      const prevStart = msg.lastIndexOf(" ", lastStart - 2) + 1;
      if (/(?:^|[.:])User:$/.test(msg.slice(prevStart, lastStart - 1))) principal = last;
    }
    if (principal === undefined) continue;
    let end = at + HEAD_TEXT.length;
    if (msg[end] === ":") end++;
    if (msg[end] !== " ") continue;
    return { principal, end: end + 1 };
  }
  return null;
}

/** The message with EC2's encoded tail and an authorization id cut off: what is left to read. */
function withoutTails(msg: string): string {
  const at = msg.indexOf("Encoded authorization failure message:");
  return (at < 0 ? msg : msg.slice(0, at)).trim();
}

export function parseDenyMessage(message: unknown): ParsedDenyMessage {
  // Runs of whitespace to one space; single spaces are left alone (replacing each is slow on long spaced text).
  const msg = (typeof message === "string" ? message : "").replace(/\s{2,}|[^\S ]/g, " ").trim();
  const out: ParsedDenyMessage = { ...EMPTY };
  const enc = ENCODED.exec(msg);
  if (enc) out.encodedMessage = enc[1];
  const id = AUTH_ID.exec(msg);
  if (id) out.authorizationId = id[1];

  const head = findHead(msg);
  if (!head) {
    const sqs = SQS_DENIED.exec(msg);
    if (sqs) {
      out.resource = { kind: "url", value: sqs[1] };
      out.generic = true;
      return out;
    }
    out.generic = GENERIC.test(withoutTails(msg));
    // Messages without the grammar still may name the policy type (e.g. "... due to a VPC endpoint policy").
    const t = /\b(?:due to|in) (?:a|an|the) ((?:[\w-]+ ){0,3}(?:policy|boundary))\b/i.exec(msg);
    if (t) {
      out.policyTypeText = t[1];
      out.cause = causeOfPolicyType(t[1]);
      if (/explicit deny/i.test(msg)) out.explicit = true;
    }
    return out;
  }
  out.authorization = true;
  out.principal = head.principal ? unquote(head.principal) : null;
  let rest = msg.slice(head.end);
  const action = ACTION.exec(rest);
  if (action) {
    out.action = action[1];
    rest = rest.slice(action[0].length);
  }
  const res = readResource(rest);
  out.resource = res.resource;
  const reason = readReason(res.rest);
  Object.assign(out, { explicit: reason.explicit, policyTypeText: reason.policyTypeText, throughTypeText: reason.throughTypeText });
  const arn = ARN_TAIL.exec(reason.rest);
  if (arn) out.policyArn = arn[1];
  // "X transitively through an SCP": the SCP denied the request; the first policy only carried it.
  out.cause = causeOfPolicyType(out.throughTypeText ?? out.policyTypeText);
  return out;
}
