/**
 * The replay patterns as one SQL query over the organization trail's Athena table: a WHERE clause that selects
 * exactly the records the patterns match (functions/eventPattern.ts's semantics, checked by tests/athenaSql.test.ts
 * against the matcher over the same records in DuckDB), plus partition predicates for the time range, accounts and
 * regions. One condition model, rendered per dialect (Trino for Athena engine v3, DuckDB for the offline test).
 *
 * The event a pattern sees is the EventBridge envelope replay builds around a record (toEnvelope in
 * functions/cloudtrail.ts, after https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html):
 * - `detail-type` is computed from `eventtype`: AwsConsoleSignIn -> "AWS Console Sign In via CloudTrail",
 *   AwsServiceEvent -> "AWS Service Event via CloudTrail", AwsConsoleAction -> "AWS Console Action via CloudTrail",
 *   AwsVpceEvent -> "AWS Network Activity Event via CloudTrail", anything else (AwsApiCall, absent) -> "AWS API Call
 *   via CloudTrail". So "AWS API Call via CloudTrail" is NOT `eventtype = 'AwsApiCall'`: it is every other eventtype.
 * - `source` is `aws.` + eventSource without `.amazonaws.com` (`aws.` alone when eventSource is absent);
 * - `account` is recipientAccountId, else userIdentity.accountId, else ""; `region` awsRegion or ""; `id` eventID or
 *   ""; `time` eventTime or ""; `version` "0";
 * - `detail.<field>` is the record's field: a column of the table (functions/replay/athenaTable.ts).
 * Booleans (`readOnly`, `managementEvent`) are STRING columns holding `true`/`false`: a pattern's `false` is
 * `lower(readonly) = 'false'` (replay's boundary also reads "FALSE" as false); a string never equals a boolean.
 * A field absent from the record, or JSON null, is SQL NULL (replay's boundary drops null strings too).
 *
 * Refused, with the path and the reason, rather than widened: numeric and cidr matchers (no numeric columns), paths
 * into JSON-text columns (requestParameters, ...), paths the table has no column for, matchers on a struct or array
 * as if it were a value, and `resources` of the envelope.
 */
import { orBranches, validatePattern, type EventPattern } from "../eventPattern";
import { REPLAY_PATTERNS } from "../patterns";
import { CLOUDTRAIL_FIELDS, PARTITIONS, columnOf, ident, literal, outputAlias, outputColumns, selectExpression, type Dialect, type Field } from "./athenaTable";

export type { Dialect } from "./athenaTable";

/** The patterns replay's analysis acts on (the registry's REPLAY_PATTERNS): selecting their union loses no finding. */
export function replayPatterns(): { name: string; pattern: EventPattern }[] {
  return REPLAY_PATTERNS.map((p) => ({ name: p.name, pattern: p.pattern }));
}

// ---- the model ----

/** A value expression: a column (path of lower-cased names, from the row or a lambda's element) or an envelope field. */
export type Expr = { k: "col"; columns: string[]; element?: string } | { k: "envelope"; field: "detail-type" | "source" | "account" | "region" | "id" | "time" | "version" };

export type Cond =
  | { k: "const"; value: boolean }
  | { k: "and" | "or"; of: Cond[] }
  | { k: "not"; of: Cond }
  | { k: "null"; e: Expr }
  | { k: "in"; e: Expr; values: string[]; lower?: boolean }
  | { k: "like"; e: Expr; pattern: string }
  | { k: "regex"; e: Expr; source: string }
  /** Some element of the array column matches `cond` (whose columns are relative to the element `element`). */
  | { k: "any"; array: Expr; element: string; cond: Cond; whenEmpty: boolean };

const TRUE: Cond = { k: "const", value: true };
const FALSE: Cond = { k: "const", value: false };
const and = (of: Cond[]): Cond => simplify({ k: "and", of });
const or = (of: Cond[]): Cond => simplify({ k: "or", of });
const not = (c: Cond): Cond => (c.k === "const" ? { k: "const", value: !c.value } : c.k === "not" ? c.of : { k: "not", of: c });

