/** esbuild floor for `scp-watch-counter`: the counter's callbackFactory in components/scpWatch.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoWindowStore } from "../../functions/scp/store";
import { countDeny } from "../../functions/scp/handlers";
import { snsNotifier } from "../../functions/scp/adapters";
import { slackPort } from "../../functions/sg/revert/adapters";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const store = dynamoWindowStore(new DynamoDBClient({}), process.env.SCP_WATCH_TABLE!);
  const settings = JSON.parse(process.env.SCP_WATCH_SETTINGS!);
  const notifier = snsNotifier(process.env.ALERT_TOPIC_ARN!);
  return async (event: { detail: any }) => {
    const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
    // EMF: one raw JSON line per deny on stdout (the function logs as Text so Lambda does not wrap it).
    return countDeny(event.detail, { store, slack, notifier, settings, now: new Date(), emit: (l) => process.stdout.write(JSON.stringify(l) + "\n") });
  };
};

export const handler = factory();
