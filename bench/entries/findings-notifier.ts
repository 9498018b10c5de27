/** esbuild floor for `findings-notifier`: the notifier's callbackFactory in components/findingsRouter.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoFindingStore, handleFindingEvent } from "../../functions/findings/notify";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const store = dynamoFindingStore(new DynamoDBClient({}), process.env.NOTIFIED_TABLE!);
  const poster = {
    post: async (m: { text: string; blocks: object[] }) => {
      const slack = await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!);
      await slack.chat.postMessage({ channel: process.env.SLACK_CHANNEL_ID!, text: m.text, blocks: m.blocks as any, unfurl_links: false });
    },
  };
  return (event: unknown) => handleFindingEvent(event, { store, poster, now: new Date(), log: (l) => console.log(JSON.stringify(l)) });
};

export const handler = factory();