function simplify(c: { k: "and" | "or"; of: Cond[] }): Cond {
  const unit = c.k === "and";
  const of = c.of.filter((x) => !(x.k === "const" && x.value === unit));
  if (of.some((x) => x.k === "const" && x.value !== unit)) return { k: "const", value: !unit };
  if (of.length === 0) return { k: "const", value: unit };
  return of.length === 1 ? of[0] : { k: c.k, of };
}

/** A value a pattern can test, and how: a string column, a boolean kept as text, or an envelope string (never NULL). */
type Target = { expr: Expr; kind: "string" | "boolean"; nullable: boolean };

export class UntranslatablePattern extends Error {}
const refuse = (path: string, why: string): never => {
  throw new UntranslatablePattern(`${path}: ${why} (refused rather than selecting more or fewer records than the pattern matches)`);
};

const ENVELOPE_FIELDS = ["detail-type", "source", "account", "region", "id", "time", "version"] as const;

/** The condition selecting exactly the records `pattern` matches (as the envelope replay builds). */
export function patternCondition(pattern: EventPattern, at = "pattern"): Cond {
  const problems = validatePattern(pattern, at);
  if (problems.length > 0) throw new UntranslatablePattern(`${at}: not a valid event pattern: ${problems.join("; ")}`);
  return or(orBranches(pattern).map((branch) => envelopeCondition(nest(branch), at)));
}

/** A branch (path -> matchers) back into a nested pattern, so array consistency can be kept per object. */
function nest(branch: Map<string, { path: string[]; spec: unknown }>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const { path, spec } of branch.values()) {
    let node = root;
    for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = spec;
  }
  return root;
}

function envelopeCondition(pattern: Record<string, unknown>, at: string): Cond {
  return and(
    Object.entries(pattern).map(([field, spec]) => {
      const where = `${at}.${field}`;
      if (field === "detail") {
        if (!isObject(spec)) return refuse(where, "detail is an object, not a value");
        return objectCondition(CLOUDTRAIL_FIELDS, spec, [], undefined, where);
      }
      if (!(ENVELOPE_FIELDS as readonly string[]).includes(field)) return refuse(where, `the envelope field ${field} is not translated`);
      if (!Array.isArray(spec)) return refuse(where, `${field} is a value, not an object`);
      return leafCondition({ expr: { k: "envelope", field: field as (typeof ENVELOPE_FIELDS)[number] }, kind: "string", nullable: false }, spec, where);
    }),
  );
}

/** All fields of a sub-pattern over `fields` (a struct's, or an array element's when `element` is set). */
function objectCondition(fields: readonly Field[], pattern: Record<string, unknown>, columns: string[], element: string | undefined, at: string): Cond {
  return and(
    Object.entries(pattern).map(([name, spec]) => {
      const where = `${at}.${name}`;
      // Record keys are case-sensitive (the matcher's), table columns are not: match the CloudTrail name exactly.
      const f = fields.find((x) => x.name === name);
      if (!f) return refuse(where, "the CloudTrail table has no column for this field");
      const cols = [...columns, columnOf(f)];
      const expr: Expr = { k: "col", columns: cols, element };
      if (f.kind === "json") return refuse(where, `${f.name} is kept as JSON text in the table; patterns on it are not translated`);
      if (f.kind === "struct") {
        if (!isObject(spec)) return refuse(where, `${f.name} is an object: a matcher list never matches it as a value`);
        return objectCondition(f.fields, spec, cols, element, where);
      }
      if (f.kind === "array") {
        if (element !== undefined) return refuse(where, "arrays inside arrays are not translated");
        if (!isObject(spec)) return refuse(where, `${f.name} is a list of objects: a matcher list never matches it as a value`);
        const inner = objectCondition(f.element, spec, [], "e", where);
        // No object in the array (absent, empty): the sub-pattern is matched against an empty object, as the matcher does.
        const whenEmpty = matchesEmpty(f.element, spec);
        return { k: "any", array: expr, element: "e", cond: inner, whenEmpty };
      }
      if (!Array.isArray(spec)) return refuse(where, `${f.name} is a value: its pattern must be a list of matchers`);
      return leafCondition({ expr, kind: f.kind, nullable: true }, spec, where);
    }),
  );
}

/** Whether a sub-pattern matches an object with none of its fields: only when every leaf allows absence. */
function matchesEmpty(fields: readonly Field[], pattern: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([name, spec]) => {
    const f = fields.find((x) => x.name === name);
    if (f?.kind === "struct" && isObject(spec)) return matchesEmpty(f.fields, spec);
    return Array.isArray(spec) && spec.some((m) => isObject(m) && m.exists === false);
  });
}

