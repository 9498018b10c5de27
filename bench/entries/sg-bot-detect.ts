/** esbuild floor for `sg-bot-detect`: the detect callbackFactory in components/sgRevertBot.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoReviewStore } from "../../functions/sg/revert/state";
import { detectChange } from "../../functions/sg/revert/handlers";
import { slackPort } from "../../functions/sg/revert/adapters";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const store = dynamoReviewStore(new DynamoDBClient({}), process.env.REVIEW_TABLE!);
  const settings = JSON.parse(process.env.SG_BOT_SETTINGS!);
  return async (event: { detail: any }) => {
    const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
    return detectChange(event.detail, { store, slack, settings, now: new Date(), log: (l) => console.log(JSON.stringify(l)) });
  };
};

export const handler = factory();
