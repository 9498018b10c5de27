/**
 * A local HTTP server on 127.0.0.1 that speaks the wire protocols of the AWS services preflight and verify call, so
 * the real SDK v3 clients (pointed at it with AWS_ENDPOINT_URL) send real, signed requests through their real
 * serializers and parsers:
 * - JSON 1.0 / 1.1 (`X-Amz-Target: <prefix>.<Operation>`): Organizations, CloudTrail, Config, Secrets Manager, SQS,
 *   DynamoDB, EventBridge, CloudWatch;
 * - query (form `Action=<Operation>`, XML responses): STS, CloudFormation, IAM;
 * - REST JSON (method + path): GuardDuty, Lambda, Account.
 * The account a request runs in is read from its SigV4 credential (the stub's STS hands out access keys that carry
 * the account id), the region and service from the credential scope, as AWS itself scopes a signature.
 * Protocols: https://smithy.io/2.0/aws/protocols/index.html
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface StubCall {
  /** The SigV4 signing name: organizations, sts, cloudformation, monitoring, events, ... */
  service: string;
  operation: string;
  account: string;
  region: string;
  input: Record<string, any>;
}

export class StubError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type StubHandler = (call: StubCall) => unknown | Promise<unknown>;

/** Access key ids the stub's STS issues (and tests use for the caller): the account id is in the key. */
export const accessKeyFor = (account: string) => `ASIA${account}STUB`;

interface Route {
  method: string;
  path: RegExp;
  op: string;
  params: string[];
}
const REST_ROUTES: Record<string, Route[]> = {
  guardduty: [
    { method: "GET", path: /^\/detector$/, op: "ListDetectors", params: [] },
    { method: "GET", path: /^\/admin$/, op: "ListOrganizationAdminAccounts", params: [] },
    { method: "GET", path: /^\/detector\/([^/]+)\/admin$/, op: "DescribeOrganizationConfiguration", params: ["DetectorId"] },
    { method: "GET", path: /^\/detector\/([^/]+)\/member$/, op: "ListMembers", params: ["DetectorId"] },
  ],
  lambda: [
    { method: "GET", path: /^\/2015-03-31\/functions\/?$/, op: "ListFunctions", params: [] },
    { method: "GET", path: /^\/2021-10-31\/functions\/([^/]+)\/url$/, op: "GetFunctionUrlConfig", params: ["FunctionName"] },
  ],
  account: [{ method: "POST", path: /^\/listRegions$/, op: "ListRegions", params: [] }],
};

/** GuardDuty's REST JSON names members in camelCase on the wire (jsonName); the SDK maps them back. */
function camel(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camel);
  if (v && typeof v === "object" && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.charAt(0).toLowerCase() + k.slice(1), camel(x)]));
  return v;
}
function pascal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pascal);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.charAt(0).toUpperCase() + k.slice(1), pascal(x)]));
  return v;
}

/** JSON protocols send timestamps as epoch seconds. */
function jsonValue(v: unknown): unknown {
  if (v instanceof Date) return v.getTime() / 1000;
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  return v;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** The query protocol's XML: lists as <member> elements, timestamps ISO 8601. */
function xml(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => `<member>${xml(x)}</member>`).join("");
  if (v && typeof v === "object")
    return Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `<${k}>${xml(x)}</${k}>`)
      .join("");
  return esc(String(v));
}

/** `A.member.1.B=x` form parameters into nested input. */
function formInput(body: string): { action: string; input: Record<string, any> } {
  const params = new URLSearchParams(body);
  const input: Record<string, any> = {};
  for (const [key, value] of params) {
    if (key === "Action" || key === "Version") continue;
    const parts = key.split(".").filter((p) => p !== "member");
    let node: any = input;
    parts.forEach((p, i) => {
      const last = i === parts.length - 1;
      const k = /^\d+$/.test(p) ? Number(p) - 1 : p;
      if (last) node[k] = value;
      else node = node[k] ??= /^\d+$/.test(parts[i + 1]) ? [] : {};
    });
  }
  return { action: params.get("Action") ?? "", input };
}

export interface Stub {
  url: string;
  calls: StubCall[];
  /** Most requests the stub was serving at once (the client's concurrency bound, seen from the server). */
  maxConcurrent: number;
  close(): Promise<void>;
}

export async function startStub(handler: StubHandler, opts: { latencyMs?: number } = {}): Promise<Stub> {
  const calls: StubCall[] = [];
  let inFlight = 0;
  const stats = { maxConcurrent: 0 };
  const server = http.createServer((req, res) => {
    inFlight++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, inFlight);
    res.on("finish", () => inFlight--);
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const auth = String(req.headers.authorization ?? "");
      const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
      if (!scope) {
        res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ __type: "MissingAuthenticationTokenException", message: "request is not signed" }));
        return;
      }
      const [, akid, region, service] = scope;
      const account = /(\d{12})/.exec(akid)?.[1] ?? "000000000000";
      const target = req.headers["x-amz-target"] as string | undefined;
      const url = new URL(req.url ?? "/", "http://stub");
      let protocol: "json" | "query" | "rest";
      let operation: string;
      let input: Record<string, any>;
      if (target) {
        protocol = "json";
        operation = target.split(".").pop()!;
        input = body ? JSON.parse(body) : {};
      } else if (String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
        protocol = "query";
        const f = formInput(body);
        operation = f.action;
        input = f.input;
      } else {
        protocol = "rest";
        const route = (REST_ROUTES[service] ?? []).find((r) => r.method === req.method && r.path.test(url.pathname));
        if (!route) {
          res.writeHead(404, { "x-amzn-errortype": "UnknownOperationException" }).end(JSON.stringify({ message: `stub: no route ${req.method} ${url.pathname} for ${service}` }));
          return;
        }
        operation = route.op;
        const m = route.path.exec(url.pathname)!;
        input = { ...(body ? (service === "guardduty" ? (pascal(JSON.parse(body)) as object) : JSON.parse(body)) : {}) };
        route.params.forEach((p, i) => (input[p] = decodeURIComponent(m[i + 1])));
        for (const [k, v] of url.searchParams) input[k.charAt(0).toUpperCase() + k.slice(1)] = v;
      }
      const call: StubCall = { service, operation, account, region, input };
      calls.push(call);
      if (opts.latencyMs) await new Promise((resolve) => setTimeout(resolve, opts.latencyMs));
      try {
        const output = ((await handler(call)) ?? {}) as Record<string, unknown>;
        if (protocol === "json") res.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(jsonValue(output)));
        else if (protocol === "query")
          res
            .writeHead(200, { "content-type": "text/xml" })
            .end(`<${operation}Response xmlns="https://stub/"><${operation}Result>${xml(output)}</${operation}Result><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></${operation}Response>`);
        else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jsonValue(service === "guardduty" ? camel(output) : output)));
      } catch (err) {
        const e = err instanceof StubError ? err : new StubError("InternalFailure", `stub handler threw: ${(err as Error).message}`, 500);
        if (protocol === "json") res.writeHead(e.status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify({ __type: e.code, message: e.message }));
        else if (protocol === "query")
          res
            .writeHead(e.status, { "content-type": "text/xml" })
            .end(`<ErrorResponse><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>stub</RequestId></ErrorResponse>`);
        else res.writeHead(e.status, { "content-type": "application/json", "x-amzn-errortype": e.code }).end(JSON.stringify({ message: e.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get maxConcurrent() {
      return stats.maxConcurrent;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
