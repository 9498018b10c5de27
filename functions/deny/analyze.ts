/**
 * One deny record -> the `deny` finding (`npm run replay -- --json`'s `deny` line): cause, explicit, the IAM action as the Service
 * Authorization Reference spells it, the resource, and a least-privilege suggestion only where an identity-based
 * Allow can fix the deny; otherwise `whyNot` says what would.
 */
import { accountOf, partitionOf, principalArnOf, type CloudTrailRecord } from "../cloudtrail";
import { canonicalAction, candidateActionOf, resourcesFromRequest, sqsQueueArnOf } from "./iamActions";
import { parseDenyMessage, type DenyCause, type MessageResource } from "./parseMessage";
import { grantsAdministratorAccess, sensitivityOf, type Sensitivity } from "./sensitive";
import { personOf } from "./person";
import type { DecodedAuthorization } from "./decode";

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: { Effect: "Allow"; Action: string[]; Resource: string[] }[];
}

export interface DenyFinding {
  kind: "deny";
  eventId: string | null;
  eventTime: string | null;
  accountId: string | null;
  region: string | null;
  principalArn: string | null;
  errorCode: string;
  action: string | null;
  resource: string | null;
  cause: DenyCause;
  explicit: boolean | null;
  policyArn: string | null;
  suggestion: PolicyDocument | null;
  // Extensions of the `deny` line (added fields only; the fixed ones keep their meaning).
  /** Why no identity-based Allow is suggested, and what would fix the deny instead. */
  whyNot: string | null;
  /** The action the event or message named when it is not in the Service Authorization Reference. */
  unmappedAction: string | null;
  principalType: string | null;
  /**
   * For an IAM Identity Center role (`aws-reserved/sso.amazonaws.com/.../AWSReservedSSO_<set>_<hash>`): the
   * permission set the suggestion belongs in. Identity Center owns those roles and reverts direct edits.
   */
  permissionSet: string | null;
  eventSource: string | null;
  eventName: string | null;
  /**
   * The suggested (or denied) action needs review before anyone grants it: its access level from the Service
   * Authorization Reference and why it is sensitive (functions/deny/sensitive.ts). null: a plain action.
   */
  sensitive: Sensitivity | null;
  /** Who, inside the principal: role session name, source identity or Identity Center user name (see person.ts). */
  sessionName: string | null;
  /**
   * EC2's encoded authorization failure message, when the message carries one. Only sts:DecodeAuthorizationMessage
   * in the account that produced it reads it: `aws sts decode-authorization-message --encoded-message <this>`.
   */
  encodedMessage: string | null;
  /**
   * A data event (S3 object or Lambda invoke level): the deployed advisor sees it only where the trail logs those
   * data events; replay reports it either way. https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
   */
  dataEvent: boolean;
  /**
   * The encoded message, decoded in the account that produced it (deployed pipeline only): whether an explicit Deny
   * matched and which statements. null: not decoded (no encoded message, replay, or decoding failed).
   */
  decoded: { explicit: boolean; statements: string[] } | null;
}

/**
 * The deny error codes (the same set the bus's deny pattern matches): `AccessDenied*` (prefix),
 * `*UnauthorizedOperation` (EC2 writes `Client.UnauthorizedOperation`), SNS's `AuthorizationError`, and the network
 * activity events' `VpceAccessDenied`.
 */
export function isDenyCode(code: string | null | undefined): boolean {
  return !!code && (code.startsWith("AccessDenied") || code.endsWith("UnauthorizedOperation") || code === "AuthorizationError" || code === "VpceAccessDenied");
}

export function isDenyRecord(record: CloudTrailRecord): boolean {
  return isDenyCode(record.errorCode);
}

/** The `p-...` id in an Organizations policy ARN, or null. */
export function policyIdOf(policyArn: string | null | undefined): string | null {
  const m = /\/(p-[0-9a-z_]+)$/.exec(policyArn ?? "");
  return m ? m[1] : null;
}