/** A field's matchers (OR). A NULL column is an absent field: only `exists: false` matches it. */
function leafCondition(t: Target, matchers: readonly unknown[], at: string): Cond {
  const present: Cond = t.kind === "boolean" ? { k: "in", e: t.expr, values: ["true", "false"], lower: true } : t.nullable ? not({ k: "null", e: t.expr }) : TRUE;
  // Plain values of the column's type become one IN list (a NULL makes it false: coalesce in the rendering).
  const literals = matchers.filter((m): m is string | boolean => (t.kind === "string" ? typeof m === "string" : typeof m === "boolean"));
  const options: Cond[] = literals.length > 0 ? [{ k: "in", e: t.expr, values: literals.map(String), lower: t.kind === "boolean" }] : [];
  for (const m of matchers) {
    if (literals.includes(m as string | boolean)) continue;
    if (isObject(m) && "exists" in m) options.push(m.exists === true ? present : not(present));
    // anything-but is a negation, true on NULL: it needs the value present. The other operators are false on NULL.
    else if (isObject(m) && "anything-but" in m) options.push(and([present, valueCondition(t, m, at)]));
    else options.push(valueCondition(t, m, at));
  }
  return or(options);
}

/** One matcher against a present value. */
function valueCondition(t: Target, m: unknown, at: string): Cond {
  if (m === null || typeof m === "number") return FALSE; // the column holds strings (or booleans): never null or a number
  if (typeof m === "boolean") return t.kind === "boolean" ? { k: "in", e: t.expr, values: [String(m)], lower: true } : FALSE;
  if (typeof m === "string") return t.kind === "string" ? { k: "in", e: t.expr, values: [m] } : FALSE;
  if (!isObject(m)) return refuse(at, `unknown matcher ${JSON.stringify(m)}`);
  const [op, arg] = Object.entries(m)[0];
  // The string operators never match a boolean.
  const onString = (c: Cond): Cond => (t.kind === "string" ? c : FALSE);
  switch (op) {
    case "prefix":
    case "suffix":
      if (typeof arg === "string") return onString({ k: "like", e: t.expr, pattern: op === "prefix" ? `${likeEscape(arg)}%` : `%${likeEscape(arg)}` });
      if (isObject(arg) && typeof arg["equals-ignore-case"] === "string") {
        const src = ignoreCaseRegex(arg["equals-ignore-case"]);
        return onString({ k: "regex", e: t.expr, source: op === "prefix" ? `^${src}` : `${src}\\z` });
      }
      return refuse(at, `${op} takes a string or {"equals-ignore-case": string}`);
    case "equals-ignore-case":
      return typeof arg === "string" ? onString({ k: "regex", e: t.expr, source: `^${ignoreCaseRegex(arg)}\\z` }) : refuse(at, "equals-ignore-case takes a string");
    case "wildcard":
      return typeof arg === "string" ? onString({ k: "like", e: t.expr, pattern: wildcardToLike(arg) }) : refuse(at, "wildcard takes a string");
    case "anything-but":
      return anythingButCondition(t, arg, at);
    default:
      return refuse(at, `the ${op} operator has no translation for the CloudTrail table's text columns`);
  }
}

function anythingButCondition(t: Target, arg: unknown, at: string): Cond {
  if (!isObject(arg)) {
    const list = Array.isArray(arg) ? arg : [arg];
    // Exclusions of another type never exclude: a number never excludes a string, a string never a boolean.
    const same = list.filter((x) => (t.kind === "string" ? typeof x === "string" : typeof x === "boolean")).map(String);
    return same.length === 0 ? TRUE : not({ k: "in", e: t.expr, values: same, lower: t.kind === "boolean" });
  }
  const [form, inner] = Object.entries(arg)[0];
  const list = (Array.isArray(inner) ? inner : [inner]).filter((x): x is string => typeof x === "string");
  // A non-string value (a boolean) is never excluded by a string form.
  if (t.kind !== "string") return TRUE;
  switch (form) {
    case "prefix":
      return and(list.map((p) => not({ k: "like", e: t.expr, pattern: `${likeEscape(p)}%` })));
    case "suffix":
      return and(list.map((p) => not({ k: "like", e: t.expr, pattern: `%${likeEscape(p)}` })));
    case "wildcard":
      return and(list.map((p) => not({ k: "like", e: t.expr, pattern: wildcardToLike(p) })));
    case "equals-ignore-case":
      return and(list.map((p) => not({ k: "regex", e: t.expr, source: `^${ignoreCaseRegex(p)}\\z` })));
    default:
      return refuse(at, `anything-but ${form} has no translation`);
  }
}

