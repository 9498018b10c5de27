/**
 * EventBridge content filtering, so the patterns that deploy are the patterns the offline tools and tests run.
 *
 * Semantics follow the reference and the engine behind it (aws/event-ruler):
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * - a pattern field holds an array of matchers: the field matches if ANY of them matches (OR);
 * - the fields of a pattern object must all match (AND); `$or` holds two or more sub-patterns, any of which may match;
 * - an event field holding an array matches if ANY element matches; objects inside arrays are matched one element
 *   at a time, so two fields of one sub-pattern never match in two different elements (array consistency);
 * - a field the event lacks matches nothing but `{"exists": false}` (not even `anything-but`);
 * - operators only look at leaf values (string, number, boolean, null); an object is not a leaf;
 * - `$or` forks the pattern into branches, each a map from path (`detail.errorCode`) to matchers; a path written
 *   again inside a branch REPLACES the outer condition for that branch (the one written later wins), it is not ANDed
 *   with it (event-ruler JsonRuleCompiler.writeRules: `rule.put(name, values)`; JsonRuleCompilerTest
 *   testWithRuleOverride: `{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"condition1":["x"]}]}` matches
 *   `{"name":"c"}`). With overriding off, event-ruler refuses such a pattern ("Path `name` cannot be allowed multiple
 *   times"), so validatePattern refuses it too: either way it does not mean what it seems to;
 * - `equals-ignore-case` expands each character of the pattern into its lower and its upper case (Java
 *   `toLowerCase/toUpperCase(Locale.ROOT)`) and the value must spell one of them at every position; the value itself
 *   is not case-folded (event-ruler input/EqualsIgnoreCaseParser; EqualsIgnoreCaseParserTest: "1aA*†Éⱥ").
 */

export type MatchValue = string | number | boolean | null;
/** A literal to equal, or an operator object such as `{ "prefix": "AccessDenied" }`. */
export type Matcher = MatchValue | { readonly [operator: string]: unknown };
export interface EventPattern {
  readonly [field: string]: readonly Matcher[] | EventPattern | readonly EventPattern[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isLeaf = (v: unknown): v is MatchValue => v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** Arrays nested in arrays are crushed into one list, as the engine does. */
const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);

/** `$or` is the OR primitive only as an array of two or more objects; otherwise it is an ordinary field name. */
const isOrPrimitive = (spec: unknown): spec is readonly EventPattern[] => Array.isArray(spec) && spec.length >= 2 && spec.every(isObject);

/** True when `event` matches `pattern` as EventBridge would route it. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

/**
 * `pattern` turned into a test function once, for callers that match many events against one pattern (replay
 * routes every record of a log through the same three patterns): operators are resolved, wildcard regexps and CIDR
 * ranges are built once, and the common case of a field holding one plain value allocates nothing. Same semantics
 * as `matchesPattern`, which is this function applied once. The pattern is read when compiling: compile again after
 * changing it (the shared patterns are frozen).
 */
export function compilePattern(pattern: EventPattern): (event: unknown) => boolean {
  if (!hasOr(pattern)) {
    const test = compileObject(pattern);
    return (event) => isObject(event) && test(event);
  }
  // Each branch as event-ruler builds it (paths overridden as it overrides them), matched on its own: any may match.
  const tests = orBranches(pattern).map((b) => compileObject(branchPattern(b)));
  return (event) => {
    if (!isObject(event)) return false;
    for (let i = 0; i < tests.length; i++) if (tests[i](event)) return true;
    return false;
  };
}

/** True when some object of the pattern holds a `$or` OR primitive. */
function hasOr(pattern: unknown): boolean {
  if (!isObject(pattern)) return false;
  return Object.entries(pattern).some(([field, spec]) => (field === "$or" && isOrPrimitive(spec)) || (isObject(spec) && hasOr(spec)));
}

/** One sub-rule: event-ruler's path name (`detail.errorCode`) -> the path's segments and its matchers. */
export type Branch = Map<string, { path: string[]; spec: unknown }>;

/**
 * The pattern's sub-rules exactly as event-ruler's JsonRuleCompiler forks them: fields before a `$or` are copied
 * into every branch, fields after it are written into every branch, and writing a path a branch already holds
 * replaces it (`onRepeat` is told, so validatePattern can refuse it). Paths are named with dots, as event-ruler
 * names them. A pattern without `$or` is one branch.
 */
export function orBranches(pattern: EventPattern, onRepeat?: (name: string) => void): Branch[] {
  const write = (rules: Branch[], path: string[], spec: unknown) => {
    if (rules.length === 0) rules.push(new Map());
    const name = path.join(".");
    for (const rule of rules) {
      if (rule.has(name)) onRepeat?.(name);
      rule.set(name, { path, spec });
    }
  };
  const walk = (rules: Branch[], node: Json, path: string[]) => {
    for (const [field, spec] of Object.entries(node)) {
      if (field === "$or" && isOrPrimitive(spec)) {
        // parseIntoOrRelationship: every branch starts from a copy of what was written so far.
        const current = rules.splice(0);
        for (const branch of spec) {
          const forked = current.length > 0 ? current.map((r) => new Map(r)) : [new Map()];
          walk(forked, branch as Json, path);
          rules.push(...forked);
        }
      } else if (isObject(spec)) walk(rules, spec, [...path, field]);
      else write(rules, [...path, field], spec);
    }
  };
  const rules: Branch[] = [];
  walk(rules, pattern as Json, []);
  return rules.length > 0 ? rules : [new Map()];
}

/** A branch back as a nested pattern (no `$or`), so objects inside arrays keep being matched one element at a time. */
function branchPattern(branch: Branch): EventPattern {
  const root: Json = {};
  for (const { path, spec } of branch.values()) {
    let node = root;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      // A path that is also a leaf (`a` and `a.b` in one branch): the later one wins here, event-ruler keeps both
      // (an event then needs an array holding a value and an object at `a`). validatePattern reports it.
      if (!isObject(next)) node[path[i]] = {};
      node = node[path[i]] as Json;
    }
    node[path[path.length - 1]] = spec;
  }
  return root as EventPattern;
}

