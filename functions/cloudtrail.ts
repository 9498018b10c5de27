/**
 * The CloudTrail record and EventBridge envelope shapes shared by every function and tool.
 *
 * Record fields: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * Envelope: https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html
 */

export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: { type?: string; principalId?: string; arn?: string; accountId?: string; userName?: string };
    attributes?: { creationDate?: string; mfaAuthenticated?: string };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A CloudTrail record as delivered to S3 or in an EventBridge event's `detail`. Loose on purpose: records vary. */
export interface CloudTrailRecord {
  eventVersion?: string;
  eventTime?: string;
  eventSource?: string;
  eventName?: string;
  eventID?: string;
  eventType?: string;
  eventCategory?: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  managementEvent?: boolean;
  recipientAccountId?: string;
  userIdentity?: UserIdentity;
  requestParameters?: Record<string, any> | null;
  responseElements?: Record<string, any> | null;
  resources?: Array<{ ARN?: string; accountId?: string; type?: string }>;
  [key: string]: unknown;
}

/** An EventBridge event. For CloudTrail events `detail` is the record. */
export interface EventBridgeEvent<D = CloudTrailRecord> {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: D;
}

/** The EventBridge `source` for a CloudTrail event source: `ec2.amazonaws.com` -> `aws.ec2`. */
export function eventBridgeSource(eventSource: string | undefined): string {
  const service = (eventSource ?? "").replace(/\.amazonaws\.com$/, "");
  return `aws.${service}`;
}

/** The EventBridge `detail-type` CloudTrail uses for a record's eventType. */
export function detailTypeOf(record: CloudTrailRecord): string {
  switch (record.eventType) {
    case "AwsConsoleSignIn":
      return "AWS Console Sign In via CloudTrail";
    case "AwsServiceEvent":
      return "AWS Service Event via CloudTrail";
    case "AwsConsoleAction":
      return "AWS Console Action via CloudTrail";
    // Network activity events (VPC endpoint calls, e.g. a VpceAccessDenied):
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
    case "AwsVpceEvent":
      return "AWS Network Activity Event via CloudTrail";
    default:
      return "AWS API Call via CloudTrail";
  }
}

/** Wrap a CloudTrail record the way EventBridge delivers it, so offline tools route with the deployed patterns. */
export function toEnvelope(record: CloudTrailRecord): EventBridgeEvent {
  return {
    version: "0",
    id: record.eventID ?? "",
    "detail-type": detailTypeOf(record),
    source: eventBridgeSource(record.eventSource),
    account: record.recipientAccountId ?? record.userIdentity?.accountId ?? "",
    time: record.eventTime ?? "",
    region: record.awsRegion ?? "",
    resources: [],
    detail: record,
  };
}

/** True when `value` looks like an EventBridge envelope around a CloudTrail record. */
export function isEnvelope(value: unknown): value is EventBridgeEvent {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as any)["detail-type"] === "string" &&
    typeof (value as any).detail === "object" &&
    (value as any).detail !== null
  );
}

/**
 * The principal a finding is about: the role (sessionIssuer.arn, path kept) for an assumed role,
 * else userIdentity.arn. DESIGN.md fixes this for `principalArn`.
 */
