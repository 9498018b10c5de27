/**
 * CloudWatch Logs JSON filter patterns: a parser and an evaluator for the subset metric filters on CloudTrail use.
 * The parser validates filter rows from config before deploy (a pattern CloudWatch rejects fails `pulumi up` halfway);
 * the evaluator lets tests and `replay` check which CloudTrail records a row matches.
 *
 * Syntax (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html, section "Using filter
 * patterns to match terms in JSON log events"):
 *   { <selector> <op> <value> }     op: = != (strings, numbers), < > <= >= (numbers)
 *   { <selector> IS TRUE | IS FALSE | IS NULL }   { <selector> NOT EXISTS }
 *   && and || with parentheses; && binds tighter than || here, as in the documented examples, and every pattern this
 *   project ships brackets its groups so no row depends on precedence.
 *   selector: $.a.b, $.a[0].b; value: "quoted" or a bare token; `*` in a string value is a wildcard.
 * A comparison on a field the event lacks does not match (use NOT EXISTS for absence). Patterns are at most 1024
 * characters (PutMetricFilter's filterPattern limit).
 */

export const MAX_PATTERN_LENGTH = 1024;

type Value = { kind: "string"; text: string } | { kind: "number"; value: number; text: string };

export type FilterNode =
  | { kind: "and" | "or"; left: FilterNode; right: FilterNode }
  | { kind: "compare"; path: (string | number)[]; op: "=" | "!=" | "<" | ">" | "<=" | ">="; value: Value }
  | { kind: "is"; path: (string | number)[]; what: "TRUE" | "FALSE" | "NULL" }
  | { kind: "notExists"; path: (string | number)[] };

export class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`${message} at column ${column}`);
    this.name = "FilterSyntaxError";
  }
}

/** Parse `{ ... }`; throws FilterSyntaxError naming the column and what was expected. */
export function parseFilterPattern(pattern: string): FilterNode {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new FilterSyntaxError(`a pattern of at most ${MAX_PATTERN_LENGTH} characters, found ${pattern.length}`, MAX_PATTERN_LENGTH + 1);
  let i = 0;
  const fail = (expected: string): never => {
    const found = i >= pattern.length ? "the end" : JSON.stringify(pattern.slice(i, i + 12));
    throw new FilterSyntaxError(`expected ${expected}, found ${found}`, i + 1);
  };
  const ws = () => {
    while (i < pattern.length && /\s/.test(pattern[i])) i++;
  };
  const eat = (token: string): boolean => {
    ws();
    if (pattern.startsWith(token, i)) {
      i += token.length;
      return true;
    }
    return false;
  };
  const word = (w: string): boolean => {
    ws();
    const re = new RegExp(`^${w}(?![\\w])`, "i");
    const m = re.exec(pattern.slice(i));
    if (!m) return false;
    i += m[0].length;
    return true;
  };

  const selector = (): (string | number)[] => {
    ws();
    if (pattern[i] !== "$") fail("a selector starting with $");
    i++;
    const path: (string | number)[] = [];
    for (;;) {
      if (pattern[i] === ".") {
        i++;
        const m = /^[A-Za-z0-9_@:-]+/.exec(pattern.slice(i));
        if (!m) fail("a field name after '.'");
        path.push(m![0]);
        i += m![0].length;
      } else if (pattern[i] === "[") {
        const m = /^\[(\d+)\]/.exec(pattern.slice(i));
        if (!m) fail("an array index such as [0]");
        path.push(Number(m![1]));
        i += m![0].length;
      } else break;
    }
    if (path.length === 0) fail("a field after $");
    return path;
  };

  const value = (): Value => {
    ws();
    if (pattern[i] === '"') {
      let text = "";
      i++;
      while (i < pattern.length && pattern[i] !== '"') {
        if (pattern[i] === "\\" && i + 1 < pattern.length) i++;
        text += pattern[i++];
      }
      if (pattern[i] !== '"') fail('a closing "');
      i++;
      return { kind: "string", text };
    }
    const m = /^[^\s()&|{}"]+/.exec(pattern.slice(i));
    if (!m) fail("a value (a quoted string, a word or a number)");
    i += m![0].length;
    const text = m![0];
    return /^-?\d+(\.\d+)?$/.test(text) ? { kind: "number", value: Number(text), text } : { kind: "string", text };
  };

  const term = (): FilterNode => {
    if (eat("(")) {
      const inner = or();
      if (!eat(")")) fail("')'");
      return inner;
    }
    const path = selector();
    if (word("IS")) {
      for (const what of ["TRUE", "FALSE", "NULL"] as const) if (word(what)) return { kind: "is", path, what };
      fail("TRUE, FALSE or NULL after IS");
    }
    if (word("NOT")) {
      if (!word("EXISTS")) fail("EXISTS after NOT");
      return { kind: "notExists", path };
    }
    ws();
    const op = (["!=", "<=", ">=", "=", "<", ">"] as const).find((o) => pattern.startsWith(o, i));
    if (!op) return fail("an operator (= != < > <= >=), IS or NOT EXISTS");
    i += op.length;
    const v = value();
    if (op !== "=" && op !== "!=" && v.kind !== "number") fail(`a number after ${op}`);
    return { kind: "compare", path, op, value: v };
  };
  const and = (): FilterNode => {
    let left = term();
    while (eat("&&")) left = { kind: "and", left, right: term() };
    return left;
  };
  const or = (): FilterNode => {
    let left = and();
    while (eat("||")) left = { kind: "or", left, right: and() };
    return left;
  };

  if (!eat("{")) fail("'{' (trailwatch rows are JSON filter patterns)");
  const root = or();
  if (!eat("}")) fail("'}', '&&' or '||'");
  ws();
  if (i < pattern.length) fail("nothing after the closing '}'");
  return root;
}

const MISSING = Symbol("missing");

function lookup(event: unknown, path: (string | number)[]): unknown {
  let cur: unknown = event;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return MISSING;
    const next = (cur as Record<string | number, unknown>)[key];
    if (next === undefined) return MISSING;
    cur = next;
  }
  return cur;
}

function wildcard(text: string): RegExp {
  return new RegExp(`^${text.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
}

function compare(actual: unknown, op: string, v: Value): boolean {
  if (actual === MISSING || actual === null || typeof actual === "object") return false;
  if (op === "=" || op === "!=") {
    let equal: boolean;
    if (v.kind === "number" && typeof actual === "number") equal = actual === v.value;
    else equal = v.text.includes("*") ? wildcard(v.text).test(String(actual)) : String(actual) === v.text;
    return op === "=" ? equal : !equal;
  }
  if (typeof actual !== "number" || v.kind !== "number") return false;
  switch (op) {
    case "<":
      return actual < v.value;
    case ">":
      return actual > v.value;
    case "<=":
      return actual <= v.value;
    default:
      return actual >= v.value;
  }
}

/** Does a parsed pattern match one JSON log event (a CloudTrail record as CloudTrail writes it to CloudWatch Logs)? */
export function matchesFilter(node: FilterNode, event: unknown): boolean {
  switch (node.kind) {
    case "and":
      return matchesFilter(node.left, event) && matchesFilter(node.right, event);
    case "or":
      return matchesFilter(node.left, event) || matchesFilter(node.right, event);
    case "notExists":
      return lookup(event, node.path) === MISSING;
    case "is": {
      const v = lookup(event, node.path);
      return node.what === "NULL" ? v === null : v === (node.what === "TRUE");
    }
    case "compare":
      return compare(lookup(event, node.path), node.op, node.value);
  }
}
