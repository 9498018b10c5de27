/** esbuild floor for `slack-app`: the callbackFactory in components/slackApp.ts, unchanged (every feature registered). */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { slackAppHandler, type Register } from "../../functions/slack/app";
import { registerSgReview } from "../../functions/sg/revert/adapters";
import { dynamoReviewStore } from "../../functions/sg/revert/state";
import { registerScpWatch } from "../../functions/scp/slack";
import { dynamoWindowStore } from "../../functions/scp/store";

const factory = () => {
  const ddb = new DynamoDBClient({});
  const log = (l: object) => console.log(JSON.stringify(l));
  const register: Register[] = [];
  if (process.env.REVIEW_TABLE)
    register.push(registerSgReview({ store: dynamoReviewStore(ddb, process.env.REVIEW_TABLE), settings: JSON.parse(process.env.SG_BOT_SETTINGS!), log }));
  if (process.env.SCP_WATCH_TABLE)
    register.push(registerScpWatch({ store: dynamoWindowStore(ddb, process.env.SCP_WATCH_TABLE), settings: JSON.parse(process.env.SCP_WATCH_SETTINGS!), log }));
  return slackAppHandler({ signingSecretId: process.env.SLACK_SIGNING_SECRET_SECRET!, botTokenSecretId: process.env.SLACK_BOT_TOKEN_SECRET!, register });
};

export const handler = factory();