/** LIKE with ESCAPE '\': % and _ and \ literal. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, "\\$&");

/** EventBridge wildcard (`*` any run, `\*` a star, `\\` a backslash) as a LIKE pattern (ESCAPE '\'), whole value. */
export function wildcardToLike(p: string): string {
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\" && (p[i + 1] === "*" || p[i + 1] === "\\")) out += likeEscape(p[++i]);
    else if (c === "*") out += "%";
    else out += likeEscape(c);
  }
  return out;
}

/**
 * equals-ignore-case as the matcher does it: each pattern character stands for its lower or its upper case
 * (functions/eventPattern.ts, after event-ruler). A regular expression both engines read alike (Java for Trino,
 * RE2 for DuckDB): non-capturing groups of literal alternatives, every metacharacter escaped.
 */
function ignoreCaseRegex(pattern: string): string {
  let re = "";
  for (const c of pattern) {
    const lower = regexEscape(c.toLowerCase());
    const upper = regexEscape(c.toUpperCase());
    re += lower === upper ? lower : `(?:${lower}|${upper})`;
  }
  return re;
}
const regexEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

// ---- rendering ----

function exprSql(e: Expr, d: Dialect): string {
  if (e.k === "col") return (e.element ? [e.element] : []).concat(e.columns.map(ident)).join(".");
  const c = (name: string) => ident(name);
  switch (e.field) {
    case "detail-type":
      return `(CASE ${c("eventtype")} WHEN 'AwsConsoleSignIn' THEN 'AWS Console Sign In via CloudTrail' WHEN 'AwsServiceEvent' THEN 'AWS Service Event via CloudTrail' WHEN 'AwsConsoleAction' THEN 'AWS Console Action via CloudTrail' WHEN 'AwsVpceEvent' THEN 'AWS Network Activity Event via CloudTrail' ELSE 'AWS API Call via CloudTrail' END)`;
    case "source":
      // Not a regular expression: `$` differs between Java and JavaScript (before a final newline); LIKE does not.
      return `('aws.' || (CASE WHEN ${c("eventsource")} LIKE '%.amazonaws.com' THEN substr(${c("eventsource")}, 1, length(${c("eventsource")}) - 14) ELSE coalesce(${c("eventsource")}, '') END))`;
    case "account":
      return `coalesce(${c("recipientaccountid")}, ${c("useridentity")}.${c("accountid")}, '')`;
    case "region":
      return `coalesce(${c("awsregion")}, '')`;
    case "id":
      return `coalesce(${c("eventid")}, '')`;
    case "time":
      return `coalesce(${c("eventtime")}, '')`;
    case "version":
      return `'0'`;
  }
  void d;
}

/** A condition as SQL text. Every comparison is wrapped so NULL is false: NOT of a NULL comparison would be NULL. */
export function conditionSql(c: Cond, d: Dialect): string {
  switch (c.k) {
    case "const":
      return c.value ? "TRUE" : "FALSE";
    case "and":
    case "or":
      return `(${c.of.map((x) => conditionSql(x, d)).join(c.k === "and" ? " AND " : " OR ")})`;
    case "not":
      return `(NOT ${conditionSql(c.of, d)})`;
    case "null":
      return `(${exprSql(c.e, d)} IS NULL)`;
    case "in": {
      const e = c.lower ? `lower(${exprSql(c.e, d)})` : exprSql(c.e, d);
      const list = c.values.map(literal).join(", ");
      return `coalesce(${e} IN (${list}), FALSE)`;
    }
    case "like":
      return `coalesce(${exprSql(c.e, d)} LIKE ${literal(c.pattern)} ESCAPE '\\', FALSE)`;
    case "regex":
      // Trino: regexp_like (Joni or Java regex, found anywhere); DuckDB: regexp_matches (RE2, found anywhere). Anchored by the source.
      return `coalesce(${d === "trino" ? "regexp_like" : "regexp_matches"}(${exprSql(c.e, d)}, ${literal(c.source)}), FALSE)`;
    case "any": {
      const arr = exprSql(c.array, d);
      const inner = conditionSql(c.cond, d);
      // Trino: any_match and cardinality; DuckDB: list_filter and len. Lambda syntax `e -> ...` in both.
      const some = d === "trino" ? `coalesce(any_match(${arr}, ${c.element} -> ${inner}), FALSE)` : `coalesce(len(list_filter(${arr}, ${c.element} -> ${inner})) > 0, FALSE)`;
      if (!c.whenEmpty) return some;
      const empty = d === "trino" ? `coalesce(cardinality(${arr}), 0) = 0` : `coalesce(len(${arr}), 0) = 0`;
      return `(${some} OR ${empty})`;
    }
  }
}

