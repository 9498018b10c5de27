/** esbuild floor for `scp-watch-detach` (settings.rollback only): the detach worker's callbackFactory in components/scpWatch.ts. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoWindowStore } from "../../functions/scp/store";
import { detachRequested } from "../../functions/scp/handlers";
import { detachThroughRole } from "../../functions/scp/adapters";
import { slackPort } from "../../functions/sg/revert/adapters";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const store = dynamoWindowStore(new DynamoDBClient({}), process.env.SCP_WATCH_TABLE!);
  return async (event: { Records: { dynamodb?: { NewImage?: { pk?: { S?: string } } } }[] }) => {
    const policyIds = event.Records.map((r) => r.dynamodb?.NewImage?.pk?.S?.replace(/^window#/, "")).filter((x): x is string => !!x);
    const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
    return detachRequested(policyIds, { store, slack, org: detachThroughRole({ roleArn: process.env.DETACH_ROLE_ARN! }), log: (l) => console.log(JSON.stringify(l)) });
  };
};

export const handler = factory();
