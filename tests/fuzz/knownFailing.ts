/**
 * Causes of crashes the property tests count and print instead of failing, while the fix lives elsewhere. Empty: the
 * deny analysis (parseMessage.ts, iamActions.ts, analyze.ts) no longer throws on any mutation the fuzz makes (unknown
 * service prefixes give unmappedAction, prototype-member action names never reach a lookup, parsing is linear).
 * Add an entry only with the issue that owns the fix; an empty list is the goal.
 */
export const KNOWN_FAILING: { id: string; owner: string; matches: (e: Error) => boolean }[] = [];