type NodeTest = (node: Json) => boolean;

/** All fields of a pattern object must match (AND). */
function compileObject(pattern: EventPattern): NodeTest {
  const tests = Object.entries(pattern).map(([field, spec]) => compileField(field, spec));
  return (node) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](node)) return false;
    return true;
  };
}

/**
 * The field's own value, or undefined when the event lacks it. A field that is present but undefined (not JSON, but
 * possible in code) holds no leaf and no object either, so it matches exactly as a missing one: checking the value
 * first spares the own-property test for every field an event lacks.
 */
function ownValue(node: Json, field: string): unknown {
  const value = node[field];
  return value === undefined || !Object.prototype.hasOwnProperty.call(node, field) ? undefined : value;
}

function compileField(field: string, spec: unknown): NodeTest {
  // No `$or` primitive reaches here: compilePattern has split the pattern into its branches.
  if (Array.isArray(spec)) {
    const leaf = compileLeaf(spec as readonly Matcher[]);
    return (node) => {
      const value = ownValue(node, field);
      if (value === undefined) return leaf.none;
      // The common case: one leaf value, no array to flatten.
      return isLeaf(value) ? leaf.one(value) : leaf.many(flatten(value).filter(isLeaf));
    };
  }
  if (!isObject(spec)) {
    // Not a pattern (validatePattern reports it): compiled only when reached, so it fails where it always did.
    let compiled: NodeTest | undefined;
    return (node) => (compiled ??= compileNested(field, spec as EventPattern))(node);
  }
  return compileNested(field, spec as EventPattern);
}

/**
 * A nested pattern: some object at this path must match all of it. With no object here, the sub-pattern still
 * matches when all it asks is that fields be absent (matched against an empty object: a constant, worked out once).
 */
function compileNested(field: string, spec: EventPattern): NodeTest {
  const sub = compileObject(spec);
  let noObject: boolean | undefined;
  const whenNoObject = () => (noObject ??= sub({}));
  return (node) => {
    const value = ownValue(node, field);
    if (value === undefined) return whenNoObject();
    if (isObject(value)) return sub(value);
    const objects = flatten(value).filter(isObject);
    return objects.length > 0 ? objects.some(sub) : whenNoObject();
  };
}

/**
 * A field's matchers (OR): `none` when the field has no leaf value (missing, empty, or only objects), `one` for a
 * single leaf, `many` for the leaves of an array. `exists` looks only at whether there are any leaves.
 */
