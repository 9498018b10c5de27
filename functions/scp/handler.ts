/**
 * The SCP watch's Lambda entry points (components/scpWatch.ts deploys them): each `make…Handler(env)` reads the
 * environment the component set (names below), builds its clients once per container and returns the handler. The
 * watch logic is in ./handlers.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { dynamoWindowStore } from "./store";
import { countDeny, detachRequested, onPolicyChange, tick, type ScpWatchSettings } from "./handlers";
import { detachThroughRole, snsNotifier } from "./adapters";
import { botSlackPort, SLACK_BOT_TOKEN_ENV } from "../slack/port";
import { OUTBOX_QUEUE_ENV, sqsNoticeSender } from "../slack/outboxAdapters";
import { changesAccountList, envAccountDirectory } from "../accounts/directory";
import { parseJsonEnv, logJsonLine, requireEnv } from "../env";

/** The environment the SCP watch's functions read. */
export const SCP_WATCH_ENV = {
  /** The rollout windows table's name. */
  table: "SCP_WATCH_TABLE",
  /** The watch settings (ScpWatchSettings), JSON. */
  settings: "SCP_WATCH_SETTINGS",
  /** The alert topic the counter publishes threshold alerts to. */
  alertTopic: "ALERT_TOPIC_ARN",
  /** The management account's detach role the detach worker assumes. */
  detachRole: "DETACH_ROLE_ARN",
  /** The Slack bot token secret's ARN. */
  botToken: SLACK_BOT_TOKEN_ENV,
  /** The Slack outbox queue's URL (components/slackOutbox.ts senderEnvironment). */
  outboxQueue: OUTBOX_QUEUE_ENV,
} as const;

/** What the counter and windows functions build at cold start: the window store, the settings, the outbox, the directory. */
function windowContext(env: NodeJS.ProcessEnv, handler: string, more: readonly string[]) {
  const e = requireEnv(env, [SCP_WATCH_ENV.table, SCP_WATCH_ENV.settings, SCP_WATCH_ENV.outboxQueue, ...more], handler);
  const table = e[SCP_WATCH_ENV.table];
  const settings = parseJsonEnv<ScpWatchSettings>(e[SCP_WATCH_ENV.settings], SCP_WATCH_ENV.settings, handler);
  return {
    e,
    store: dynamoWindowStore(new DynamoDBClient({}), table),
    settings,
    // Openings, alerts and digests go through the outbox, which records their ts on the window in this table.
    posting: { outbox: sqsNoticeSender(new SQSClient({}), e[SCP_WATCH_ENV.outboxQueue]), table },
    // Account names: config over Organizations, cached an hour per container.
    directory: envAccountDirectory(settings.accountNames),
  };
}

/** counter: one SCP/RCP deny -> EMF metric line, window counts, the threshold alert. */
export function makeScpCounterHandler(env: NodeJS.ProcessEnv = process.env) {
  // The directory's one warning line is JSON on stdout like the rest (this function logs as Text).
  const { e, store, settings, posting, directory } = windowContext(env, "scp-watch counter", [SCP_WATCH_ENV.alertTopic]);
  const notifier = snsNotifier(e[SCP_WATCH_ENV.alertTopic]);
  return async (event: { detail: any }) =>
    // EMF: one raw JSON line per deny on stdout (the function logs as Text so Lambda does not wrap it).
    countDeny(event.detail, { store, posting, notifier, settings: { ...settings, accountNames: await directory.names() }, now: new Date(), emit: (l) => process.stdout.write(JSON.stringify(l) + "\n") });
}

/** windows: Organizations policy changes open rollout windows; the schedule's ticks post digests and close windows. */
export function makeScpWindowsHandler(env: NodeJS.ProcessEnv = process.env) {
  const { store, settings: configured, posting, directory } = windowContext(env, "scp-watch windows", []);
  return async (event: { source?: string; detail?: any }) => {
    // MoveAccount reaches this function (it opens a window): the account list is listed afresh. Account
    // creation, closing and invitations reach none of these functions; the hour's TTL refreshes those.
    if (changesAccountList(event)) directory.invalidate();
    const deps = { store, posting, settings: { ...configured, accountNames: await directory.names() }, now: new Date() };
    return event.source === "aws.events" ? tick(deps) : onPolicyChange(event.detail, deps);
  };
}

/** detach: windows whose detach an approver requested (the table's stream) -> DetachPolicy through the detach role. */
export function makeScpDetachHandler(env: NodeJS.ProcessEnv = process.env) {
  const e = requireEnv(env, [SCP_WATCH_ENV.table, SCP_WATCH_ENV.detachRole, SCP_WATCH_ENV.botToken], "scp-watch detach");
  const store = dynamoWindowStore(new DynamoDBClient({}), e[SCP_WATCH_ENV.table]);
  const org = detachThroughRole({ roleArn: e[SCP_WATCH_ENV.detachRole] });
  return async (event: { Records: { dynamodb?: { NewImage?: { pk?: { S?: string } } } }[] }) => {
    const policyIds = event.Records.map((r) => r.dynamodb?.NewImage?.pk?.S?.replace(/^window#/, "")).filter((x): x is string => !!x);
    const slack = await botSlackPort(e[SCP_WATCH_ENV.botToken]);
    return detachRequested(policyIds, { store, slack, org, log: logJsonLine });
  };
}