// ---- the query ----

export interface ReplayQueryOptions {
  /** `"db"."table"` is built from these; the DuckDB test passes its view's name as table. */
  database?: string;
  table: string;
  /** ISO 8601 instants (inclusive since, exclusive until), as eventTime is written: 2026-01-31T23:59:59Z. */
  since: string;
  until: string;
  accounts?: readonly string[];
  regions?: readonly string[];
  /** Defaults to replayPatterns(). */
  patterns?: { name: string; pattern: EventPattern }[];
}

/** Day partitions are the delivery day, which can be the day after the event (and clocks drift): one day of margin each side. */
const day = (iso: string, deltaDays: number) => new Date(Date.parse(iso) + deltaDays * 86400000).toISOString().slice(0, 10).replace(/-/g, "/");

export function replayWhere(o: ReplayQueryOptions, d: Dialect): string {
  const problems: string[] = [];
  const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
  if (!instant.test(o.since) || Number.isNaN(Date.parse(o.since))) problems.push(`since: expected yyyy-MM-ddTHH:mm:ssZ, found ${JSON.stringify(o.since)}`);
  if (!instant.test(o.until) || Number.isNaN(Date.parse(o.until))) problems.push(`until: expected yyyy-MM-ddTHH:mm:ssZ, found ${JSON.stringify(o.until)}`);
  if (problems.length === 0 && o.since >= o.until) problems.push(`since ${o.since} is not before until ${o.until}`);
  if (o.accounts?.some((a) => !/^\d{12}$/.test(a))) problems.push(`accounts: expected 12-digit ids, found ${JSON.stringify(o.accounts)}`);
  if (o.regions?.some((r) => !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(r))) problems.push(`regions: expected names such as us-east-1, found ${JSON.stringify(o.regions)}`);
  if (problems.length > 0) throw new Error(`replay query: ${problems.join("; ")}`);
  const patterns = (o.patterns ?? replayPatterns()).map(({ name, pattern }) => patternCondition(pattern, name));
  const parts = [
    `${ident(PARTITIONS.day)} BETWEEN ${literal(day(o.since, -1))} AND ${literal(day(o.until, 1))}`,
    `${ident("eventtime")} >= ${literal(o.since)}`,
    `${ident("eventtime")} < ${literal(o.until)}`,
  ];
  if (o.accounts && o.accounts.length > 0) parts.push(`${ident(PARTITIONS.account)} IN (${o.accounts.map(literal).join(", ")})`);
  if (o.regions && o.regions.length > 0) parts.push(`${ident(PARTITIONS.region)} IN (${o.regions.map(literal).join(", ")})`);
  parts.push(conditionSql(or(patterns), d));
  return parts.join("\n  AND ");
}

/** The whole query: the columns recordFromRow reads, the partitions and the patterns, in a stable order. */
export function replayQuery(o: ReplayQueryOptions, d: Dialect): string {
  const from = o.database ? `${ident(o.database)}.${ident(o.table)}` : ident(o.table);
  const select = outputColumns().map((c, i) => `${selectExpression(c, d)} AS ${ident(outputAlias(i))}`).join(",\n  ");
  return `SELECT\n  ${select}\nFROM ${from}\nWHERE ${replayWhere(o, d)}\nORDER BY ${ident("eventtime")}, ${ident("eventid")}`;
}
