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
 * copied in ../shared/data/cloudtrail/awsdocs-iam-user-guide), EC2's 2024 form with its encoded tail, and the
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
  | { kind: "text"; value: string }; // something else after "on resource:"

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
};

const HEAD = /(?:^|[\s.:])User(?::\s*(\S+))?\s+is not authorized to perform:?\s+/;
const ACTION = /^([A-Za-z0-9-]+:[A-Za-z0-9*]+)/;
const ARN_TAIL = /^:\s*(arn:aws[a-z-]*:[^\s]+?)(?=[.,;]?(?:\s|$))/;
const ENCODED = /Encoded authorization failure message:\s*(\S+)/;
const AUTH_ID = /\b(?:authorization[- ]?details?[- ]?id|authorizationId|AuthorizationDetailsId)\s*[:=]?\s*([A-Za-z0-9_-]{6,})/i;
const NAMED = /^(role|policy|user|group|access key)\s+([^\s]+)/;

/** Strip one pair of surrounding quotes (S3 quotes the resource) and a trailing sentence period. */
function unquote(s: string): string {
  let v = s.replace(/[.,;]$/, "");
  if (/^".*"$/.test(v) || /^'.*'$/.test(v)) v = v.slice(1, -1);
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
  m = /^(\S+)/.exec(rest)!;
  const value = unquote(m[1]);
  const resource: MessageResource = value === "*" || value.startsWith("arn:") ? { kind: "arn", value } : { kind: "text", value };
  return { resource, rest: rest.slice(m[0].length) };
}

/** The reason part: explicit/implicit, the policy type, the policy type it came through, and what is left. */
function readReason(rest: string): Pick<ParsedDenyMessage, "explicit" | "policyTypeText" | "throughTypeText"> & { rest: string } {
  let m: RegExpExecArray | null;
  if ((m = /^\s*(?:with|due to) an explicit deny(?:\s+in (?:a|an|the)\s+(.+?))?(?:\s+transitively through (?:a|an|the)\s+(.+?))?(?=:\s*arn:|\.\s|\.$|$)/i.exec(rest)))
    return { explicit: true, policyTypeText: m[1] ?? null, throughTypeText: m[2] ?? null, rest: rest.slice(m[0].length) };
  if ((m = /^\s*because no (.+?) allows the \S+ action/i.exec(rest)))
    return { explicit: false, policyTypeText: m[1], throughTypeText: null, rest: rest.slice(m[0].length) };
  return { explicit: null, policyTypeText: null, throughTypeText: null, rest };
}

export function parseDenyMessage(message: string | null | undefined): ParsedDenyMessage {
  const msg = (message ?? "").replace(/\s+/g, " ").trim();
  const out: ParsedDenyMessage = { ...EMPTY };
  const enc = ENCODED.exec(msg);
  if (enc) out.encodedMessage = enc[1];
  const id = AUTH_ID.exec(msg);
  if (id) out.authorizationId = id[1];

  const head = HEAD.exec(msg);
  if (!head) {
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
  out.principal = head[1] ? unquote(head[1]) : null;
  let rest = msg.slice(head.index + head[0].length);
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