function whyNotFor(cause: DenyCause, explicit: boolean | null, action: string | null, policyArn: string | null, caution: string): string | null {
  const what = action ?? "the action";
  const pid = policyIdOf(policyArn);
  const base = whyNotBase(cause, explicit, what, pid);
  // Widening a guardrail for a sensitive action is a decision, not a fix: say what it would open.
  return base && caution && WIDENING.includes(cause) ? `${base}. ${caution}` : base;
}

/**
 * The causes whose fix is widening a guardrail (boundary, SCP, RCP, session or resource policy). An array, not a Set:
 * the Lambda closure serializer turns a module-level Set into {} (the SCP watch's archive test caught it).
 */
const WIDENING: readonly DenyCause[] = ["service-control-policy", "resource-control-policy", "permissions-boundary", "session-policy", "resource-based-policy", "vpc-endpoint-policy"];

function whyNotBase(cause: DenyCause, explicit: boolean | null, what: string, pid: string | null): string | null {
  switch (cause) {
    case "service-control-policy":
      return `denied by ${pid ? `SCP ${pid}` : "a service control policy"}: change the SCP or the account's OU, not the role`;
    case "resource-control-policy":
      return `denied by ${pid ? `RCP ${pid}` : "a resource control policy"}: change the RCP or where it is attached; no identity-based Allow overrides it`;
    case "permissions-boundary":
      return explicit
        ? `the principal's permissions boundary denies ${what}: change the boundary, an Allow in the role's policy cannot pass it`
        : `the principal's permissions boundary does not allow ${what}: add it to the boundary (an Allow in the role's policy alone is capped by it)`;
    case "session-policy":
      return `the session policy passed when the session was created ${explicit ? "denies" : "does not allow"} ${what}: start the session with a policy that allows it`;
    case "resource-based-policy":
      return `the resource's own policy (bucket, key, secret or trust policy) ${explicit ? "denies" : "does not allow"} ${what}: change that policy`;
    case "vpc-endpoint-policy":
      return `the VPC endpoint policy ${explicit ? "denies" : explicit === false ? "does not allow" : "blocked"} ${what}: change the endpoint policy or call outside the endpoint`;
    case "identity-based-policy":
      return explicit ? `an explicit Deny in an identity-based policy wins over any Allow: narrow or remove that Deny` : null;
    case "unknown":
      return explicit ? `an explicit Deny (the message does not say in which policy) wins over any Allow: find and change that Deny` : null;
  }
}