function compileLeaf(matchers: readonly Matcher[]): { none: boolean; one: (v: MatchValue) => boolean; many: (leaves: MatchValue[]) => boolean } {
  const exists: unknown[] = [];
  const literals: unknown[] = [];
  const operators: ((v: MatchValue) => boolean)[] = [];
  for (const m of matchers) {
    if (isObject(m) && "exists" in m) exists.push(m.exists);
    else if (!isObject(m)) literals.push(m);
    else operators.push(compileValue(m));
  }
  const none = exists.includes(false);
  const whenPresent = exists.includes(true);
  // indexOf compares with ===, as EventBridge compares a literal with a value.
  const one = (v: MatchValue) => {
    if (whenPresent || literals.indexOf(v) !== -1) return true;
    for (let i = 0; i < operators.length; i++) if (operators[i](v)) return true;
    return false;
  };
  return { none, one, many: (leaves) => (leaves.length === 0 ? none : leaves.some(one)) };
}

const never = () => false;

function compileValue(m: Matcher): (v: MatchValue) => boolean {
  if (!isObject(m)) return (v) => v === m;
  const [op, arg] = Object.entries(m)[0] ?? [];
  switch (op) {
    case "prefix":
      return stringTest(arg, (s, p) => s.startsWith(p), "start");
    case "suffix":
      return stringTest(arg, (s, p) => s.endsWith(p), "end");
    case "equals-ignore-case": {
      if (typeof arg !== "string") return never;
      const re = new RegExp(`^${ignoreCaseSource(arg)}$`);
      return (v) => typeof v === "string" && re.test(v);
    }
    case "wildcard": {
      if (typeof arg !== "string") return never;
      const re = wildcardRegExp(arg);
      return (v) => typeof v === "string" && re.test(v);
    }
    case "numeric":
      return Array.isArray(arg) ? (v) => typeof v === "number" && numericMatch(arg, v) : never;
    case "cidr": {
      const range = typeof arg === "string" ? parseCidr(arg) : null;
      return range ? (v) => typeof v === "string" && inRange(v, range) : never;
    }
    case "anything-but":
      return anythingBut(arg);
    default:
      return never;
  }
}

/** prefix/suffix take a string, or `{"equals-ignore-case": string}` to compare without case (anchored at one end). */
function stringTest(arg: unknown, test: (s: string, p: string) => boolean, anchor: "start" | "end"): (v: MatchValue) => boolean {
  if (typeof arg === "string") return (v) => typeof v === "string" && test(v, arg);
  if (isObject(arg) && typeof arg["equals-ignore-case"] === "string") {
    const source = ignoreCaseSource(arg["equals-ignore-case"]);
    const re = new RegExp(anchor === "start" ? `^${source}` : `${source}$`);
    return (v) => typeof v === "string" && re.test(v);
  }
  return never;
}

/**
 * equals-ignore-case as event-ruler matches it (input/EqualsIgnoreCaseParser, used for equals-ignore-case, its prefix
 * and suffix forms and anything-but's): each character of the PATTERN stands for exactly its lower case or its upper
 * case (`toLowerCase/toUpperCase(Locale.ROOT)`, the same default Unicode mappings as JavaScript's), and the value must
 * spell one of the two at each position. So "ß" matches "ß" and "SS" (its upper case) but not "ss"; the Kelvin sign
 * "K" matches "k" but not the letter "K"; titlecase "ǅ" matches "ǆ" and "Ǆ" but not itself. A regular expression of
 * alternatives, built once. Characters outside the BMP are taken whole here (event-ruler splits them into UTF-16 halves,
 * which have no case).
 */
function ignoreCaseSource(pattern: string): string {
  let re = "";
  for (const c of pattern) {
    const lower = escapeRegExp(c.toLowerCase());
    const upper = escapeRegExp(c.toUpperCase());
    re += lower === upper ? lower : `(?:${lower}|${upper})`;
  }
  return re;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * anything-but: a value, a list, or `{prefix|suffix|wildcard|equals-ignore-case: string | string[]}`. The engine
 * compares JSON text, so a string exclusion never excludes a number, boolean or null: those match.
 */
function anythingBut(arg: unknown): (v: MatchValue) => boolean {
  if (!isObject(arg)) {
    const excluded = Array.isArray(arg) ? arg : [arg];
    return (v) => !excluded.some((a) => a === v);
  }
  const [op, inner] = Object.entries(arg)[0] ?? [];
  const list = (Array.isArray(inner) ? inner : [inner]).filter((x): x is string => typeof x === "string");
  const unlessString = (test: (v: string) => boolean) => (v: MatchValue) => typeof v !== "string" || test(v);
  switch (op) {
    case "prefix":
      return unlessString((v) => !list.some((p) => v.startsWith(p)));
    case "suffix":
      return unlessString((v) => !list.some((p) => v.endsWith(p)));
    case "equals-ignore-case": {
      const res = list.map((p) => new RegExp(`^${ignoreCaseSource(p)}$`));
      return unlessString((v) => !res.some((re) => re.test(v)));
    }
    case "wildcard": {
      const res = list.map(wildcardRegExp);
      return unlessString((v) => !res.some((re) => re.test(v)));
    }
    default:
      return unlessString(never);
  }
}

/**
 * The wildcard grammar: `*` matches any run of characters (none included), `\*` is a literal star, `\\` a literal
 * backslash; everything else is literal and the whole value must match.
 */
export function wildcardRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && (pattern[i + 1] === "*" || pattern[i + 1] === "\\")) re += "\\" + pattern[++i];
    else if (c === "*") re += ".*";
    else re += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

