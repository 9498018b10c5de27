/**
 * What a Lambda handler module reads from its environment. The variable names are the contract between the component
 * that sets them and the handler that reads them: each handler module exports its names as constants, and both sides
 * use the constants. A function deployed without one of them fails at cold start with the names that are missing,
 * not later with `undefined` in an API call.
 */

/** The named variables, or an error naming every one that is missing or empty. */
export function requireEnv<K extends string>(env: NodeJS.ProcessEnv, names: readonly K[], handler: string): Record<K, string> {
  const missing = names.filter((n) => !env[n]);
  if (missing.length) throw new Error(`${handler}: environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set (set by the component that deploys this function)`);
  const out = {} as Record<K, string>;
  for (const n of names) out[n] = env[n]!;
  return out;
}

/** A JSON variable (settings the component serialized), with the variable's name in the error if it does not parse. */
export function jsonEnv<T>(value: string, name: string, handler: string): T {
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
