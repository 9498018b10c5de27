/** esbuild floor for `central-heartbeat`: the callbackFactory in components/centralEventBus.ts (heartbeat()), unchanged. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import * as heartbeat from "../../functions/heartbeat";

const factory = () => {
  // Runs once per cold start: one client for the container's lifetime.
  const store = heartbeat.dynamoHeartbeatStore(new DynamoDBClient({}), process.env.HEARTBEAT_TABLE!);
  const quietMinutes = Number(process.env.QUIET_MINUTES);
  return (event: unknown) => heartbeat.handleHeartbeat(event, store, { now: new Date(), quietMinutes, log: console.log });
};

export const handler = factory();
