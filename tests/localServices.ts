/**
 * Local stand-ins for the services the Lambdas call, all on 127.0.0.1, so handler code loaded from a plan's
 * archive runs unchanged: dynalite (a real DynamoDB implementation), a Secrets Manager JSON-protocol stub, and a
 * Slack Web API stub that records every call. The SDK finds them through AWS_ENDPOINT_URL_<SERVICE>.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { CreateTableCommand, DynamoDBClient, ScanCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";

export interface Running {
  url: string;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

const closer = (server: { close(cb: () => void): void }) => () => new Promise<void>((r) => server.close(() => r()));

/** Dummy credentials and a region: the SDK signs requests even to local endpoints. */
export function useLocalAwsEnv(endpoints: Record<string, string>): void {
  process.env.AWS_REGION = "eu-west-1";
  process.env.AWS_ACCESS_KEY_ID = "AKIDLOCALTEST";
  process.env.AWS_SECRET_ACCESS_KEY = "local-test-secret";
  for (const [service, url] of Object.entries(endpoints)) process.env[`AWS_ENDPOINT_URL_${service}`] = url;
}

export async function startDynalite(): Promise<Running & { client: DynamoDBClient }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require("dynalite");
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const url = await listen(server);
  const client = new DynamoDBClient({ endpoint: url, region: "eu-west-1", credentials: { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" } });
  return { url, client, close: closer(server) };
}

export async function createTable(client: DynamoDBClient, name: string, hashKey: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: hashKey, KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: "S" }],
    }),
  );
}

export async function scanAll(client: DynamoDBClient, table: string): Promise<Record<string, AttributeValue>[]> {
  return (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
}

/** Secrets Manager's GetSecretValue over its JSON protocol (X-Amz-Target secretsmanager.GetSecretValue). */
export async function startSecretsStub(secrets: Record<string, string>): Promise<Running & { reads: string[] }> {
  const reads: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const { SecretId } = JSON.parse(body || "{}");
      reads.push(SecretId);
      res.setHeader("content-type", "application/x-amz-json-1.1");
      if (target !== "secretsmanager.GetSecretValue" || !(SecretId in secrets)) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: "ResourceNotFoundException", message: `no secret ${SecretId}` }));
        return;
      }
      res.end(JSON.stringify({ ARN: SecretId, Name: SecretId, SecretString: secrets[SecretId], VersionId: "v1" }));
    });
  });
  const url = await listen(server);
  return { url, reads, close: closer(server) };
}

export interface SlackCall {
  method: string;
  token: string | undefined;
  args: Record<string, any>;
}

/** The Slack Web API: records calls, answers ok. Point WebClient at `${url}/api/` (SLACK_API_URL). */
export async function startSlackStub(): Promise<Running & { calls: SlackCall[]; apiUrl: string }> {
  const calls: SlackCall[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0];
      const ct = String(req.headers["content-type"] ?? "");
      let args: Record<string, any> = {};
      if (ct.includes("json")) args = JSON.parse(body || "{}");
      else for (const [k, v] of new URLSearchParams(body)) args[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
      calls.push({ method, token: req.headers.authorization?.replace(/^Bearer /, ""), args });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, channel: args.channel, ts: `1700000000.${String(calls.length).padStart(6, "0")}` }));
    });
  });
  const url = await listen(server);
  return { url, apiUrl: `${url}/api/`, calls, close: closer(server) };
}
