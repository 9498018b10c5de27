/** esbuild floor for `sg-bot-worker`: the worker's callbackFactory in components/sgRevertBot.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoReviewStore } from "../../functions/sg/revert/state";
import { revertRules } from "../../functions/sg/revert/handlers";
import { slackPort, spokeEc2 } from "../../functions/sg/revert/adapters";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const store = dynamoReviewStore(new DynamoDBClient({}), process.env.REVIEW_TABLE!);
  const settings = JSON.parse(process.env.SG_BOT_SETTINGS!);
  const ec2 = spokeEc2({ externalId: process.env.SPOKE_EXTERNAL_ID! });
  return async (event: { Records: { dynamodb?: { NewImage?: { pk?: { S?: string } } } }[] }) => {
    const ruleIds = event.Records.map((r) => r.dynamodb?.NewImage?.pk?.S).filter((id): id is string => !!id);
    const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
    return revertRules(ruleIds, { store, slack, ec2, settings, log: (l) => console.log(JSON.stringify(l)) });
  };
};

export const handler = factory();
