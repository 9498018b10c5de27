/**
 * One account directory for every message: account id -> name, from Organizations `ListAccounts` (cached per container,
 * dropped when an account event says the list changed) with the names in the stack config taking precedence.
 * ListAccounts is paginated (NextToken, at most 20 per page) and callable only from the management account or the
 * organization's delegated administrator: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html
 */
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { jsonEnv } from "../env";

export interface AccountDirectory {
  /** The account's name, or null when neither the config nor Organizations knows it. */
  nameOf(accountId: string | null | undefined): Promise<string | null>;
  /** All names known now (config over Organizations), for builders that take a plain map. */
  names(): Promise<Record<string, string>>;
  /** Forget the cached list (CreateAccount, CloseAccount, MoveAccount... events). */
  invalidate(): void;
}

export type AccountLister = () => Promise<{ id: string; name: string }[]>;

/** ListAccounts, all pages, through the given client (in the management or delegated administrator account). */
export function organizationsLister(client: OrganizationsClient = new OrganizationsClient({ region: "us-east-1" })): AccountLister {
  return async () => {
    const out: { id: string; name: string }[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListAccountsCommand({ NextToken: token }));
      for (const a of page.Accounts ?? []) if (a.Id && a.Name) out.push({ id: a.Id, name: a.Name });
      token = page.NextToken;
    } while (token);
    return out;
  };
}

/**
 * A directory from config names and an optional lister. A failed listing is not an error for the message: it shows
 * the account id alone and tries again after `retryMs`.
 */
export function accountDirectory(
  opts: { configNames?: Record<string, string>; list?: AccountLister; ttlMs?: number; retryMs?: number; now?: () => number; onFirstError?: (err: unknown) => void } = {},
): AccountDirectory {
  const configNames = opts.configNames ?? {};
  const ttl = opts.ttlMs ?? 3_600_000;
  const retry = opts.retryMs ?? 60_000;
  const clock = opts.now ?? (() => Date.now());
  // A plain object, not a Map: CallbackFunction serializes captured module state (see functions/slack/client.ts).
  const cache: { names?: Record<string, string>; until: number; pending?: Promise<Record<string, string>>; failed?: boolean } = { until: 0 };
  const listed = async (): Promise<Record<string, string>> => {
    if (!opts.list) return {};
    if (cache.until > clock()) return cache.names ?? {};
    if (!cache.pending) {
      cache.pending = opts
        .list()
        .then((accounts) => {
          const names: Record<string, string> = {};
          for (const a of accounts) names[a.id] = a.name;
          cache.names = names;
          cache.until = clock() + ttl;
          return names;
        })
        .catch((err) => {
          cache.until = clock() + retry;
          // Logged once per container: a refused or throttled listing every minute is one finding, not a flood.
          if (!cache.failed) {
            cache.failed = true;
            opts.onFirstError?.(err);
          }
          return cache.names ?? {};
        })
        .finally(() => (cache.pending = undefined));
    }
    return cache.pending;
  };
  return {
    async nameOf(accountId) {
      if (!accountId) return null;
      if (configNames[accountId]) return configNames[accountId];
      return (await listed())[accountId] ?? null;
    },
    async names() {
      return { ...(await listed()), ...configNames };
    },
    invalidate() {
      cache.until = 0;
    },
  };
}

/** Organizations events after which the account list is stale. */
export const ACCOUNT_LIST_EVENTS = ["CreateAccount", "CreateGovCloudAccount", "CloseAccount", "RemoveAccountFromOrganization", "InviteAccountToOrganization", "AcceptHandshake", "MoveAccount"];

/** The config's account names (id -> name, JSON), set by components/accountDirectory.ts accountNamesEnvironment. */
export const ACCOUNT_NAMES_ENV = "ACCOUNT_NAMES";

/** The config's account names from the environment ({} when unset). */
export function configAccountNames(env: NodeJS.ProcessEnv): Record<string, string> {
  return jsonEnv<Record<string, string>>(env, ACCOUNT_NAMES_ENV, {});
}

/**
 * The directory a Lambda builds once per container (in its callbackFactory): the names given (or `ACCOUNT_NAMES`, JSON
 * set by the component) over the organization's, listed at most once an hour. Organizations is a global service whose
 * endpoint is in us-east-1. A throttled, refused or slow listing (two attempts, `timeoutMs` in all) never fails the
 * notice and delays it by at most `timeoutMs`: the message shows config names and ids, the failure is logged once per
 * container, and the listing is tried again after a minute.
 */
export function envAccountDirectory(configNames?: Record<string, string>, log: (line: object) => void = (l) => console.log(JSON.stringify(l)), timeoutMs = 3000): AccountDirectory {
  const lister = organizationsLister(new OrganizationsClient({ region: "us-east-1", maxAttempts: 2 }));
  return accountDirectory({
    configNames: configNames ?? configAccountNames(process.env),
    list: () =>
      Promise.race([
        lister(),
        new Promise<never>((_, reject) => {
          const timer = setTimeout(() => reject(Object.assign(new Error(`ListAccounts took longer than ${timeoutMs} ms`), { name: "TimeoutError" })), timeoutMs);
          timer.unref?.();
        }),
      ]),
    ttlMs: 3_600_000,
    onFirstError: (err) =>
      log({ level: "WARN", message: "Organizations ListAccounts failed: messages show config account names and ids only", error: (err as Error)?.name ?? "Error", detail: String((err as Error)?.message ?? err).slice(0, 300) }),
  });
}

/** True for an Organizations CloudTrail event (EventBridge `AWS API Call via CloudTrail`) that changes the account list. */
export function changesAccountList(event: unknown): boolean {
  const d = (event as { detail?: { eventSource?: unknown; eventName?: unknown } } | null)?.detail;
  return d?.eventSource === "organizations.amazonaws.com" && typeof d.eventName === "string" && ACCOUNT_LIST_EVENTS.includes(d.eventName);
}