// Arrays, not Sets: module state captured by a CallbackFunction is serialized, and Sets do not survive it.
const LOWER = [">", ">="];
const UPPER = ["<", "<="];

/** `["=", n]`, or a lower bound, an upper bound, or a lower then an upper bound (`[">=", 4, "<", 7]`). */
function numericMatch(spec: readonly unknown[], v: number): boolean {
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const n = spec[i + 1];
    if (typeof n !== "number") return false;
    const op = spec[i];
    const ok = op === "=" ? v === n : op === "<" ? v < n : op === "<=" ? v <= n : op === ">" ? v > n : op === ">=" ? v >= n : false;
    if (!ok) return false;
  }
  return true;
}

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address as bytes, or null. No BigInt: Lambda closures must serialize. */
function ipBytes(ip: string): number[] | null {
  if (ip.includes(".") && !ip.includes(":")) {
    const parts = ip.split(".");
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
    return parts.map(Number);
  }
  if (!ip.includes(":")) return null;
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]);
}

function parseCidr(cidr: string): { base: number[]; bits: number } | null {
  const [addr, bitsText, extra] = cidr.split("/");
  const base = ipBytes(addr ?? "");
  const bits = Number(bitsText);
  if (!base || extra !== undefined || !/^\d+$/.test(bitsText ?? "") || bits > base.length * 8) return null;
  return { base, bits };
}

/** CIDR containment for IPv4 and IPv6 (the reference's `cidr` works with both); `range` from parseCidr. */
function inRange(ip: string, range: { base: number[]; bits: number }): boolean {
  const addr = ipBytes(ip);
  if (!addr || addr.length !== range.base.length) return false;
  for (let bit = 0; bit < range.bits; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((addr[bit >> 3] & mask) !== (range.base[bit >> 3] & mask)) return false;
  }
  return true;
}

// ---- validation: what EventBridge's PutRule would reject, or a typo that silently matches nothing ----

/**
 * EventBridge's "Event pattern size" quota: 2,048 characters by default, adjustable (to 4,096) through Service
 * Quotas. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
 */
export const EVENT_PATTERN_MAX_CHARS = 2048;

/** The pattern as PutRule receives it (JSON without whitespace, as the components serialize it), measured; null when it fits. */
export function patternSizeProblem(pattern: unknown, maxChars = EVENT_PATTERN_MAX_CHARS): string | null {
  const size = JSON.stringify(pattern).length;
  return size > maxChars ? `pattern: ${size} characters, more than EventBridge's event pattern size quota of ${maxChars}` : null;
}

/**
 * Throws when a rule's pattern would fail PutRule or route differently than it reads: every component calls it before
 * declaring a rule, so `npm run plan` fails where `pulumi up` would (or, worse, where the rule would deploy and mean
 * something else). `quotaHint` says which config key raises the size quota, if any.
 */
export function assertDeployablePattern(rule: string, pattern: unknown, maxChars = EVENT_PATTERN_MAX_CHARS, quotaHint = ""): void {
  const size = patternSizeProblem(pattern, maxChars);
  const problems = [...validatePattern(pattern), ...(size ? [size + quotaHint] : [])];
  if (problems.length > 0) throw new Error(`event rule ${rule}: ${problems.join("; ")}`);
}

const ANYTHING_BUT_FORMS = ["prefix", "suffix", "wildcard", "equals-ignore-case"];
/** The engine's numeric range: values outside it cannot be compared. */
const NUMERIC_LIMIT = 5e9;

