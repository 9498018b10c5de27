/**
 * The Lambda handlers of the Slack plumbing every feature shares:
 * - the Slack app's request URL (components/slackApp.ts): verifies, then hands each request to the listeners of the
 *   features whose environment is set (the SG review buttons, the SCP watch command and Detach button);
 * - the outbox poster (components/slackOutbox.ts): posts queued notices once, paced per channel.
 */
import { SG_BOT_ENV } from "../sg/handler";
import { SCP_WATCH_ENV } from "../scp/handler";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { envAccountDirectory } from "../accounts/directory";
import { jsonEnv, requiredEnv } from "../env";
import { registerScpWatch } from "../scp/slack";
import { dynamoWindowStore } from "../scp/store";
import { registerSgReview } from "../sg/revert/adapters";
import { dynamoReviewStore } from "../sg/revert/state";
import { slackAppHandler, type Register } from "./app";
import { outboxSlackClient } from "./client";
import { processOutboxBatch } from "./outbox";
import { dynamoOutboxLedger, dynamoPostedRecorder, sqsDeadLetter, webClientOutboxSlack } from "./outboxAdapters";

/** The secret holding the bot token (xoxb-...): read at run time, never in the environment itself. */
export const BOT_TOKEN_SECRET_ENV = "SLACK_BOT_TOKEN_SECRET";
/** The secret holding the Slack app's signing secret. */
export const SIGNING_SECRET_SECRET_ENV = "SLACK_SIGNING_SECRET_SECRET";

/**
 * The features the Slack app serves, each switched on by its table variable (set by the feature's component through
 * its `SlackFeature` environment), with its settings as JSON.
 */
export const SLACK_APP_FEATURE_ENV = {
  sgReview: { table: SG_BOT_ENV.reviewTable, settings: SG_BOT_ENV.settings },
  scpWatch: { table: SCP_WATCH_ENV.table, settings: SCP_WATCH_ENV.settings },
} as const;

/** The outbox poster's ledger table, dead-letter queue and pacing. */
export const OUTBOX_LEDGER_TABLE_ENV = "OUTBOX_LEDGER_TABLE";
export const OUTBOX_DLQ_URL_ENV = "OUTBOX_DLQ_URL";
/** Milliseconds between two posts to one channel (unset or not a number: 1000). */
export const OUTBOX_MIN_INTERVAL_ENV = "SLACK_MIN_INTERVAL_MS";

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** The Slack app's handler: run once per container. */
export function makeSlackAppHandler(env: NodeJS.ProcessEnv = process.env): LambdaHandler {
  const signingSecretId = requiredEnv(env, SIGNING_SECRET_SECRET_ENV, "the secret holding the Slack signing secret");
  const botTokenSecretId = requiredEnv(env, BOT_TOKEN_SECRET_ENV, "the secret holding the Slack bot token");
  const ddb = new DynamoDBClient({});
  const log = (l: object) => console.log(JSON.stringify(l));
  const register: Register[] = [];
  const featureSettings: { accountNames?: Record<string, string> }[] = [];
  const features = [
    { env: SLACK_APP_FEATURE_ENV.sgReview, what: "the SG review", register: (table: string, settings: any) => registerSgReview({ store: dynamoReviewStore(ddb, table), settings, log }) },
    { env: SLACK_APP_FEATURE_ENV.scpWatch, what: "the SCP watch", register: (table: string, settings: any) => registerScpWatch({ store: dynamoWindowStore(ddb, table), settings, log }) },
  ];
  for (const f of features) {
    const table = env[f.env.table];
    if (!table) continue;
    const settings = jsonEnv<{ accountNames?: Record<string, string> } | undefined>(env, f.env.settings, undefined);
    if (!settings) throw new Error(`environment variable ${f.env.settings} is not set (${f.what}'s settings), while ${f.env.table} is`);
    featureSettings.push(settings);
    register.push(f.register(table, settings));
  }
  // Organizations' account names, under each feature's config names, filled in the background from the first
  // request on: a click or command never waits for ListAccounts within Slack's 3 seconds (the first in a new
  // container may show config names only). Cached an hour per container; a refused listing is logged once.
  const directory = envAccountDirectory({}, log);
  const configured = featureSettings.map((f) => ({ ...(f.accountNames ?? {}) }));
  const refreshNames = () => void directory.names().then((listed) => featureSettings.forEach((f, i) => (f.accountNames = { ...listed, ...configured[i] })));
  const handler = slackAppHandler({ signingSecretId, botTokenSecretId, register });
  return (event, context) => {
    refreshNames();
    return handler(event, context);
  };
}

type OutboxEvent = { Records?: { messageId: string; body: string; messageAttributes?: Record<string, { stringValue?: string }> }[] };

/** The outbox poster's handler: run once per container. */
export function makeOutboxPosterHandler(env: NodeJS.ProcessEnv = process.env) {
  const ddb = new DynamoDBClient({});
  const ledger = dynamoOutboxLedger(ddb, requiredEnv(env, OUTBOX_LEDGER_TABLE_ENV, "the outbox's ledger table"));
  const record = dynamoPostedRecorder(ddb);
  const deadLetter = sqsDeadLetter(new SQSClient({}), requiredEnv(env, OUTBOX_DLQ_URL_ENV, "the outbox's dead-letter queue"));
  const botTokenSecretId = requiredEnv(env, BOT_TOKEN_SECRET_ENV, "the secret holding the Slack bot token");
  const minIntervalMs = Number(env[OUTBOX_MIN_INTERVAL_ENV]) || 1000;
  return async (event: OutboxEvent, context?: { getRemainingTimeInMillis?: () => number }) => {
    const slack = webClientOutboxSlack(await outboxSlackClient(botTokenSecretId));
    return processOutboxBatch(event.Records ?? [], {
      ledger,
      slack,
      record,
      deadLetter,
      minIntervalMs,
      now: () => Date.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      remainingMs: () => (context?.getRemainingTimeInMillis ? context.getRemainingTimeInMillis() : 60_000),
      log: (l) => console.log(JSON.stringify(l)),
    });
  };
}
