/** esbuild floor for `deny-advisor-roles`: the inventory's callbackFactory in components/denyAdvisor.ts, unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoRoleInventory, tagsFromRequest } from "../../functions/roleInventory";
import { parseRoleChange } from "../../functions/roles";

const factory = () => {
  const roles = dynamoRoleInventory(new DynamoDBClient({}), process.env.ROLES_TABLE!, process.env.OWNER_TAG_KEY!);
  return async (event: { detail: any }) => {
    const change = parseRoleChange(event.detail);
    if (!change) return { skipped: true };
    const { tags, removed } = tagsFromRequest(event.detail.requestParameters);
    await roles.apply({ roleArn: change.roleArn, eventName: change.eventName, eventTime: change.eventTime ?? new Date().toISOString(), tags, removedTagKeys: removed });
    return { applied: change.roleArn };
  };
};

export const handler = factory();
