/**
 * Reading a Lambda's environment in a handler module (`functions/<feature>/handler.ts`): the component sets the
 * variables, the handler reads them by the same exported constant names. A variable the component did not set is a
 * deploy mistake, reported by name at cold start rather than as an undefined table name at the first request.
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
