/** esbuild floor for `deny-advisor-processor`: the processor's callbackFactory in components/denyAdvisor.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { processDenyBatch } from "../../functions/deny/batch";
import { dynamoDenyStore } from "../../functions/deny/store";
import { dynamoRoleInventory } from "../../functions/roleInventory";
import { slackClient } from "../../functions/slack/client";

const factory = () => {
  const ddb = new DynamoDBClient({});
  const store = dynamoDenyStore(ddb, process.env.FINDINGS_TABLE!);
  const roles = dynamoRoleInventory(ddb, process.env.ROLES_TABLE!, process.env.OWNER_TAG_KEY!);
  return async (event: { Records: { messageId: string; body: string }[] }) =>
    processDenyBatch(event.Records, {
      store,
      ownerOf: (arn) => roles.ownerOf(arn),
      post: async (m) => {
        const slack = await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!);
        await slack.chat.postMessage({ channel: process.env.SLACK_CHANNEL_ID!, text: m.text, blocks: m.blocks as any, unfurl_links: false });
      },
      log: (e) => console.log(JSON.stringify(e)),
      now: () => new Date(),
    });
};

export const handler = factory();
