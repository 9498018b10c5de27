/**
 * The findings notifier's Lambda handler (components/findingsRouter.ts runs it): GuardDuty findings and Config
 * non-compliance from the central bus, claimed once in the dedupe table and handed to the Slack outbox.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { requiredEnv } from "../env";
import { configAccountNames, envAccountDirectory } from "../accounts/directory";
import { envNoticeSender } from "../slack/outboxAdapters";
import { dynamoFindingStore, handleFindingEvent, type NotifyOutcome } from "./notify";

/** The dedupe table's name. */
export const NOTIFIED_TABLE_ENV = "NOTIFIED_TABLE";
/** The Slack channel the notices go to. */
export const FINDINGS_CHANNEL_ENV = "SLACK_CHANNEL_ID";

/** Run once per container: reads the environment (failing on a missing variable), builds the clients. */
export function makeFindingsNotifierHandler(env: NodeJS.ProcessEnv = process.env): (event: unknown) => Promise<NotifyOutcome> {
  const table = requiredEnv(env, NOTIFIED_TABLE_ENV, "the findings dedupe table");
  const channel = requiredEnv(env, FINDINGS_CHANNEL_ENV, "the Slack channel for findings");
  const store = dynamoFindingStore(new DynamoDBClient({}), table);
  const outbox = envNoticeSender(env);
  // Account names: config over Organizations (cached an hour per container; GuardDuty and Config events carry no
  // account changes, so the TTL is what refreshes it).
  const directory = envAccountDirectory(configAccountNames(env));
  return async (event) =>
    handleFindingEvent(event, {
      store,
      outbox,
      channel,
      table,
      now: new Date(),
      accountNames: await directory.names(),
      log: (l) => console.log(JSON.stringify(l)),
    });
}