export function principalArnOf(record: CloudTrailRecord): string | null {
  const id = record.userIdentity;
  if (!id) return null;
  if (id.type === "AssumedRole") {
    const issuer = id.sessionContext?.sessionIssuer?.arn;
    if (issuer) return issuer;
    // No sessionIssuer (trimmed records): the role from the assumed-role ARN, path unknown.
    const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(id.arn ?? "");
    if (m) return `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
  }
  return id.arn ?? null;
}

/** The session name of an assumed-role caller (the last segment of its assumed-role ARN), else null. */
export function sessionNameOf(record: CloudTrailRecord): string | null {
  const arn = record.userIdentity?.arn;
  if (record.userIdentity?.type !== "AssumedRole" || !arn) return null;
  const parts = arn.split("/");
  return parts.length >= 3 ? parts[parts.length - 1] : null;
}

/** The account the event happened in: `recipientAccountId`, never the caller's own account. */
export function accountOf(record: CloudTrailRecord): string | null {
  return record.recipientAccountId ?? null;
}

/** The ARN partition of a region. */
export function partitionOf(region: string | null | undefined): string {
  if (region?.startsWith("cn-")) return "aws-cn";
  if (region?.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

// ---- The boundary where a record enters ----------------------------------------------------------------------------
//
// Replay reads whatever files a user points it at, and the Lambdas get whatever the bus delivers: every function
// after this boundary may trust the types of the fields it reads. Record fields and their types are those of the
// record-contents page above (strings, booleans, objects; `resources` an array of objects). A field of the wrong type
// is treated as absent and reported (where and why); a record without a usable eventName is not a record.
// No zod here: the TOOLCHAIN note on CallbackFunction warns against capturing schemas in handlers, and replay runs this
// on every record of a log (plain checks allocate nothing when a record is fine).

/** A field the boundary ignored: its path in the record and why. */
export interface FieldProblem {
  field: string;
  problem: string;
}

export type RecordCheck =
  | { ok: true; record: CloudTrailRecord; ignored: FieldProblem[] }
  | { ok: false; field: string | null; problem: string };

/** Top-level string fields the functions read. */
const STRING_FIELDS = [
  "eventVersion", "eventTime", "eventSource", "eventID", "eventType", "eventCategory", "awsRegion", "sourceIPAddress",
  "userAgent", "errorCode", "errorMessage", "recipientAccountId", "requestID", "sharedEventID", "vpcEndpointId", "apiVersion",
] as const;
/** Booleans. Some producers write "true"/"false" (Panther's rule tests do): read as the boolean they mean. */
const BOOLEAN_FIELDS = ["readOnly", "managementEvent", "sessionCredentialFromConsole"] as const;
/** Free-form objects (or null) that functions look into. */
const OBJECT_FIELDS = ["requestParameters", "responseElements"] as const;
const IDENTITY_STRINGS = ["type", "principalId", "arn", "accountId", "userName", "invokedBy"] as const;
const ISSUER_STRINGS = ["type", "principalId", "arn", "accountId", "userName"] as const;
const ATTRIBUTE_STRINGS = ["creationDate", "mfaAuthenticated"] as const;
const RESOURCE_STRINGS = ["ARN", "accountId", "type"] as const;

/**
 * How deep objects and arrays may nest in a record (the record is level 0; real CloudTrail records reach about 11, a
 * RunInstances response): deeper values are cut off, so no function recursing into a record can exhaust the stack
 * (JSON.stringify throws at about 5,000 levels; JSON.parse, which reads the files, does not). EventBridge itself
 * processes nested JSON only up to 1,100 levels:
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 */
export const MAX_RECORD_DEPTH = 32;

/** What a JSON value is, for messages: "a string", "a number", "an array", "null". */
export function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  const t = typeof v;
  return t === "object" ? "an object" : t === "undefined" ? "nothing" : t === "string" ? "a string" : `a ${t}`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A string with lone surrogates replaced by U+FFFD (what TextEncoder and JSON consumers make of them anyway). */
export function wellFormed(s: string): string {
  const str = s as string & { isWellFormed(): boolean; toWellFormed(): string };
  return str.isWellFormed() ? s : str.toWellFormed();
}

/** A shallow copy made on the first change, so a good record is passed on as it came (no allocation). Plain closures,
 * no class: this code is serialized into Lambda archives. */
interface Patch {
  original: Record<string, unknown>;
  changed(): boolean;
  set(key: string, value: unknown): void;
  result(): Record<string, unknown>;
}

function patchOf(original: Record<string, unknown>): Patch {
  let copy: Record<string, unknown> | null = null;
  return {
    original,
    changed: () => copy !== null,
    set(key, value) {
      copy ??= { ...original };
      if (value === undefined) delete copy[key];
      else copy[key] = value;
    },
    result: () => copy ?? original,
  };
}

/** String fields of `obj` (at `path`): wrong types dropped, lone surrogates repaired. */
function checkStrings(patch: Patch, keys: readonly string[], path: string, ignored: FieldProblem[]): void {
  const obj = patch.original;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || !Object.prototype.hasOwnProperty.call(obj, k)) continue;
    if (typeof v === "string") {
      const fixed = wellFormed(v);
      if (fixed !== v) {
        patch.set(k, fixed);
        ignored.push({ field: `${path}${k}`, problem: "lone UTF-16 surrogates replaced by U+FFFD" });
      }
    } else {
      patch.set(k, undefined);
      // null is how some producers write "absent" (invokedBy: null): absent it is, nothing to report.
      if (v !== null) ignored.push({ field: `${path}${k}`, problem: `expected a string, found ${describeType(v)}` });
    }
  }
}

/** An object field (at `path`) checked by `inner`; anything but an object is dropped (null silently). */
function checkObject(patch: Patch, key: string, path: string, ignored: FieldProblem[], inner: (p: Patch) => void): void {
  const v = patch.original[key];
  if (v === undefined || !Object.prototype.hasOwnProperty.call(patch.original, key)) return;
  if (!isPlainObject(v)) {
    patch.set(key, undefined);
    if (v !== null) ignored.push({ field: `${path}${key}`, problem: `expected an object, found ${describeType(v)}` });
    return;
  }
  const p = patchOf(v);
  inner(p);
  if (p.changed()) patch.set(key, p.result());
}

/**
 * `value` cut to MAX_RECORD_DEPTH levels (`depth` is its own level): the same value when nothing is cut. Recursion is
 * bounded by the limit, so a 6,000-deep array costs 32 frames.
 */
function bounded(value: unknown, depth: number, path: string, ignored: FieldProblem[]): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_RECORD_DEPTH) {
    ignored.push({ field: path, problem: `nested deeper than ${MAX_RECORD_DEPTH} levels, cut off` });
    return undefined;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v !== "object" || v === null) continue;
      const b = bounded(v, depth + 1, `${path}[${i}]`, ignored);
      if (b !== v) (out ??= value.slice())[i] = b === undefined ? null : b;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | null = null;
  for (const k in value) {
    if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
    const v = (value as Record<string, unknown>)[k];
    if (typeof v !== "object" || v === null) continue;
    const b = bounded(v, depth + 1, path ? `${path}.${k}` : k, ignored);
    if (b !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      if (b === undefined) delete out[k];
      // defineProperty, not assignment: a key named "__proto__" must stay a key.
      else Object.defineProperty(out, k, { value: b, enumerable: true, writable: true, configurable: true });
    }
  }
  return out ?? value;
}

/** No value nested deeper than MAX_RECORD_DEPTH: the fast check, no path strings, no copies. */
function depthWithin(v: object, depth: number): boolean {
  if (depth >= MAX_RECORD_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === "object" && x !== null && !depthWithin(x, depth + 1)) return false;
    }
    return true;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === "object" && x !== null && !depthWithin(x, depth + 1)) return false;
  }
  return true;
}

const isWellFormedString = (v: unknown): boolean => typeof v === "string" && (v as string & { isWellFormed(): boolean }).isWellFormed();

/** Every listed field absent or a well-formed string. */
function stringsClean(o: Record<string, unknown>, keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    const v = o[keys[i]];
    if (v !== undefined && !isWellFormedString(v)) return false;
  }
  return true;
}

/**
 * True when checkRecord would change nothing and report nothing: the common case, answered without allocating (replay
 * runs this on every record of a log). The field names checked are not Object.prototype members, so plain reads see
 * own fields only.
 */
function isClean(rec: Record<string, unknown>): boolean {
  if (!isWellFormedString(rec.eventName) || !stringsClean(rec, STRING_FIELDS)) return false;
  for (let i = 0; i < BOOLEAN_FIELDS.length; i++) {
    const v = rec[BOOLEAN_FIELDS[i]];
    if (v !== undefined && typeof v !== "boolean") return false;
  }
  for (let i = 0; i < OBJECT_FIELDS.length; i++) {
    const v = rec[OBJECT_FIELDS[i]];
    if (v !== undefined && v !== null && !isPlainObject(v)) return false;
  }
  // Written out, not with callbacks: this runs on every record, and closures would be allocated on each.
  const id = rec.userIdentity;
  if (id !== undefined) {
    if (!isPlainObject(id) || !stringsClean(id, IDENTITY_STRINGS)) return false;
    const sc = id.sessionContext;
    if (sc !== undefined) {
      if (!isPlainObject(sc)) return false;
      const si = sc.sessionIssuer;
      if (si !== undefined && (!isPlainObject(si) || !stringsClean(si, ISSUER_STRINGS))) return false;
      const at = sc.attributes;
      if (at !== undefined && (!isPlainObject(at) || !stringsClean(at, ATTRIBUTE_STRINGS))) return false;
    }
  }
  const resources = rec.resources;
  if (resources !== undefined) {
    if (!Array.isArray(resources)) return false;
    for (let i = 0; i < resources.length; i++) if (!isPlainObject(resources[i]) || !stringsClean(resources[i], RESOURCE_STRINGS)) return false;
  }
  return depthWithin(rec, 0);
}

/**
 * The boundary: the CloudTrail record in whatever one JSON value is (a record or an EventBridge envelope around one),
 * typed: each field the functions read has its documented type or is absent (`ignored` says which were dropped and
 * why), strings are well-formed UTF-16, nesting is bounded. Not a record (no object, no eventName): `ok: false` with
 * the field at fault. Never throws. The record is returned as it came when nothing had to change.
 */
export function checkRecord(value: unknown): RecordCheck {
  const rec = isEnvelope(value) ? (value as { detail: unknown }).detail : value;
  if (!isPlainObject(rec)) return { ok: false, field: null, problem: rec === undefined ? "no record" : `not a JSON object (found ${describeType(rec)})` };
  const name = rec.eventName;
  if (name === undefined || name === null || name === "") return { ok: false, field: "eventName", problem: "record without eventName" };
  if (typeof name !== "string") return { ok: false, field: "eventName", problem: `eventName: expected a string, found ${describeType(name)}` };
  if (isClean(rec)) return { ok: true, record: rec as CloudTrailRecord, ignored: [] };
  // Something to drop, repair or cut: the careful path, which copies what it changes and says where.
  const ignored: FieldProblem[] = [];
  const top = patchOf(rec);
  checkStrings(top, ["eventName", ...STRING_FIELDS], "", ignored);
  for (const k of BOOLEAN_FIELDS) {
    const v = rec[k];
    if (v === undefined || typeof v === "boolean" || !Object.prototype.hasOwnProperty.call(rec, k)) continue;
    const text = typeof v === "string" ? v.toLowerCase() : null;
    top.set(k, text === "true" ? true : text === "false" ? false : undefined);
    if (text !== "true" && text !== "false" && v !== null) ignored.push({ field: k, problem: `expected a boolean, found ${describeType(v)}` });
  }
  checkObject(top, "userIdentity", "", ignored, (id) => {
    checkStrings(id, IDENTITY_STRINGS, "userIdentity.", ignored);
    checkObject(id, "sessionContext", "userIdentity.", ignored, (sc) => {
      checkObject(sc, "sessionIssuer", "userIdentity.sessionContext.", ignored, (si) => checkStrings(si, ISSUER_STRINGS, "userIdentity.sessionContext.sessionIssuer.", ignored));
      checkObject(sc, "attributes", "userIdentity.sessionContext.", ignored, (at) => checkStrings(at, ATTRIBUTE_STRINGS, "userIdentity.sessionContext.attributes.", ignored));
    });
  });
  for (const k of OBJECT_FIELDS) {
    const v = rec[k];
    if (v === undefined || v === null || isPlainObject(v) || !Object.prototype.hasOwnProperty.call(rec, k)) continue;
    top.set(k, undefined);
    ignored.push({ field: k, problem: `expected an object, found ${describeType(v)}` });
  }
  if (rec.resources !== undefined && Object.prototype.hasOwnProperty.call(rec, "resources")) {
    const list = rec.resources;
    if (!Array.isArray(list)) {
      top.set("resources", undefined);
      if (list !== null) ignored.push({ field: "resources", problem: `expected an array, found ${describeType(list)}` });
    } else {
      let out: unknown[] | null = null;
      list.forEach((r, i) => {
        if (!isPlainObject(r)) {
          out ??= list.slice(0, i);
          ignored.push({ field: `resources[${i}]`, problem: `expected an object, found ${describeType(r)}` });
          return;
        }
        const p = patchOf(r);
        checkStrings(p, RESOURCE_STRINGS, `resources[${i}].`, ignored);
        if (p.changed()) out ??= list.slice(0, i);
        out?.push(p.result());
      });
      if (out) top.set("resources", out);
    }
  }
  const typed = top.result();
  const cut = depthWithin(typed, 0) ? typed : (bounded(typed, 0, "", ignored) as Record<string, unknown>);
  return { ok: true, record: cut as CloudTrailRecord, ignored };
}

/** The typed record, or null when `value` is no record: for handlers that log problems themselves. */
export function cloudTrailRecordOf(value: unknown): CloudTrailRecord | null {
  const check = checkRecord(value);
  return check.ok ? check.record : null;
}
