/**
 * Findings and change records are plain JSON of bounded size, whatever a record carried: strings are cut to
 * MAX_FINDING_TEXT characters (an ARN is at most 2,048), nesting to MAX_FINDING_DEPTH, and anything that is not a
 * string, finite number, boolean or null becomes null. They go to DynamoDB items (400 KB), EventBridge entries
 * (256 KB), Slack blocks and replay's output; a record must not be able to push one past a limit or make
 * JSON.stringify throw.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html (entries under 256 KB)
 */
export const MAX_FINDING_TEXT = 2048;
export const MAX_FINDING_DEPTH = 8;

/** A string cut to `max` characters, marked as cut (never splitting a surrogate pair). */
export function clipText(s: string, max = MAX_FINDING_TEXT): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return s.slice(0, end) + "…";
}

/** `value` as bounded plain JSON. Returns the same object when nothing had to change, so the common case is free. */
export function boundedJson<T>(value: T, depth = 0): T {
  const v: unknown = value;
  if (v === null || typeof v === "boolean") return value;
  if (typeof v === "string") return clipText(v) as T;
  if (typeof v === "number") return (Number.isFinite(v) ? v : null) as T;
  if (typeof v !== "object" || depth >= MAX_FINDING_DEPTH) return null as T;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const b = boundedJson(v[i], depth + 1);
      if (b !== v[i]) (out ??= v.slice())[i] = b;
    }
    return (out ?? v) as T;
  }
  let out: Record<string, unknown> | null = null;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    const b = x === undefined ? undefined : boundedJson(x, depth + 1);
    if (b !== x) {
      out ??= { ...(v as Record<string, unknown>) };
      Object.defineProperty(out, k, { value: b, enumerable: true, writable: true, configurable: true });
    }
  }
  return (out ?? v) as T;
}