/**
 * Problems in a pattern, each as `path: what is wrong`; empty when the pattern is valid. Checks the grammar the engine
 * compiles (aws/event-ruler JsonRuleCompiler) so a typo fails a test instead of `pulumi up` or, worse, a rule that
 * never fires.
 */
export function validatePattern(pattern: unknown, at = "pattern"): string[] {
  const problems = validateNode(pattern, at);
  if (problems.length > 0 || !isObject(pattern)) return problems;
  return [...repeatedPathProblems(pattern as EventPattern, at), ...leafAndObjectProblems(pattern as EventPattern, at)];
}

/**
 * A path constrained twice in one branch: outside and inside a `$or` branch (or in two nested `$or`s). event-ruler
 * either lets the later condition replace the earlier one for that branch (with overriding, the default: the
 * conditions are NOT ANDed) or refuses the pattern ("Path `detail.errorCode` cannot be allowed multiple times",
 * JsonRuleCompiler.writeRules without overriding). Either way the pattern does not mean what it reads as: put the
 * condition in each branch instead.
 */
function repeatedPathProblems(pattern: EventPattern, at: string): string[] {
  const repeated = new Set<string>();
  orBranches(pattern, (name) => repeated.add(name));
  return [...repeated].map(
    (name) =>
      `${at}: path ${name} is constrained both outside and inside a $or branch (EventBridge's engine does not AND the two: ` +
      `the later one replaces the other for that branch, or the rule is refused as "Path \`${name}\` cannot be allowed multiple times"); ` +
      `put the condition in each branch instead`,
  );
}

/** A path that is both a value and an object in one branch (`a: [..]` and `a: { b: [..] }`): matches only odd events. */
function leafAndObjectProblems(pattern: EventPattern, at: string): string[] {
  const problems = new Set<string>();
  for (const branch of orBranches(pattern)) {
    const names = [...branch.keys()];
    for (const n of names) if (names.some((m) => m.startsWith(n + "."))) problems.add(`${at}: path ${n} is both a value and an object`);
  }
  return [...problems];
}

function validateNode(pattern: unknown, at: string): string[] {
  if (!isObject(pattern)) return [`${at}: must be an object`];
  const entries = Object.entries(pattern);
  if (entries.length === 0) return [`${at}: empty objects are not allowed`];
  const problems: string[] = [];
  for (const [field, spec] of entries) {
    const where = `${at}.${field}`;
    if (field === "$or") {
      if (!isOrPrimitive(spec)) problems.push(`${where}: $or needs an array of at least two objects`);
      else spec.forEach((s, i) => problems.push(...validateOrBranch(s, `${where}[${i}]`)));
    } else if (Array.isArray(spec)) {
      if (spec.length === 0) problems.push(`${where}: empty arrays are not allowed`);
      spec.forEach((m) => problems.push(...validateMatcher(m, where)));
    } else if (isObject(spec)) problems.push(...validateNode(spec, where));
    else problems.push(`${where}: values must be in an array`);
  }
  return problems;
}

/**
 * Field names event-ruler reserves inside `$or` branches, at any depth (Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP:
 * the operators, the numeric comparisons, and names kept for future operators); JsonRuleCompiler refuses them there
 * ("... is Ruler reserved fieldName which cannot be used inside $or.").
 */
const RESERVED_IN_OR = [
  "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric", "cidr",
  "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case",
  "date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
];

/** A reserved name used as a field anywhere inside `$or` means a misplaced operator, not an OR branch. */
function validateOrBranch(branch: EventPattern, at: string): string[] {
  const reserved = (node: unknown, where: string): string[] =>
    isObject(node)
      ? Object.entries(node).flatMap(([k, v]) =>
          RESERVED_IN_OR.includes(k) ? [`${where}: ${k} is reserved and cannot be a field name inside $or`] : k === "$or" && Array.isArray(v) ? [] : reserved(v, `${where}.${k}`),
        )
      : [];
  const misplaced = reserved(branch, at);
  return misplaced.length > 0 ? misplaced : validateNode(branch, at);
}

