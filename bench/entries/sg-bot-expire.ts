/** esbuild floor for `sg-bot-expire`: the expiry callbackFactory in components/sgRevertBot.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoReviewStore } from "../../functions/sg/revert/state";
import { expireReviews } from "../../functions/sg/revert/handlers";
import { slackPort } from "../../functions/sg/revert/adapters";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const store = dynamoReviewStore(new DynamoDBClient({}), process.env.REVIEW_TABLE!);
  const settings = JSON.parse(process.env.SG_BOT_SETTINGS!);
  return async () => {
    const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
    return expireReviews({ store, slack, settings, now: new Date(), log: (l) => console.log(JSON.stringify(l)) });
  };
};

export const handler = factory();
