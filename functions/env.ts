/**
 * Reading a Lambda's environment in a handler module (`functions/<feature>/handler.ts`): the component sets the
 * variables, the handler reads them by the same exported constant names. A variable the component did not set is a
 * deploy mistake, reported by name at cold start rather than as an undefined table name at the first request.
 * `requiredEnv` reads one variable, `requireEnv` a handler's whole list (naming every missing one at once).
 */

/** The value of `name`, or an error naming it and what it is for. */
export function requiredEnv(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const v = env[name];
  if (v === undefined || v === "") throw new Error(`environment variable ${name} is not set (${what}): the function was deployed without it`);
  return v;
}

/** A JSON value from `name` (unset: `fallback`); a value that is not JSON fails naming the variable. */
export function jsonEnv<T>(env: NodeJS.ProcessEnv, name: string, fallback: T): T {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  try {
    return JSON.parse(v) as T;
  } catch (err) {
    throw new Error(`environment variable ${name} is not JSON: ${(err as Error).message}`);
  }
}

/** The named variables, or an error naming every one that is missing or empty. */
export function requireEnv<K extends string>(env: NodeJS.ProcessEnv, names: readonly K[], handler: string): Record<K, string> {
  const missing = names.filter((n) => !env[n]);
  if (missing.length) throw new Error(`${handler}: environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set (set by the component that deploys this function)`);
  const out = {} as Record<K, string>;
  for (const n of names) out[n] = env[n]!;
  return out;
}

/** A JSON variable (settings the component serialized), with the variable's name in the error if it does not parse. */
export function parseJsonEnv<T>(value: string, name: string, handler: string): T {
  try {
    return JSON.parse(value) as T;
  } catch (err) {
    throw new Error(`${handler}: environment variable ${name} is not JSON (${(err as Error).message})`);
  }
}

/** One structured log line (console.log of the JSON), as every trailwatch handler logs. */
export function logJsonLine(line: object): void {
  console.log(JSON.stringify(line));
}