/** An ARN with `*` in it matches `arn` (IAM's wildcard: `*` any run of characters). */
function globMatches(glob: string, arn: string): boolean {
  const parts = glob.split("*");
  if (!arn.startsWith(parts[0]) || !arn.endsWith(parts[parts.length - 1])) return false;
  let at = parts[0].length;
  for (const p of parts.slice(1, -1)) {
    const i = arn.indexOf(p, at);
    if (i < 0) return false;
    at = i + p.length;
  }
  return at <= arn.length - parts[parts.length - 1].length;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** Longest action name a finding repeats as `unmappedAction`. */
const MAX_NAME = 256;

/** The resource named in the message as an ARN, when it can be one. */
function messageResourceArn(r: MessageResource | null, record: CloudTrailRecord, account: string | null): string | null {
  if (!r) return null;
  if (r.kind === "arn") return r.value;
  if (r.kind === "url") return sqsQueueArnOf(r.value);
  if (r.kind === "named" && account) {
    const partition = partitionOf(str(record.awsRegion));
    if (r.type === "role") return `arn:${partition}:iam::${account}:role/${r.name}`;
    if (r.type === "policy") return `arn:${partition}:iam::${account}:policy/${r.name}`;
    if (r.type === "user") return `arn:${partition}:iam::${account}:user/${r.name}`;
    if (r.type === "group") return `arn:${partition}:iam::${account}:group/${r.name}`;
  }
  return null;
}

/** The first `resources[]` ARN of the action's service, else the first ARN at all. */
function resourceFromRecord(record: CloudTrailRecord, action: string | null): string | null {
  const arns = (Array.isArray(record.resources) ? record.resources : []).map((r) => r?.ARN).filter((a): a is string => typeof a === "string" && a.startsWith("arn:"));
  const service = action?.split(":")[0];
  return arns.find((a) => service && a.split(":")[2] === service) ?? arns[0] ?? null;
}

/** The permission set behind an IAM Identity Center role, else null. */
export function permissionSetOf(principalArn: string | null): string | null {
  const m = /:role\/aws-reserved\/sso\.amazonaws\.com\/(?:[^/]+\/)?AWSReservedSSO_(.+)_[0-9a-f]{16}$/.exec(principalArn ?? "");
  return m ? m[1] : null;
}

/** Why a principal can never be given an identity-based Allow, or null when it can. */
function principalProblem(record: CloudTrailRecord, principalArn: string | null): string | null {
  const id = record.userIdentity ?? {};
  switch (id.type) {
    case "Root":
      return "the account's root user: identity-based policies do not apply to root; an SCP, RCP or resource policy denied it";
    case "AWSService":
      return `an AWS service principal (${id.invokedBy ?? "service"}): fix the resource policy or the service's role, not an identity policy`;
    case "AWSAccount":
      return "a principal in another account: the fix belongs in that account and in this resource's policy";
    case "Anonymous":
      return "an anonymous (unsigned) request: only a resource policy can allow it, and it should not";
  }
  if (id.invokedBy && /\.amazonaws\.com$/.test(id.invokedBy) && id.type !== "AssumedRole" && id.type !== "IAMUser")
    return `called by an AWS service (${id.invokedBy}): fix the service's role or the resource policy`;
  if (!principalArn) return "the record names no principal to attach a policy to";
  if (/:role\/aws-service-role\//.test(principalArn)) return "a service-linked role: AWS manages its policies";
  if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role)\//.test(principalArn))
    return `not an IAM user or role (${principalArn}): no identity-based policy to extend`;
  return null;
}

export async function analyzeDeny(record: CloudTrailRecord, opts: { decoded?: DecodedAuthorization | null } = {}): Promise<DenyFinding> {
  const parsed = parseDenyMessage(record.errorMessage);
  const decoded = opts.decoded ?? null;
  const account = accountOf(record);
  const principalArn = principalArnOf(record);
  const region = str(record.awsRegion);
  const errorCode = str(record.errorCode) ?? "";

  // Cause: from the message; VpceAccessDenied events say it in their error code.
  let cause = parsed.cause;
  let explicit = parsed.explicit;
  if (errorCode === "VpceAccessDenied" && cause === "unknown") cause = "vpc-endpoint-policy";
  // The decoded message says explicit or implicit for certain (the policy type it does not say).
  if (decoded) explicit = decoded.explicit;

  // Action: the message's, else the event's, validated against the reference either way.
  const fromMessage = (await canonicalAction(parsed.action)) ?? (await canonicalAction(decoded?.action));
  const eventCandidate = candidateActionOf(record.eventSource, record.eventName);
  const action = fromMessage ?? (await canonicalAction(eventCandidate));
  const unmapped = action ? null : (parsed.action ?? eventCandidate ?? str(record.eventName) ?? null);
  // Bounded: an event source or name can be any length in a damaged record.
  const unmappedAction = unmapped && unmapped.length > MAX_NAME ? `${unmapped.slice(0, MAX_NAME)}…` : unmapped;

  // Resource: the message's, else resources[], else the action's ARN templates filled from the request (each
  // instance of an instancesSet, the queue of a queueUrl, ...), else *. A message resource with a wildcard
  // (EC2's `instance/*`) gives way to the request's own resources when they fall under it: narrower, still right.
  const fromRequest = action
    ? await resourcesFromRequest(action, { partition: partitionOf(region), region, account, params: record.requestParameters })
    : [];
  let resources: string[] = [];
  const fromMessageArn = messageResourceArn(parsed.resource, record, account) ?? (decoded?.resource?.startsWith("arn:") ? decoded.resource : null);
  if (fromMessageArn) {
    const narrower = fromMessageArn.includes("*") ? fromRequest.filter((a) => a !== "*" && globMatches(fromMessageArn, a)) : [];
    resources = narrower.length ? narrower : [fromMessageArn];
  } else {
    const recorded = resourceFromRecord(record, action);
    resources = recorded ? [recorded] : fromRequest;
  }
  if (resources.length === 0) resources = ["*"];
  const resource = resources[0];

  // A policy decision: the authorization grammar, a message that names a policy type, or no detail at all.
  const message = (str(record.errorMessage) ?? "").trim();
  const policyDecision = parsed.authorization || parsed.policyTypeText !== null || parsed.generic || errorCode === "VpceAccessDenied";

  const sensitive = await sensitivityOf(action, record.requestParameters);
  const admin = grantsAdministratorAccess(action, record.requestParameters);
  const caution = admin
    ? `This is administrator-level access (${admin}): widening the guardrail for it gives the principal full control; do it only if that is intended`
    : sensitive
      ? `${action} is sensitive (${sensitive.level}: ${sensitive.reason}): review before widening the guardrail for it`
      : "";

  let whyNot: string | null;
  if (!policyDecision) whyNot = `not a policy decision ("${message.slice(0, 160)}"): an Allow will not change it`;
  // The cause first (an SCP deny is an SCP deny whoever hit it), then what rules out this principal.
  else whyNot = whyNotFor(cause, explicit, action, parsed.policyArn, caution) ?? principalProblem(record, principalArn);
  if (decoded?.explicit && decoded.statements.length && whyNot) whyNot += ` (decoded: matched statement ${decoded.statements.join(", ")})`;
  if (!whyNot && !action) whyNot = `"${unmappedAction ?? "?"}" is not an action in the Service Authorization Reference: nothing to suggest`;

  // Only an implicit identity-based deny, or a policy deny whose cause the message does not give, is fixed by an Allow.
  const fixable = whyNot === null && action !== null && ((cause === "identity-based-policy" && explicit === false) || (cause === "unknown" && explicit !== true));
  const suggestion: PolicyDocument | null = fixable
    ? { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [action!], Resource: resources }] }
    : null;
  if (!suggestion && !whyNot) whyNot = "the message does not say enough to suggest an Allow";

  return {
    kind: "deny",
    eventId: str(record.eventID),
    eventTime: str(record.eventTime),
    accountId: account,
    region,
    principalArn,
    errorCode,
    action,
    resource,
    cause,
    explicit,
    policyArn: parsed.policyArn,
    suggestion,
    whyNot,
    unmappedAction,
    principalType: str(record.userIdentity?.type),
    permissionSet: permissionSetOf(principalArn),
    eventSource: str(record.eventSource),
    eventName: str(record.eventName),
    sensitive: admin && sensitive ? { level: sensitive.level, reason: `administrator-level: ${admin}; ${sensitive.reason}` } : sensitive,
    sessionName: personOf(record),
    // STS takes at most 10,240 characters (API_DecodeAuthorizationMessage.html): anything longer is not one.
    encodedMessage: parsed.encodedMessage && parsed.encodedMessage.length <= 10240 ? parsed.encodedMessage : null,
    dataEvent: record.eventCategory === "Data" || record.managementEvent === false,
    decoded: decoded ? { explicit: decoded.explicit, statements: decoded.statements } : null,
  };
}

/** A policy as valid JSON with one statement per line: short enough to read, ready to paste. */
export function compactPolicy(policy: { Version: string; Statement: unknown[] } | null): string {
  if (!policy) return "null";
  const statements = policy.Statement.map((st) => "  " + JSON.stringify(st));
  return `{"Version":${JSON.stringify(policy.Version)},"Statement":[\n${statements.join(",\n")}\n]}`;
}
