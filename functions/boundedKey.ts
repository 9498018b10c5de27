/**
 * Keys and stored strings that always fit DynamoDB. A partition key is at most 2,048 bytes (UTF-8) and an item at most
 * 400 KB: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-partition-sort-keys
 * Attackers choose resource ids (a secret id may be 2,040 characters), so a key built from them is kept readable up to
 * a bound and then ends in a hash of the whole: the same input always gives the same key, different inputs differ.
 */
import { createHash } from "crypto";

/** At most `maxBytes` UTF-8 bytes; longer keys keep a prefix and `#sha256:<hex>` of the full key. */
export function boundedKey(raw: string, maxBytes = 1024): string {
  if (Buffer.byteLength(raw, "utf8") <= maxBytes) return raw;
  const digest = createHash("sha256").update(raw, "utf8").digest("hex");
  const suffix = `#sha256:${digest}`;
  let prefix = "";
  for (const ch of raw) {
    if (Buffer.byteLength(prefix + ch, "utf8") + suffix.length > maxBytes) break;
    prefix += ch;
  }
  return prefix + suffix;
}

/** A stored string shortened (never dropped) to `maxChars`, marked so a reader knows it was. */
export function boundedText(value: string, maxChars: number): string {
  if (value.length <= maxChars) return value;
  const marker = `…[${value.length - maxChars} more characters]`;
  return value.slice(0, Math.max(0, maxChars - marker.length)) + marker;
}
