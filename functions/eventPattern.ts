/**
 * EventBridge content filtering, as the reference specifies it, so the patterns that deploy are the patterns the
 * offline tools and tests run. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 *
 * - a pattern field's value is always an array of matchers: the field matches if ANY matcher matches (OR);
 * - nested objects are AND across fields; `$or` is an array of sub-patterns, any of which may match;
 * - an event field that is an array matches if ANY element matches;
 * - a missing field matches nothing but `{"exists": false}` (and `anything-but` does not match missing fields).
 */
export type EventPattern = { [field: string]: Matcher[] | EventPattern | EventPattern[] };
export type Matcher = string | number | boolean | null | { [operator: string]: unknown };

const OPERATORS = new Set(["prefix", "suffix", "anything-but", "exists", "numeric", "wildcard", "equals-ignore-case", "cidr"]);

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (typeof event !== "object" || event === null) return false;
  for (const [field, spec] of Object.entries(pattern)) {
    if (field === "$or") {
      if (!(spec as EventPattern[]).some((sub) => matchesPattern(sub, event))) return false;
      continue;
    }
    const present = Object.prototype.hasOwnProperty.call(event, field);
    const value = (event as Record<string, unknown>)[field];
    if (Array.isArray(spec)) {
      if (!matchField(spec as Matcher[], present, value)) return false;
    } else {
      // Nested object: the event's value must be an object (or an array of objects, any of which matches).
      const candidates = Array.isArray(value) ? value : [value];
      if (!candidates.some((c) => matchesPattern(spec as EventPattern, c))) return false;
    }
  }
  return true;
}

function matchField(matchers: Matcher[], present: boolean, value: unknown): boolean {
  // An event array matches when any of its elements does; an empty array behaves like a missing field for values.
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((m) => {
    if (m !== null && typeof m === "object" && "exists" in m) {
      const exists = present && value !== undefined && !(Array.isArray(value) && value.length === 0);
      // exists matches leaf values only: an object-valued field does not "exist" as a leaf.
      const leaf = exists && values.some((v) => v === null || typeof v !== "object");
      return m.exists === true ? leaf : !leaf;
    }
    if (!present) return false;
    return values.some((v) => matchValue(m, v));
  });
}

function matchValue(m: Matcher, v: unknown): boolean {
  if (m === null || typeof m !== "object") return v === m;
  const [op, arg] = Object.entries(m)[0] ?? [];
  switch (op) {
    case "prefix":
      return typeof v === "string" && (isIgnoreCase(arg) ? v.toLowerCase().startsWith(ignoreCase(arg)) : v.startsWith(arg as string));
    case "suffix":
      return typeof v === "string" && (isIgnoreCase(arg) ? v.toLowerCase().endsWith(ignoreCase(arg)) : v.endsWith(arg as string));
    case "equals-ignore-case":
      return typeof v === "string" && v.toLowerCase() === String(arg).toLowerCase();
    case "wildcard":
      return typeof v === "string" && wildcardRegExp(arg as string).test(v);
    case "numeric":
      return typeof v === "number" && numericMatch(arg as (string | number)[], v);
    case "cidr":
      return typeof v === "string" && inCidr(v, arg as string);
    case "anything-but":
      return anythingBut(arg, v);
    default:
      return false;
  }
}

const isIgnoreCase = (arg: unknown): arg is { "equals-ignore-case": string } => typeof arg === "object" && arg !== null && "equals-ignore-case" in arg;
const ignoreCase = (arg: { "equals-ignore-case": string }) => arg["equals-ignore-case"].toLowerCase();

function anythingBut(arg: unknown, v: unknown): boolean {
  if (Array.isArray(arg)) return !arg.some((a) => a === v);
  if (arg !== null && typeof arg === "object") {
    const [op, inner] = Object.entries(arg)[0] ?? [];
    if (typeof v !== "string") return op === undefined;
    const list = Array.isArray(inner) ? (inner as string[]) : [inner as string];
    switch (op) {
      case "prefix":
        return !list.some((p) => v.startsWith(p));
      case "suffix":
        return !list.some((p) => v.endsWith(p));
      case "equals-ignore-case":
        return !list.some((p) => v.toLowerCase() === p.toLowerCase());
      case "wildcard":
        return !list.some((p) => wildcardRegExp(p).test(v));
      default:
        return false;
    }
  }
  return v !== arg;
}

/** `*` matches any run of characters; `\*` is a literal star; everything else is literal. */
export function wildcardRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && pattern[i + 1] === "*") {
      re += "\\*";
      i++;
    } else if (c === "*") re += ".*";
    else re += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

function numericMatch(spec: (string | number)[], v: number): boolean {
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const op = spec[i];
    const n = spec[i + 1] as number;
    const ok = op === "=" ? v === n : op === "<" ? v < n : op === "<=" ? v <= n : op === ">" ? v > n : op === ">=" ? v >= n : false;
    if (!ok) return false;
  }
  return true;
}

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** IPv4 CIDR containment (the form EventBridge's `cidr` matcher is used with for sourceIPAddress). */
function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const a = ipv4ToInt(ip);
  const b = ipv4ToInt(base);
  const bits = Number(bitsText);
  if (a === null || b === null || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}

/** Problems that would make EventBridge reject a pattern or make it match nothing: caught in tests, not at deploy. */
export function validatePattern(pattern: unknown, at = "pattern"): string[] {
  const problems: string[] = [];
  if (typeof pattern !== "object" || pattern === null || Array.isArray(pattern)) return [`${at}: must be an object`];
  for (const [field, spec] of Object.entries(pattern)) {
    const where = `${at}.${field}`;
    if (field === "$or") {
      if (!Array.isArray(spec) || spec.length < 2) problems.push(`${where}: $or needs at least two sub-patterns`);
      else spec.forEach((s, i) => problems.push(...validatePattern(s, `${where}[${i}]`)));
      continue;
    }
    if (Array.isArray(spec)) {
      if (spec.length === 0) problems.push(`${where}: empty array matches nothing`);
      for (const m of spec) {
        if (m === null || typeof m !== "object") continue;
        const keys = Object.keys(m);
        if (keys.length !== 1 || !OPERATORS.has(keys[0])) {
          problems.push(`${where}: unknown operator ${JSON.stringify(keys)}`);
          continue;
        }
        const arg = (m as Record<string, unknown>)[keys[0]];
        if (keys[0] === "numeric") {
          const ok =
            Array.isArray(arg) &&
            arg.length % 2 === 0 &&
            arg.length > 0 &&
            arg.every((x, i) => (i % 2 === 0 ? ["=", "<", "<=", ">", ">="].includes(x as string) : typeof x === "number"));
          if (!ok) problems.push(`${where}: numeric needs [op, number, ...] pairs`);
        }
        if (keys[0] === "exists" && typeof arg !== "boolean") problems.push(`${where}: exists takes true or false`);
        if ((keys[0] === "prefix" || keys[0] === "suffix") && typeof arg !== "string" && !isIgnoreCase(arg)) problems.push(`${where}: ${keys[0]} takes a string`);
        if (keys[0] === "wildcard" && (typeof arg !== "string" || /\*\*/.test(arg))) problems.push(`${where}: wildcard takes a string without consecutive stars`);
      }
    } else if (typeof spec === "object" && spec !== null) problems.push(...validatePattern(spec, where));
    else problems.push(`${where}: values must be in an array`);
  }
  return problems;
}
