/** esbuild floor for `scp-watch-windows`: the windows callbackFactory in components/scpWatch.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoWindowStore } from "../../functions/scp/store";
import { onPolicyChange, tick } from "../../functions/scp/handlers";
import { slackPort } from "../../functions/sg/revert/adapters";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const store = dynamoWindowStore(new DynamoDBClient({}), process.env.SCP_WATCH_TABLE!);
  const settings = JSON.parse(process.env.SCP_WATCH_SETTINGS!);
  return async (event: { source?: string; detail?: any }) => {
    const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
    const deps = { store, slack, settings, now: new Date() };
    return event.source === "aws.events" ? tick(deps) : onPolicyChange(event.detail, deps);
  };
};

export const handler = factory();
