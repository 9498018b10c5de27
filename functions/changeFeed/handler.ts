/**
 * The change feed's two Lambda handlers (components/changeFeed.ts runs them):
 * - the normalizer: a central-bus write event in, its change payload (or null) out; Lambda's destinations put the
 *   result on the bus. Pure: no SDK client, no environment variable, no network.
 * - the Slack digest: SQS batches of those results, one digest per environment, handed to the Slack outbox.
 */
import { ACCOUNT_LIST_EVENTS, configAccountNames, envAccountDirectory } from "../accounts/directory";
import { requiredEnv } from "../env";
import { changeDigestNotice } from "../slack/notices";
import { envNoticeSender } from "../slack/outboxAdapters";
import { postChangeDigests } from "./digest";
import { changePayload, type ChangePayload, type NormalizerSettings } from "./payload";

/** The Slack channel the digests go to. */
export const DIGEST_CHANNEL_ENV = "SLACK_CHANNEL_ID";
/** "true": only changes no IaC tool made are posted (the rule filters them too; this drops them from a digest). */
export const DIGEST_OUTSIDE_IAC_ONLY_ENV = "CHANGE_DIGEST_OUTSIDE_IAC_ONLY";

/**
 * The normalizer. Its settings (environments per account, noise lists, FireHydrant ids) are given at deploy time and
 * captured in the function's code rather than its environment: Lambda allows 4 KB of environment variables in all,
 * which an organization's account -> environment map outgrows.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export function makeChangeNormalizerHandler(settings: NormalizerSettings): (event: { id?: string; detail?: unknown }) => Promise<ChangePayload | null> {
  // A plain object captured by value (no Map/Set: they do not survive CallbackFunction's serialization).
  const s = settings;
  return async (event) => {
    const payload = changePayload(event?.detail, s);
    if (payload) console.log(JSON.stringify({ change: payload.change.eventId, environment: payload.change.where.environment, event: payload.change.what.eventName }));
    return payload;
  };
}

/** The Slack digest poster: run once per container, reads its environment (failing on a missing variable). */
export function makeChangeDigestHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: { Records?: { messageId: string; body: string }[] }) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const channel = requiredEnv(env, DIGEST_CHANNEL_ENV, "the Slack channel for change digests");
  const outsideIacOnly = env[DIGEST_OUTSIDE_IAC_ONLY_ENV] === "true";
  const outbox = envNoticeSender(env);
  // Account names: config over Organizations, cached an hour per container; an account created, closed, invited or
  // moved in this batch's changes (an environment that covers the management account) lists again.
  const directory = envAccountDirectory(configAccountNames(env));
  const accountListEvents = ACCOUNT_LIST_EVENTS;
  return async (event) => {
    const out = await postChangeDigests(event.Records ?? [], {
      outsideIacOnly,
      accountNames: async (changes) => {
        if (changes.some((c) => c.what?.service === "organizations" && accountListEvents.includes(c.what?.eventName))) directory.invalidate();
        return directory.names();
      },
      post: (m, environment, messageIds) => outbox.send(changeDigestNotice(m, environment, messageIds, { channel })),
      log: (e) => console.log(JSON.stringify(e)),
    });
    console.log(JSON.stringify({ level: "INFO", message: "batch done", posted: out.posted, changes: out.changes, failed: out.batchItemFailures.length }));
    return { batchItemFailures: out.batchItemFailures };
  };
}
