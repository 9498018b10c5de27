/**
 * The SgRevertBot's Lambda entry points (components/sgRevertBot.ts deploys them): each `make…Handler(env)` reads the
 * environment the component set (names below), builds its clients once per container and returns the handler. The
 * review logic is in ./revert/handlers.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { dynamoReviewStore } from "./revert/state";
import { detectChange, expireReviews, requeueUnposted, revertRules, type BotSettings } from "./revert/handlers";
import { spokeEc2 } from "./revert/adapters";
import { botSlackPort, SLACK_BOT_TOKEN_ENV } from "../slack/port";
import { OUTBOX_QUEUE_ENV, sqsNoticeSender } from "../slack/outboxAdapters";
import { envAccountDirectory } from "../accounts/directory";
import { parseJsonEnv, logJsonLine, requireEnv } from "../env";

/** The environment the SgRevertBot's functions read. */
export const SG_BOT_ENV = {
  /** The review table's name. */
  reviewTable: "REVIEW_TABLE",
  /** The bot settings (BotSettings), JSON. */
  settings: "SG_BOT_SETTINGS",
  /** The ExternalId the worker presents to the spoke roles. */
  spokeExternalId: "SPOKE_EXTERNAL_ID",
  /** The Slack bot token secret's ARN. */
  botToken: SLACK_BOT_TOKEN_ENV,
  /** The Slack outbox queue's URL (components/slackOutbox.ts senderEnvironment). */
  outboxQueue: OUTBOX_QUEUE_ENV,
} as const;

type StreamEvent = { Records: { dynamodb?: { NewImage?: { pk?: { S?: string } } } }[] };

/** What every SG bot function builds at cold start: the review store, the settings, the account directory. */
function reviewContext(env: NodeJS.ProcessEnv, handler: string, more: readonly string[]) {
  const e = requireEnv(env, [SG_BOT_ENV.reviewTable, SG_BOT_ENV.settings, ...more], handler);
  const table = e[SG_BOT_ENV.reviewTable];
  const settings = parseJsonEnv<BotSettings>(e[SG_BOT_ENV.settings], SG_BOT_ENV.settings, handler);
  return {
    e,
    table,
    store: dynamoReviewStore(new DynamoDBClient({}), table),
    settings,
    // Account names: config (sgRevertBot over slack) over Organizations, cached an hour per container.
    directory: envAccountDirectory(settings.accountNames),
  };
}

/**
 * Review messages go through the outbox, which records each message's ts on the review items in `table`. (Only
 * detect and expire post: the worker's archive does not carry the SQS client.)
 */
function reviewPosting(queueUrl: string, table: string) {
  return { outbox: sqsNoticeSender(new SQSClient({}), queueUrl), table };
}

/** detect: a security-group change from the central bus -> review items, and their message queued in the outbox. */
export function makeSgDetectHandler(env: NodeJS.ProcessEnv = process.env) {
  const { e, table, store, settings, directory } = reviewContext(env, "sg-bot detect", [SG_BOT_ENV.outboxQueue]);
  const queue = reviewPosting(e[SG_BOT_ENV.outboxQueue], table);
  return async (event: { detail: any }) =>
    detectChange(event.detail, { store, posting: queue, settings: { ...settings, accountNames: await directory.names() }, now: new Date(), log: logJsonLine });
}

/** worker: reviews just DENIED (the table's stream) -> revoke the rules through the spoke role in their account. */
export function makeSgWorkerHandler(env: NodeJS.ProcessEnv = process.env) {
  const { e, store, settings, directory } = reviewContext(env, "sg-bot worker", [SG_BOT_ENV.spokeExternalId, SG_BOT_ENV.botToken]);
  const ec2 = spokeEc2({ externalId: e[SG_BOT_ENV.spokeExternalId] });
  return async (event: StreamEvent) => {
    const ruleIds = event.Records.map((r) => r.dynamodb?.NewImage?.pk?.S).filter((id): id is string => !!id);
    const slack = await botSlackPort(e[SG_BOT_ENV.botToken]);
    return revertRules(ruleIds, { store, slack, ec2, settings: { ...settings, accountNames: await directory.names() }, log: logJsonLine });
  };
}

/** expire (every few minutes): re-queue review messages never posted, expire undecided reviews past their time. */
export function makeSgExpireHandler(env: NodeJS.ProcessEnv = process.env) {
  const { e, table, store, settings: configured, directory } = reviewContext(env, "sg-bot expire", [SG_BOT_ENV.botToken, SG_BOT_ENV.outboxQueue]);
  const queue = reviewPosting(e[SG_BOT_ENV.outboxQueue], table);
  return async () => {
    const now = new Date();
    const settings = { ...configured, accountNames: await directory.names() };
    const requeued = await requeueUnposted({ store, posting: queue, settings, now, log: logJsonLine });
    const slack = await botSlackPort(e[SG_BOT_ENV.botToken]);
    const expired = await expireReviews({ store, slack, settings, now, log: logJsonLine });
    return { expired, requeued };
  };
}
