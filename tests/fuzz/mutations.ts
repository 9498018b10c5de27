/**
 * Mutations of real CloudTrail records for the property test (tests/recordFuzz.test.ts): wrong types, nulls, huge
 * strings, deep nesting, Object.prototype member names, lone surrogates, dropped fields. Every mutated record is
 * still JSON (it is what a file or the bus could carry): values are JSON values, keys named "__proto__" are own keys,
 * as JSON.parse makes them.
 */
import fc from "fast-check";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A 6,000-deep array (the depth that overflowed the stack) or object, built without recursion. */
export function deepArray(depth: number): Json {
  let v: Json = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}
export function deepObject(depth: number): Json {
  let v: Json = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

export const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__"];

/**
 * Big values are written as markers ("<<deepArray:6000>>", "<<repeat:A:20000>>") and expanded by `expand` when a
 * mutation is applied: fast-check prints counterexamples by recursing into them, and a seed is easier to read so.
 */
export function expand(v: Json): Json {
  if (typeof v !== "string" || !v.startsWith("<<")) return v;
  const m = /^<<(deepArray|deepObject):(\d+)>>$/.exec(v);
  if (m) return m[1] === "deepArray" ? deepArray(Number(m[2])) : deepObject(Number(m[2]));
  const r = /^<<repeat:(.*):(\d+)>>$/s.exec(v);
  return r ? r[1].repeat(Number(r[2])) : v;
}

/** Values that replace a field. Huge strings stay at tens of KB: the property runs hundreds of cases. */
export const replacement: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(42, -1, 0, 1.5, 1e308, true, false, null, [], {}, [null], { a: null }, "", " ", "-1", "0.0.0.0/0", "::/0"),
  fc.constantFrom<Json>(...PROTOTYPE_NAMES),
  fc.constantFrom<Json>("s3:constructor", "iam:__proto__", "constructor.amazonaws.com", "__proto__.amazonaws.com", "toString:toString"),
  fc.constantFrom<Json>("\ud800", "a\udc00b", "evt-\ud83d", "\udfff\ud800"),
  fc.constantFrom<Json>("billingconsole.amazonaws.com", "macie.amazonaws.com", "AccessDenied", "Client.UnauthorizedOperation"),
  // Deny messages in AWS's grammar, with odd actions, resources and policy ARNs (SCP counting, the report).
  fc
    .tuple(
      fc.constantFrom("s3:GetObject", "s3:constructor", "iam:__proto__", "billingconsole:ViewBilling", "ec2:toString", "x:y"),
      fc.constantFrom("arn:aws:s3:::b/k", "*", "role __proto__", '"arn:aws:s3:::a b"', "constructor"),
      fc.constantFrom(
        " with an explicit deny in a service control policy: arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-abc",
        " with an explicit deny in a resource control policy: arn:aws:organizations::111111111111:policy/o-x/resource_control_policy/p-__proto__",
        " because no identity-based policy allows the s3:GetObject action",
        " with an explicit deny in a __proto__ policy",
        "",
      ),
    )
    .map(([action, resource, reason]) => `User: arn:aws:sts::111111111111:assumed-role/r/s is not authorized to perform: ${action} on resource: ${resource}${reason}`),
  fc.integer({ min: 1_000, max: 30_000 }).map((n) => `<<repeat:A:${n}>>`),
  fc.integer({ min: 100, max: 3_000 }).map((n) => `<<repeat:x.:${n}>>`),
  fc.constantFrom<Json>("<<deepArray:6000>>", "<<deepObject:6000>>", "<<deepArray:40>>"),
  fc.string({ maxLength: 12 }),
  fc.array(fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 3 }),
);

/** The fields the functions read, so mutations hit them often, not only where a record happens to have them. */
export const HOT_PATHS: string[][] = [
  ["eventSource"], ["eventName"], ["errorCode"], ["errorMessage"], ["awsRegion"], ["eventID"], ["eventTime"], ["eventType"],
  ["recipientAccountId"], ["readOnly"], ["managementEvent"], ["userAgent"], ["sourceIPAddress"], ["resources"], ["resources", "0"],
  ["resources", "0", "ARN"], ["userIdentity"], ["userIdentity", "type"], ["userIdentity", "arn"], ["userIdentity", "invokedBy"],
  ["userIdentity", "sessionContext", "sessionIssuer", "arn"], ["requestParameters"], ["responseElements"],
  ["requestParameters", "cidrIp"], ["requestParameters", "groupId"], ["requestParameters", "ipPermissions"],
  ["requestParameters", "ipPermissions", "items"], ["requestParameters", "ipPermissions", "items", "0", "ipRanges", "items"],
  ["requestParameters", "ipPermissions", "items", "0", "ipRanges", "items", "0", "cidrIp"], ["requestParameters", "roleName"],
  ["requestParameters", "tags"], ["requestParameters", "tagKeys"], ["requestParameters", "policyId"], ["requestParameters", "bucketName"],
  ["responseElements", "securityGroupRuleSet", "items"], ["responseElements", "securityGroupRuleSet", "items", "0", "cidrIpv4"],
  ["responseElements", "role", "arn"],
];

