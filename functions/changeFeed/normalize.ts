/**
 * The change feed: which CloudTrail records are changes, and each change as one flat, typed record that
 * says who did what, where, with which tool and whether it worked. Pure: runs in Lambda and in the offline tools.
 *
 * Record fields: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */
import { accountOf, partitionOf, principalArnOf, sessionNameOf, wellFormed, type CloudTrailRecord } from "../cloudtrail";
import { boundedJson } from "../bounded";

export type Via = "console" | "cli" | "sdk" | "iac" | "aws-service" | "unknown";

/** The environment of an account the map does not list, when it names no default. */
export const DEFAULT_ENVIRONMENT = "unknown";

export interface EnvironmentMap {
  /** 12-digit account id -> its environment (and the team that owns it). */
  accounts: Record<string, { environment: string; owner?: string }>;
  defaultEnvironment?: string;
}

export interface ChangeRecord {
  kind: "change";
  /** The record's eventTime (ISO-8601), "" when the record has none. */
  time: string;
  who: {
    principal: string | null;
    type: string | null;
    sessionName: string | null;
    sourceIp: string | null;
    userAgent: string | null;
    via: Via;
    /** e.g. "terraform", "pulumi", "cloudformation", "aws-cli", "aws-sdk-js", or a service host. */
    tool: string | null;
  };
  what: { service: string; eventName: string; resources: string[] };
  where: { account: string | null; region: string | null; environment: string; owner: string | null };
  result: { ok: boolean; errorCode: string | null; errorMessage: string | null };
  consoleLink: string;
  eventId: string | null;
}

export interface NoiseLists {
  eventNames: string[];
  eventNamePrefixes: string[];
  /** AWS service hosts whose calls on the account's behalf are churn, not changes. */
  principals: string[];
}

/** A starting point: calls that write something but change no configuration, and services that churn. */
export const DEFAULT_NOISE: NoiseLists = {
  eventNames: [
    "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetSessionToken", "GetFederationToken",
    "ConsoleLogin", "CheckMfa", "CreateToken", "CreateLogStream", "PutLogEvents", "PutMetricData",
    "Decrypt", "Encrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "Sign", "Verify",
    "SendMessage", "ReceiveMessage", "DeleteMessage", "Publish", "PutEvents",
    "StartQuery", "StopQuery", "StartQueryExecution", "UpdateInstanceInformation",
  ],
  eventNamePrefixes: ["Get", "Describe", "List", "Lookup", "BatchGet", "Head", "Search", "Scan", "Validate"],
  principals: [
    "config.amazonaws.com", "cloudtrail.amazonaws.com", "trustedadvisor.amazonaws.com", "access-analyzer.amazonaws.com",
    "securityhub.amazonaws.com", "guardduty.amazonaws.com", "inspector2.amazonaws.com", "resource-explorer-2.amazonaws.com",
    // Scaling churn (instances launched and terminated by a group), not someone changing the group.
    "autoscaling.amazonaws.com",
  ],
};

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const obj = (v: unknown): Record<string, any> => (typeof v === "object" && v !== null ? (v as Record<string, any>) : {});
const bool = (v: unknown): boolean | null =>
  v === true || v === "true" || v === "True" ? true : v === false || v === "false" || v === "False" ? false : null;
function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

const SERVICE_HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$/;
const CONSOLE_HOST = /^(console|signin)(\.[a-z0-9-]+)*\.amazonaws\.com$/;

/**
 * Which client made the call. userAgent formats: CloudTrail documents `signin.amazonaws.com` / `console.amazonaws.com`
 * (console), `<service>.amazonaws.com` (a service), `aws-cli/<v>` and `aws-sdk-<lang>` (record-contents page above).
 * Terraform's AWS provider sends `APN/1.0 HashiCorp/1.0 Terraform/<v>` (hashicorp/terraform#9806), Pulumi's
 * `APN/1.0 Pulumi/1.0 Pulumi-Aws/<v>` (pulumi/pulumi-aws#1604), the CDK CLI `aws-cdk/<v>`.
 * `sessionCredentialFromConsole` marks calls made with console-session credentials (same page).
 */