function validateMatcher(m: unknown, where: string): string[] {
  if (isLeaf(m)) return [];
  if (!isObject(m)) return [`${where}: a matcher must be a string, number, boolean, null or operator object`];
  const keys = Object.keys(m);
  if (keys.length !== 1) return [`${where}: an operator object needs exactly one key, got ${JSON.stringify(keys)}`];
  const op = keys[0];
  const arg = m[op];
  const bad = (msg: string) => [`${where}: ${msg}`];
  switch (op) {
    case "prefix":
    case "suffix":
      if (typeof arg === "string") return [];
      if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg["equals-ignore-case"] === "string") return [];
      return bad(`${op} takes a string or {"equals-ignore-case": string}`);
    case "equals-ignore-case":
      return typeof arg === "string" ? [] : bad("equals-ignore-case takes a string");
    case "wildcard":
      return typeof arg === "string" ? wildcardProblems(arg).map((p) => `${where}: ${p}`) : bad("wildcard takes a string");
    case "exists":
      return typeof arg === "boolean" ? [] : bad("exists takes true or false");
    case "cidr":
      return typeof arg === "string" && parseCidr(arg) ? [] : bad(`cidr takes an IPv4 or IPv6 CIDR block, got ${JSON.stringify(arg)}`);
    case "numeric":
      return numericProblems(arg).map((p) => `${where}: ${p}`);
    case "anything-but":
      return anythingButProblems(arg).map((p) => `${where}: ${p}`);
    default:
      return bad(`unknown operator ${JSON.stringify(op)}`);
  }
}

function wildcardProblems(p: string): string[] {
  if (/\*\*/.test(p.replace(/\\[\\*]/g, "__"))) return ["wildcard must not have consecutive *"];
  if (/\\([^\\*]|$)/.test(p.replace(/\\[\\*]/g, "__"))) return ["wildcard: a backslash may only escape * or \\"];
  return [];
}

function numericProblems(arg: unknown): string[] {
  if (!Array.isArray(arg) || arg.length === 0) return ["numeric needs a non-empty array"];
  const pairs: [unknown, unknown][] = [];
  for (let i = 0; i < arg.length; i += 2) pairs.push([arg[i], arg[i + 1]]);
  for (const [op, n] of pairs) {
    if (typeof n !== "number") return [`numeric: ${JSON.stringify(op)} needs a number, got ${JSON.stringify(n)}`];
    if (Math.abs(n) > NUMERIC_LIMIT) return [`numeric: ${n} is outside ±${NUMERIC_LIMIT}`];
  }
  const ops = pairs.map(([op]) => op as string);
  const shapeOk =
    (ops.length === 1 && (ops[0] === "=" || LOWER.includes(ops[0]) || UPPER.includes(ops[0]))) || (ops.length === 2 && LOWER.includes(ops[0]) && UPPER.includes(ops[1]));
  if (!shapeOk) return [`numeric: ${JSON.stringify(arg)} is not ["=", n], one bound, or a lower then an upper bound`];
  if (ops.length === 2 && (pairs[0][1] as number) >= (pairs[1][1] as number)) return [`numeric: empty range ${JSON.stringify(arg)}`];
  return [];
}

function anythingButProblems(arg: unknown): string[] {
  if (typeof arg === "number") return Math.abs(arg) > NUMERIC_LIMIT ? [`anything-but: numbers must be within ±${NUMERIC_LIMIT}`] : [];
  if (typeof arg === "string") return [];
  if (Array.isArray(arg)) {
    if (arg.length === 0) return ["anything-but list must not be empty"];
    const allStrings = arg.every((x) => typeof x === "string");
    const allNumbers = arg.every((x) => typeof x === "number");
    if (!allStrings && !allNumbers) return ["anything-but list must be all strings or all numbers"];
    // event-ruler keeps numbers as ComparableNumber, which refuses values outside its range.
    return arg.some((x) => typeof x === "number" && Math.abs(x) > NUMERIC_LIMIT) ? [`anything-but: numbers must be within ±${NUMERIC_LIMIT}`] : [];
  }
  if (!isObject(arg) || Object.keys(arg).length !== 1) return ["anything-but takes a string, number, list, or one operator object"];
  const [form, inner] = Object.entries(arg)[0];
  if (!ANYTHING_BUT_FORMS.includes(form)) return [`anything-but does not support ${JSON.stringify(form)}`];
  const list = Array.isArray(inner) ? inner : [inner];
  if (list.length === 0 || !list.every((x) => typeof x === "string")) return [`anything-but ${form} takes a string or a non-empty list of strings`];
  if ((form === "prefix" || form === "suffix") && list.some((x) => x === "")) return [`anything-but ${form} must not be empty`];
  if (form === "wildcard") return list.flatMap((x) => wildcardProblems(x as string));
  return [];
}