/** Every path in a value, up to a depth, so mutations also land in places no list names. */
export function pathsOf(v: Json, depth = 6, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  if (depth === 0 || v === null || typeof v !== "object") return out;
  for (const k of Object.keys(v)) {
    const p = [...prefix, k];
    out.push(p);
    out.push(...pathsOf((v as Record<string, Json>)[k], depth - 1, p));
  }
  return out;
}

export type Mutation =
  | { op: "set"; pick: number; value: Json }
  | { op: "delete"; pick: number }
  | { op: "wrap"; pick: number }
  | { op: "protoKey"; pick: number; name: string; value: Json };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), pick: fc.nat(), value: replacement }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("wrap" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("protoKey" as const), pick: fc.nat(), name: fc.constantFrom(...PROTOTYPE_NAMES), value: replacement }) },
);

/** Set an own key (also "__proto__") the way JSON.parse does. */
function setOwn(o: Record<string, Json>, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of `record` with the mutations applied; containers on the way to a hot path are created. */
export function mutate(record: Json, mutations: Mutation[]): Json {
  let root = structuredClone(record) as Json;
  for (const m of mutations) {
    const all = [...HOT_PATHS, ...pathsOf(root)];
    const p = all[m.pick % all.length];
    if (p.length === 0) continue;
    let node: Json = root;
    for (const k of p.slice(0, -1)) {
      if (node === null || typeof node !== "object") break;
      const rec = node as Record<string, Json>;
      if (rec[k] === null || typeof rec[k] !== "object" || !Object.prototype.hasOwnProperty.call(rec, k)) setOwn(rec, k, /^\d+$/.test(k) ? [] : {});
      node = rec[k];
    }
    if (node === null || typeof node !== "object") continue;
    const rec = node as Record<string, Json>;
    const last = p[p.length - 1];
    if (Array.isArray(rec) && !/^\d+$/.test(last)) continue;
    if (m.op === "set") setOwn(rec, last, expand(m.value));
    else if (m.op === "delete") {
      if (Array.isArray(rec)) rec.splice(Number(last), 1);
      else delete rec[last];
    }
    else if (m.op === "wrap") setOwn(rec, last, [rec[last] ?? null, null]);
    else {
      const target = Object.prototype.hasOwnProperty.call(rec, last) && rec[last] !== null && typeof rec[last] === "object" ? (rec[last] as Record<string, Json>) : rec;
      // JSON arrays have no named keys (an array with an own "constructor" is not something JSON.parse makes).
      if (!Array.isArray(target)) setOwn(target, m.name, expand(m.value));
    }
    if (root === null || typeof root !== "object") root = {};
  }
  return root;
}

/** JSON text of any depth (JSON.stringify overflows the stack at about 5,000 levels; JSON.parse does not). */
export function jsonText(value: Json): string {
  const out: string[] = [];
  const stack: (Json | { close: string })[] = [value];
  while (stack.length) {
    const v = stack.pop()!;
    if (v !== null && typeof v === "object" && isMarker(v)) {
      out.push((v as { close: string }).close);
      continue;
    }
    if (v === null || typeof v !== "object") {
      out.push(JSON.stringify(v) ?? "null"); // undefined (an array hole) is null, as JSON.stringify writes it
      continue;
    }
    if (Array.isArray(v)) {
      out.push("[");
      stack.push(marker("]"));
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i]);
        if (i > 0) stack.push(marker(","));
      }
    } else {
      const keys = Object.keys(v).filter((k) => (v as Record<string, Json | undefined>)[k] !== undefined);
      out.push("{");
      stack.push(marker("}"));
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push((v as Record<string, Json>)[keys[i]]);
        stack.push(marker(`${JSON.stringify(keys[i])}:`));
        if (i > 0) stack.push(marker(","));
      }
    }
  }
  return out.join("");
}
const MARKERS = new WeakSet<object>();
function marker(text: string): { close: string } {
  const m = { close: text };
  MARKERS.add(m);
  return m;
}
function isMarker(v: object): boolean {
  return MARKERS.has(v);
}
