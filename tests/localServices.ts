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

/**
 * A Slack Web API request as a stub sees it: the method from `/api/<method>`, the arguments from a JSON body or a form
 * body (WebClient sends forms; JSON-looking values such as `blocks` are parsed).
 */
export function slackRequest(req: http.IncomingMessage, body: string): { method: string; args: Record<string, any> } {
  const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0];
  const ct = String(req.headers["content-type"] ?? "");
  const args: Record<string, any> = {};
  if (ct.includes("json")) Object.assign(args, JSON.parse(body || "{}"));
  else for (const [k, v] of new URLSearchParams(body)) args[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
  return { method, args };
}

/**
 * The Slack Web API: records calls, answers ok (auth.test with the bot's ids, as Slack answers for a bot token).
 * Point WebClient at `${url}/api/` (SLACK_API_URL). `delayMs` makes every call that slow, like Slack on a bad day.
 */
export async function startSlackStub(opts: { delayMs?: number } = {}): Promise<Running & { calls: SlackCall[]; apiUrl: string }> {
  const calls: SlackCall[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { method, args } = slackRequest(req, body);
      calls.push({ method, token: req.headers.authorization?.replace(/^Bearer /, ""), args });
      const ids = method === "auth.test" ? { user_id: "U0TRAILBOT", bot_id: "B0TRAILBOT", team_id: "T0123TEAM" } : {};
      const answer = () => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ok: true, channel: args.channel, ts: `1700000000.${String(calls.length).padStart(6, "0")}`, ...ids }));
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  const url = await listen(server);
  return { url, apiUrl: `${url}/api/`, calls, close: closer(server) };
}

export interface QueryCall {
  action: string;
  params: Record<string, any>;
  host: string | undefined;
}

/**
 * STS and SNS (awsQuery), EC2 (ec2Query) and Organizations (JSON 1.1) on one local endpoint: form-encoded `Action=...` requests in, XML out, as the
 * SDK v3 clients speak them (point AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_EC2 here). `ec2Rules` is the rule ids
 * that exist: RevokeSecurityGroup* removes them, or answers InvalidSecurityGroupRuleId.NotFound as EC2 does.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
export async function startAwsQueryStub(
  ec2Rules: Record<string, string>,
  options: { attachedPolicies?: string[] } = {},
): Promise<Running & { calls: QueryCall[] }> {
  const calls: QueryCall[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      // Organizations speaks JSON 1.1 (X-Amz-Target names the operation); the others the query protocols.
      const target = String(req.headers["x-amz-target"] ?? "");
      if (target.startsWith("AWSOrganizationsV20161128.")) {
        const action = target.split(".")[1];
        const params = JSON.parse(body || "{}");
        calls.push({ action, params, host: req.headers.host });
        res.setHeader("content-type", "application/x-amz-json-1.1");
        const attached = options.attachedPolicies ?? [];
        const key = `${params.PolicyId}@${params.TargetId}`;
        if (action === "DetachPolicy" && attached.includes(key)) {
          attached.splice(attached.indexOf(key), 1);
          return void res.end("{}");
        }
        res.statusCode = 400;
        return void res.end(JSON.stringify({ __type: action === "DetachPolicy" ? "PolicyNotAttachedException" : "InvalidInputException", Message: `${key} is not attached` }));
      }
      const params = Object.fromEntries(new URLSearchParams(body));
      const action = params.Action;
      calls.push({ action, params, host: req.headers.host });
      res.setHeader("content-type", "text/xml");
      const ruleIds = Object.entries(params)
        .filter(([k]) => /^SecurityGroupRuleId\.\d+$/.test(k))
        .map(([, v]) => v);
      const notFound = () => {
        res.statusCode = 400;
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidSecurityGroupRuleId.NotFound</Code><Message>The security group rule ID '${ruleIds[0]}' does not exist</Message></Error></Errors><RequestID>req-1</RequestID></Response>`);
      };
      if (action === "AssumeRole") {
        res.end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIALOCALSPOKE</AccessKeyId><SecretAccessKey>spoke-secret</SecretAccessKey><SessionToken>spoke-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROALOCAL:${params.RoleSessionName}</AssumedRoleId><Arn>${params.RoleArn}/${params.RoleSessionName}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>req-sts</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      } else if (action === "RevokeSecurityGroupIngress" || action === "RevokeSecurityGroupEgress") {
        if (ruleIds.some((id) => !(id in ec2Rules))) return notFound();
        for (const id of ruleIds) delete ec2Rules[id];
        res.end(`<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-ec2</requestId><return>true</return></${action}Response>`);
      } else if (action === "Publish") {
        res.end(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>msg-${calls.length}</MessageId></PublishResult><ResponseMetadata><RequestId>req-sns</RequestId></ResponseMetadata></PublishResponse>`);
      } else if (action === "DescribeSecurityGroupRules") {
        const found = ruleIds.filter((id) => id in ec2Rules);
        if (ruleIds.length > 0 && found.length === 0) return notFound();
        const items = found.map((id) => `<item><securityGroupRuleId>${id}</securityGroupRuleId><groupId>${ec2Rules[id]}</groupId></item>`).join("");
        res.end(`<DescribeSecurityGroupRulesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-ec2</requestId><securityGroupRuleSet>${items}</securityGroupRuleSet></DescribeSecurityGroupRulesResponse>`);
      } else {
        res.statusCode = 400;
        res.end(`<Response><Errors><Error><Code>InvalidAction</Code><Message>${action}</Message></Error></Errors></Response>`);
      }
    });
  });
  const url = await listen(server);
  return { url, calls, close: closer(server) };
}