export function classifyUserAgent(userAgent: string | null | undefined, record: CloudTrailRecord = {}): { via: Via; tool: string | null } {
  const ua = (typeof userAgent === "string" ? userAgent : "").trim();
  const id = obj(record.userIdentity);
  const invokedBy = str(id.invokedBy);
  const fromConsole = bool(record.sessionCredentialFromConsole) === true;
  // Infrastructure as code first: their agents also carry an SDK token (Terraform: aws-sdk-go).
  if (/pulumi/i.test(ua)) return { via: "iac", tool: "pulumi" };
  if (/OpenTofu\//i.test(ua)) return { via: "iac", tool: "opentofu" };
  if (/Terraform\//i.test(ua)) return { via: "iac", tool: "terraform" };
  if (/aws-cdk\//i.test(ua)) return { via: "iac", tool: "cdk" };
  if (/cloudformation\.amazonaws\.com/.test(ua) || invokedBy === "cloudformation.amazonaws.com") return { via: "iac", tool: "cloudformation" };
  // The console: its own hosts, the S3 console's agent, a browser.
  if (CONSOLE_HOST.test(ua) || /S3Console\//.test(ua) || /^\[?Mozilla\/\d/.test(ua)) return { via: "console", tool: null };
  // CloudShell runs the CLI with console credentials: the CLI it is.
  if (/(^|[\s[])aws-cli\//i.test(ua)) return { via: "cli", tool: "aws-cli" };
  if (/AWSPowerShell/i.test(ua)) return { via: "cli", tool: "aws-powershell" };
  // Console back ends call with an internal Java SDK from the user's address; services call from their own host.
  if (/aws-internal\//.test(ua)) {
    const ip = str(record.sourceIPAddress) ?? "";
    return fromConsole || /^[\d.:a-f]+$/i.test(ip) ? { via: "console", tool: null } : { via: "aws-service", tool: null };
  }
  const sdk = /\b(aws-sdk-[a-z0-9-]+)\//i.exec(ua);
  if (sdk) return { via: "sdk", tool: sdk[1].toLowerCase() };
  if (/\bBoto3\//i.test(ua)) return { via: "sdk", tool: "boto3" };
  if (/\bBotocore\//i.test(ua)) return { via: "sdk", tool: "botocore" };
  if (fromConsole || record.eventType === "AwsConsoleSignIn") return { via: "console", tool: null };
  if (id.type === "AWSService") return { via: "aws-service", tool: invokedBy };
  if (SERVICE_HOST.test(ua)) return { via: "aws-service", tool: ua };
  if (invokedBy && SERVICE_HOST.test(invokedBy) && !CONSOLE_HOST.test(invokedBy)) return { via: "aws-service", tool: invokedBy };
  if (ua === "AWS Internal") return { via: "aws-service", tool: null };
  return { via: "unknown", tool: null };
}

function hasPrefix(name: string, prefix: string): boolean {
  return name.startsWith(prefix) && (name.length === prefix.length || /[A-Z0-9]/.test(name[prefix.length]));
}

/**
 * True for a management-event write that changes something: not read-only, not a sign-in or service event, not a
 * dry run, not in the noise lists, not made by a listed service. Failed attempts count (the feed shows them failed).
 */
export function isChange(record: CloudTrailRecord, noise: NoiseLists = DEFAULT_NOISE, extra?: { eventNames?: string[]; principals?: string[] }): boolean {
  const r = obj(record) as CloudTrailRecord;
  const name = str(r.eventName);
  if (!name) return false;
  if (bool(r.managementEvent) === false || (r.eventCategory !== undefined && r.eventCategory !== "Management")) return false;
  if (r.eventType !== undefined && r.eventType !== "AwsApiCall" && r.eventType !== "AwsConsoleAction") return false;
  if (bool(r.readOnly) === true) return false;
  if (/DryRunOperation$/.test(str(r.errorCode) ?? "")) return false;
  if (noise.eventNames.includes(name) || extra?.eventNames?.includes(name)) return false;
  if (noise.eventNamePrefixes.some((p) => hasPrefix(name, p))) return false;
  const principals = [...noise.principals, ...(extra?.principals ?? [])];
  const invokedBy = str(obj(r.userIdentity).invokedBy);
  const sourceIp = str(r.sourceIPAddress);
  return !((invokedBy && principals.includes(invokedBy)) || (sourceIp && principals.includes(sourceIp)));
}

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:\S+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * ARNs the call names: `resources[].ARN`, ARN-valued fields anywhere in the request and response, and ARNs built
 * from the ids the most reviewed calls carry (security group, instance, bucket), per the Service Authorization
 * Reference formats: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 */
export function resourcesOf(record: CloudTrailRecord): string[] {
  const out: string[] = [];
  const add = (a: unknown): void => {
    if (typeof a === "string" && ARN.test(a) && !out.includes(a) && out.length < 50) out.push(a);
  };
  if (Array.isArray(record.resources)) record.resources.forEach((x) => add(obj(x).ARN));
  let budget = 2000;
  const walk = (v: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > 8) return;
    if (typeof v === "string") add(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
    else if (typeof v === "object" && v !== null) Object.values(v).forEach((x) => walk(x, depth + 1));
  };
  walk(record.requestParameters, 0);
  walk(record.responseElements, 0);
  const req = obj(record.requestParameters);
  const region = str(record.awsRegion);
  const account = accountOf(record);
  const p = partitionOf(region);
  if (typeof req.bucketName === "string" && /^[a-z0-9][a-z0-9.-]{1,62}$/.test(req.bucketName)) add(`arn:${p}:s3:::${req.bucketName}`);
  if (region && account) {
    if (typeof req.groupId === "string" && /^sg-[0-9a-f]+$/i.test(req.groupId)) add(`arn:${p}:ec2:${region}:${account}:security-group/${req.groupId}`);
    // StopInstances & co. list instancesSet.items in the request, RunInstances the new instances in the response.
    const sets = [req, obj(record.responseElements)].flatMap((o) => {
      const items = obj(o.instancesSet).items;
      return Array.isArray(items) ? items : [];
    });
    for (const i of [req, ...sets]) {
      const iid = obj(i).instanceId;
      if (typeof iid === "string" && /^i-[0-9a-f]+$/i.test(iid)) add(`arn:${p}:ec2:${region}:${account}:instance/${iid}`);
    }
  }
  return out;
}

/** The CloudTrail console page of the event, on the partition's console; a generic one when the region is unusable. */
export function consoleLinkOf(region: string | null, eventId: string | null): string {
  const valid = typeof region === "string" && REGION.test(region);
  const p = valid ? partitionOf(region) : "aws";
  const host =
    p === "aws-us-gov" ? "https://console.amazonaws-us-gov.com" : p === "aws-cn" ? "https://console.amazonaws.cn" : valid ? `https://${region}.console.aws.amazon.com` : "https://console.aws.amazon.com";
  // encodeURIComponent throws URIError on a lone surrogate: repair first (this function never throws).
  // https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/encodeURIComponent#exceptions
  const id = typeof eventId === "string" && eventId ? wellFormed(eventId) : null;
  return `${host}/cloudtrailv2/home${valid ? `?region=${region}` : ""}#/events${id ? `/${encodeURIComponent(id)}` : ""}`;
}

function isoTime(v: unknown): string {
  const s = str(v);
  if (!s) return "";
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(s)) return s;
  const t = Date.parse(s);
  return Number.isNaN(t) ? "" : new Date(t).toISOString();
}

/** One record as a change. Never throws: missing or odd fields become null, an unmapped account `defaultEnvironment ?? "unknown"`. */
export function toChangeRecord(record: CloudTrailRecord, envMap: EnvironmentMap): ChangeRecord {
  // Bounded plain JSON: the record goes to EventBridge (256 KB an entry) and to webhooks.
  return boundedJson(changeRecordOf(record, envMap));
}

function changeRecordOf(record: CloudTrailRecord, envMap: EnvironmentMap): ChangeRecord {
  const r = obj(record) as CloudTrailRecord;
  const id = obj(r.userIdentity);
  const userAgent = str(r.userAgent);
  const { via, tool } = safe(() => classifyUserAgent(userAgent, r), { via: "unknown" as Via, tool: null });
  const account = str(safe(() => accountOf(r), null)) ?? str(id.accountId);
  const region = str(r.awsRegion);
  const accounts = obj(envMap?.accounts);
  const entry = account && Object.prototype.hasOwnProperty.call(accounts, account) ? obj(accounts[account]) : {};
  const eventId = str(r.eventID);
  const errorCode = str(r.errorCode);
  return {
    kind: "change",
    time: isoTime(r.eventTime),
    who: {
      principal: str(safe(() => principalArnOf(r), null)) ?? str(id.invokedBy),
      type: str(id.type),
      sessionName: str(safe(() => sessionNameOf(r), null)),
      sourceIp: str(r.sourceIPAddress),
      userAgent,
      via,
      tool,
    },
    what: {
      service: (str(r.eventSource) ?? "unknown").replace(/\.amazonaws\.com$/, ""),
      eventName: str(r.eventName) ?? "unknown",
      resources: safe(() => resourcesOf(r), []),
    },
    where: {
      account,
      region,
      environment: str(entry.environment) ?? str(envMap?.defaultEnvironment) ?? DEFAULT_ENVIRONMENT,
      owner: str(entry.owner),
    },
    result: { ok: errorCode === null, errorCode, errorMessage: str(r.errorMessage) },
    consoleLink: consoleLinkOf(region, eventId),
    eventId,
  };
}
