/**
 * A fixture AWS Organization behind the local stub (tests/awsStub.ts): the state each service would report, and the
 * handler that answers the SDK's calls from it. `healthyBefore` is an organization ready for a first `pulumi up` of
 * Pulumi.prod.yaml; `healthyAfter` is the same organization once trailwatch is deployed and working. Tests break one
 * thing at a time (or many) and check that preflight / verify name it with its fix.
 * Account ids and names are made up; the shapes follow each API's reference.
 */
import * as http from "http";
import * as crypto from "crypto";
import type { AddressInfo } from "net";
import { StubError, accessKeyFor, type StubCall } from "./awsStub";

export const MGMT = "111122223333";
export const SECURITY = "444455556666";
export const LOG_ARCHIVE = "777788889999";
export const ORG_ID = "o-7k2mq9x4ab";
export const HOME = "eu-west-1";
export const REGIONS = ["eu-central-1", "eu-west-1", "us-east-1"];
export const STACK = "prod";
export const CHANNEL = "C04SECOPS01";
export const SIGNING_SECRET = "8f3e-test-signing-secret";
export const BOT_TOKEN = "xoxb-test-token";
/** Regions every fixture account has on (ENABLED_BY_DEFAULT), unless `regionsOff` says otherwise. */
const DEFAULT_REGIONS = ["eu-central-1", "eu-west-1", "eu-north-1", "us-east-1", "us-east-2", "us-west-2"];

export const key = (account: string, region: string) => `${account}/${region}`;

export interface OrgState {
  featureSet: "ALL" | "CONSOLIDATED_BILLING";
  orgId: string;
  /** Member accounts other than security and log archive. */
  members: string[];
  serviceAccess: Set<string>;
  stackSetsAccess: "ENABLED" | "DISABLED";
  delegated: Map<string, string[]>;
  trails: Record<string, unknown>[];
  recorders: Map<string, { name: string; servicePrincipal?: string }[]>;
  channels: Map<string, { name: string; s3BucketName: string }[]>;
  detectors: Map<string, string[]>;
  /** Accounts where the deployment role cannot be assumed. */
  noRole: Set<string>;
  iamPrincipals: Set<string>;
  /** Secret names/ARNs in the security account. */
  secrets: Map<string, string>;
  regionsOff: Map<string, string[]>;
  /** Rules on the default bus per account/region (default 4), of which with wildcard filters (default 1). */
  rules: Map<string, number>;
  wildcardRules: Map<string, number>;
  stackSets: number;
  // ---- after pulumi up ----
  instances: Map<string, Record<string, unknown>[]>;
  heartbeats: { account: string; region: string; lastSeen: string }[];
  trailStatus?: Record<string, unknown>;
  alarms: Map<string, Record<string, unknown>[]>;
  gdAdmin: Map<string, string>;
  gdAuto: Map<string, string>;
  gdMembers: Map<string, { AccountId: string; RelationshipStatus: string }[]>;
  aggregatorSources?: Record<string, unknown>[];
  /** Queue path (account/region/name; its URL is the stub's URL + "/" + path) -> messages waiting. */
  queues: Map<string, { account: string; region: string; name: string; messages: number; bodies: string[] }>;
  functions: Record<string, unknown>[];
  functionUrl?: string;
  /** The forwarder of account/region delivers PutEvents to the central bus (for --probe). */
  forwarding: Set<string>;
  centralRules: Map<string, { pattern: any; targets: string[] }>;
  now: Date;
}

export function memberIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(200000000000 + i + 1));
}

export function allAccounts(s: OrgState): string[] {
  return [MGMT, SECURITY, LOG_ARCHIVE, ...s.members];
}

/** An organization ready for trailwatch's first deploy: nothing in the way. */
export function healthyBefore(nMembers = 3, now = new Date("2026-12-01T12:00:00Z")): OrgState {
  const members = memberIds(nMembers);
  return {
    featureSet: "ALL",
    orgId: ORG_ID,
    members,
    serviceAccess: new Set(["sso.amazonaws.com"]),
    stackSetsAccess: "ENABLED",
    delegated: new Map(),
    trails: [],
    recorders: new Map(),
    channels: new Map(),
    detectors: new Map(),
    noRole: new Set(),
    iamPrincipals: new Set([`arn:aws:iam::${SECURITY}:role/SecurityAuditor`]),
    secrets: new Map(),
    regionsOff: new Map(),
    rules: new Map(),
    wildcardRules: new Map(),
    stackSets: 3,
    instances: new Map(),
    heartbeats: [],
    alarms: new Map(),
    gdAdmin: new Map(),
    gdAuto: new Map(),
    gdMembers: new Map(),
    queues: new Map(),
    functions: [],
    forwarding: new Set(),
    centralRules: new Map(),
    now,
  };
}

const FORWARDER_REGIONS = ["eu-central-1", "eu-west-1", "us-east-1"];

/** The same organization after a good `pulumi up` of Pulumi.prod.yaml (stack prod). */
export function healthyAfter(nMembers = 3, now?: Date): OrgState {
  const s = healthyBefore(nMembers, now);
  const { now: at } = s;
  const targets = [SECURITY, LOG_ARCHIVE, ...s.members];
  for (const p of ["cloudtrail.amazonaws.com", "guardduty.amazonaws.com", "config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"]) s.serviceAccess.add(p);
  const inst = (regions: string[]) => targets.flatMap((a) => regions.map((r) => ({ Account: a, Region: r, Status: "CURRENT", StackInstanceStatus: { DetailedStatus: "SUCCEEDED" }, StackSetId: "x" })));
  s.instances.set(`trailwatch-${STACK}-forwarders`, inst(FORWARDER_REGIONS));
  s.instances.set(`trailwatch-${STACK}-config`, inst(REGIONS));
  s.instances.set(`trailwatch-${STACK}-sg-revert-spokes`, inst([HOME]));
  const fresh = new Date(at.getTime() - 4 * 60_000).toISOString();
  for (const a of [MGMT, ...targets]) for (const r of FORWARDER_REGIONS) s.heartbeats.push({ account: a, region: r, lastSeen: fresh });
  s.trailStatus = { IsLogging: true, LatestDeliveryTime: new Date(at.getTime() - 3 * 60_000), StartLoggingTime: new Date(at.getTime() - 86_400_000) };
  s.alarms.set(key(SECURITY, HOME), [
    { AlarmName: "central-delivery-dlq-depth-1a2b3c4", AlarmDescription: "trailwatch: events no target could take after retries are waiting", StateValue: "OK", StateUpdatedTimestamp: new Date(at.getTime() - 86_400_000), Namespace: "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible" },
    { AlarmName: "central-quiet-forwarders-5d6e7f8", AlarmDescription: "trailwatch: a forwarder sent no heartbeat for 30 minutes", StateValue: "OK", StateUpdatedTimestamp: new Date(at.getTime() - 86_400_000), Namespace: "trailwatch/Backbone", MetricName: "QuietForwarders" },
    { AlarmName: "someone-elses-alarm", AlarmDescription: "not ours", StateValue: "ALARM", StateUpdatedTimestamp: new Date(at.getTime() - 86_400_000), Namespace: "AWS/EC2", MetricName: "CPUUtilization" },
  ]);
  s.alarms.set(key(MGMT, HOME), [
    { AlarmName: `trailwatch-${STACK}-root-account-usage`, AlarmDescription: "Root account usage", StateValue: "OK", StateUpdatedTimestamp: new Date(at.getTime() - 86_400_000), Namespace: "trailwatch/OrgTrail", MetricName: "RootAccountUsage" },
    // Another stack's alarm in the same account is not this stack's business.
    { AlarmName: "trailwatch-staging-root-account-usage", AlarmDescription: "Root account usage", StateValue: "ALARM", StateUpdatedTimestamp: new Date(at.getTime() - 86_400_000), Namespace: "trailwatch/OrgTrail", MetricName: "RootAccountUsage" },
  ]);
  for (const r of REGIONS) {
    s.gdAdmin.set(r, SECURITY);
    s.gdAuto.set(r, "ALL");
    s.detectors.set(key(SECURITY, r), [`det${r.replace(/-/g, "")}`]);
    s.gdMembers.set(r, [MGMT, LOG_ARCHIVE, ...s.members].map((a) => ({ AccountId: a, RelationshipStatus: "Enabled" })));
  }
  s.aggregatorSources = [
    { SourceId: ORG_ID, SourceType: "ORGANIZATION", AwsRegion: "eu-west-1", LastUpdateStatus: "SUCCEEDED" },
    { SourceId: ORG_ID, SourceType: "ORGANIZATION", AwsRegion: "eu-central-1", LastUpdateStatus: "SUCCEEDED" },
  ];
  const q = (account: string, region: string, name: string) => s.queues.set(`${account}/${region}/${name}`, { account, region, name, messages: 0, bodies: [] });
  q(SECURITY, HOME, "central-delivery-dlq-0a1b2c3");
  q(SECURITY, HOME, "deny-advisor-dlq-4d5e6f7");
  q(SECURITY, HOME, "deny-advisor-queue-8a9b0c1");
  for (const a of [MGMT, ...targets]) for (const r of FORWARDER_REGIONS) q(a, r, "trailwatch-forwarder-dlq");
  s.functions = [
    { FunctionName: "central-heartbeat-7f3a9c1", Environment: { Variables: { HEARTBEAT_TABLE: "central-heartbeats-2b4c6d8", QUIET_MINUTES: "30" } } },
    { FunctionName: "slack-app-4e5f6a7", Environment: { Variables: { SLACK_SIGNING_SECRET_SECRET: `arn:aws:secretsmanager:${HOME}:${SECURITY}:secret:trailwatch/${STACK}/slackSigningSecret-AbCdEf`, SLACK_BOT_TOKEN_SECRET: "x" } } },
    { FunctionName: "unrelated", Environment: { Variables: { FOO: "bar" } } },
  ];
  s.secrets.set(`trailwatch/${STACK}/slackSigningSecret`, SIGNING_SECRET);
  s.secrets.set(`trailwatch/${STACK}/slackBotToken`, JSON.stringify({ token: BOT_TOKEN }));
  for (const a of [MGMT, ...targets]) for (const r of FORWARDER_REGIONS) s.forwarding.add(key(a, r));
  return s;
}

function page<T>(items: T[], token: string | undefined, size: number): { items: T[]; next?: string } {
  const start = token ? Number(token) : 0;
  const next = start + size < items.length ? String(start + size) : undefined;
  return { items: items.slice(start, start + size), next };
}

/** Does a forwarder's `trailwatch-changes` stream pick this event up? (The shape the probe sends.) */
function forwardedByChangesStream(entry: any): boolean {
  const detail = JSON.parse(entry.Detail ?? "{}");
  return entry.DetailType === "AWS API Call via CloudTrail" && detail.readOnly === false && detail.errorCode === undefined && !["ec2.amazonaws.com", "iam.amazonaws.com", "organizations.amazonaws.com"].includes(detail.eventSource);
}

/** AWS refuses a page size above the API's maximum; so does the fixture (the stub must not accept what AWS refuses). */
function maxParam(input: Record<string, any>, name: string, max: number): void {
  if (input[name] !== undefined && Number(input[name]) > max) throw new StubError("ValidationException", `${name} ${input[name]} is above the maximum ${max}`);
}

/** The stub handler answering from `s`. */
export function orgHandler(s: OrgState, stubUrl: () => string) {
  // The SQS client sends each queue's calls to its QueueUrl (the URL is the endpoint), so queue URLs point at the stub.
  const queueUrl = (p: string) => `${stubUrl()}/${p}`;
  const queuePath = (url: string) => new URL(url).pathname.slice(1);
  return (c: StubCall): unknown => {
    const { account, region, input } = c;
    const op = `${c.service}.${c.operation}`;
    switch (op) {
      // ---- STS ----
      case "sts.GetCallerIdentity":
        return { Account: account, Arn: `arn:aws:sts::${account}:assumed-role/Admin/tester`, UserId: "AROATEST:tester" };
      case "sts.AssumeRole": {
        // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: session name 2-64 of [\w+=,.@-];
        // a session started from a role session (role chaining) lasts one hour at most.
        if (!/^[\w+=,.@-]{2,64}$/.test(input.RoleSessionName ?? "")) throw new StubError("ValidationError", "RoleSessionName does not satisfy its constraints");
        if (Number(input.DurationSeconds ?? 3600) > 3600) throw new StubError("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
        const target = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(input.RoleArn ?? "");
        if (!target || s.noRole.has(target[1]) || !allAccounts(s).includes(target[1]))
          throw new StubError("AccessDenied", `User: arn:aws:sts::${account}:assumed-role/Admin/tester is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`, 403);
        return { Credentials: { AccessKeyId: accessKeyFor(target[1]), SecretAccessKey: "stub-secret", SessionToken: "stub-session", Expiration: new Date(Date.now() + 3_600_000) }, AssumedRoleUser: { Arn: `arn:aws:sts::${target[1]}:assumed-role/${target[2]}/${input.RoleSessionName}`, AssumedRoleId: "AROA:x" } };
      }
      // ---- Organizations (management only) ----
      case "organizations.DescribeOrganization":
        if (account !== MGMT) throw new StubError("AccessDeniedException", "not the management account");
        return { Organization: { Id: s.orgId, Arn: `arn:aws:organizations::${MGMT}:organization/${s.orgId}`, FeatureSet: s.featureSet, MasterAccountId: MGMT } };
      case "organizations.ListAccounts": {
        const p = page(allAccounts(s), input.NextToken, 20);
        return { Accounts: p.items.map((id) => ({ Id: id, Name: `account-${id}`, Status: "ACTIVE", Arn: `arn:aws:organizations::${MGMT}:account/${s.orgId}/${id}` })), NextToken: p.next };
      }
      case "organizations.ListAWSServiceAccessForOrganization":
        return { EnabledServicePrincipals: [...s.serviceAccess].map((p) => ({ ServicePrincipal: p, DateEnabled: new Date("2025-01-01T00:00:00Z") })) };
      case "organizations.ListDelegatedAdministrators":
        return { DelegatedAdministrators: (s.delegated.get(input.ServicePrincipal) ?? []).map((id) => ({ Id: id, Name: `account-${id}`, Status: "ACTIVE" })) };
      // ---- CloudFormation ----
      case "cloudformation.DescribeOrganizationsAccess":
        return { Status: s.stackSetsAccess };
      case "cloudformation.ListStackSets":
        return { Summaries: Array.from({ length: s.stackSets }, (_, i) => ({ StackSetName: `other-${i}`, Status: "ACTIVE" })) };
      case "cloudformation.ListStackInstances": {
        maxParam(input, "MaxResults", 100);
        const all = s.instances.get(input.StackSetName);
        if (!all) throw new StubError("StackSetNotFoundException", `StackSet ${input.StackSetName} not found`);
        const p = page(all, input.NextToken, Number(input.MaxResults ?? 100));
        return { Summaries: p.items, NextToken: p.next };
      }
      // ---- CloudTrail ----
      case "cloudtrail.DescribeTrails":
        return { trailList: s.trails };
      case "cloudtrail.GetTrailStatus":
        if (!s.trailStatus || input.Name !== `arn:aws:cloudtrail:${HOME}:${MGMT}:trail/trailwatch-org`) throw new StubError("TrailNotFoundException", `Unknown trail: ${input.Name}`);
        return s.trailStatus;
      // ---- Config ----
      case "config.DescribeConfigurationRecorders":
        return { ConfigurationRecorders: s.recorders.get(key(account, region)) ?? [] };
      case "config.DescribeDeliveryChannels":
        return { DeliveryChannels: s.channels.get(key(account, region)) ?? [] };
      case "config.DescribeConfigurationAggregatorSourcesStatus":
        if (!s.aggregatorSources || account !== SECURITY || input.ConfigurationAggregatorName !== `trailwatch-${STACK}-organization`)
          throw new StubError("NoSuchConfigurationAggregatorException", "The configuration aggregator does not exist");
        return { AggregatedSourceStatusList: s.aggregatorSources };
      // ---- GuardDuty ----
      case "guardduty.ListDetectors":
        return { DetectorIds: s.detectors.get(key(account, region)) ?? [] };
      case "guardduty.ListOrganizationAdminAccounts":
        if (account !== MGMT) throw new StubError("BadRequestException", "only the management account", 400);
        return { AdminAccounts: s.gdAdmin.has(region) ? [{ AdminAccountId: s.gdAdmin.get(region), AdminStatus: "ENABLED" }] : [] };
      case "guardduty.DescribeOrganizationConfiguration":
        return { AutoEnable: true, AutoEnableOrganizationMembers: s.gdAuto.get(region) ?? "NONE", MemberAccountLimitReached: false };
      case "guardduty.ListMembers": {
        if (input.OnlyAssociated !== "false") throw new StubError("BadRequestException", "test expects OnlyAssociated=false (all members, not only associated)");
        const p = page(s.gdMembers.get(region) ?? [], input.NextToken, 50);
        return { Members: p.items.map((m) => ({ ...m, DetectorId: "d", Email: "x@example.com", MasterId: SECURITY, UpdatedAt: "2026-01-01T00:00:00Z" })), NextToken: p.next };
      }
      // ---- IAM ----
      case "iam.GetRole":
      case "iam.GetUser": {
        const kind = c.operation === "GetRole" ? "role" : "user";
        const name = input.RoleName ?? input.UserName;
        const arn = `arn:aws:iam::${account}:${kind}/${name}`;
        if (!s.iamPrincipals.has(arn)) throw new StubError("NoSuchEntity", `The ${kind} with name ${name} cannot be found.`, 404);
        const shape = { Path: "/", Arn: arn, CreateDate: new Date("2025-01-01T00:00:00Z") };
        return kind === "role" ? { Role: { ...shape, RoleName: name, RoleId: "AROAX" } } : { User: { ...shape, UserName: name, UserId: "AIDAX" } };
      }
      // ---- Secrets Manager (security account) ----
      case "secretsmanager.DescribeSecret":
      case "secretsmanager.GetSecretValue": {
        const id = String(input.SecretId);
        const name = id.startsWith("arn:") ? id.split(":secret:")[1].replace(/-[A-Za-z0-9]{6}$/, "") : id;
        if (account !== SECURITY || !s.secrets.has(name)) throw new StubError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
        return c.operation === "DescribeSecret" ? { Name: name, ARN: `arn:aws:secretsmanager:${region}:${SECURITY}:secret:${name}-AbCdEf` } : { Name: name, SecretString: s.secrets.get(name) };
      }
      // ---- Account ----
      case "account.ListRegions": {
        maxParam(input, "MaxResults", 50);
        const off = s.regionsOff.get(account) ?? [];
        const want: string[] = input.RegionOptStatusContains ?? ["ENABLED", "ENABLED_BY_DEFAULT", "DISABLED"];
        const regions = DEFAULT_REGIONS.map((r) => ({ RegionName: r, RegionOptStatus: off.includes(r) ? "DISABLED" : "ENABLED_BY_DEFAULT" })).filter((r) => want.includes(r.RegionOptStatus));
        return { Regions: regions };
      }
      // ---- EventBridge ----
      case "events.ListRules": {
        maxParam(input, "Limit", 100);
        if (input.EventBusName !== "default") throw new StubError("ValidationException", "test expects the default bus");
        const n = s.rules.get(key(account, region)) ?? 4;
        const wild = s.wildcardRules.get(key(account, region)) ?? 1;
        const rules = Array.from({ length: n }, (_, i) => ({
          Name: `rule-${i}`,
          EventPattern: JSON.stringify(i < wild ? { source: [{ wildcard: "com.example.*" }] } : { source: ["aws.s3"] }),
        }));
        const p = page(rules, input.NextToken, Number(input.Limit ?? 100));
        return { Rules: p.items, NextToken: p.next };
      }
      case "events.PutRule":
        s.centralRules.set(input.Name, { pattern: JSON.parse(input.EventPattern), targets: [] });
        return { RuleArn: `arn:aws:events:${region}:${account}:rule/${input.EventBusName}/${input.Name}` };
      case "events.PutTargets":
        s.centralRules.get(input.Rule)!.targets.push(...input.Targets.map((t: any) => t.Arn));
        return { FailedEntryCount: 0, FailedEntries: [] };
      case "events.RemoveTargets":
        s.centralRules.get(input.Rule)!.targets = [];
        return { FailedEntryCount: 0, FailedEntries: [] };
      case "events.DeleteRule":
        if (s.centralRules.get(input.Name)?.targets.length) throw new StubError("ValidationException", "Rule can't be deleted since it has targets.");
        s.centralRules.delete(input.Name);
        return {};
      case "events.PutEvents": {
        for (const e of input.Entries) {
          if (String(e.Source).startsWith("aws.")) throw new StubError("ValidationException", "source aws.* is reserved");
          if (!s.forwarding.has(key(account, region)) || !forwardedByChangesStream(e)) continue;
          const detail = JSON.parse(e.Detail);
          for (const rule of s.centralRules.values()) {
            if (!rule.pattern.source.includes(e.Source) || !rule.pattern.detail.probeId.includes(detail.probeId)) continue;
            for (const arn of rule.targets) {
              const name = arn.split(":").pop();
              const q = [...s.queues.values()].find((x) => x.name === name);
              q?.bodies.push(JSON.stringify({ version: "0", id: crypto.randomUUID(), "detail-type": e.DetailType, source: e.Source, account, region, time: new Date().toISOString(), resources: [], detail }));
            }
          }
        }
        return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: crypto.randomUUID() })) };
      }
      // ---- SQS ----
      case "sqs.ListQueues":
        maxParam(input, "MaxResults", 1000);
        return { QueueUrls: [...s.queues.entries()].filter(([, q]) => q.account === account && q.region === region).map(([p]) => queueUrl(p)) };
      case "sqs.GetQueueUrl": {
        const found = [...s.queues.entries()].find(([, q]) => q.account === account && q.region === region && q.name === input.QueueName);
        if (!found) throw new StubError("QueueDoesNotExist", "The specified queue does not exist.");
        return { QueueUrl: queueUrl(found[0]) };
      }
      case "sqs.GetQueueAttributes": {
        const q = s.queues.get(queuePath(input.QueueUrl));
        if (!q) throw new StubError("QueueDoesNotExist", "The specified queue does not exist.");
        return { Attributes: { ApproximateNumberOfMessages: String(q.messages) } };
      }
      case "sqs.CreateQueue": {
        if (input.Attributes?.SqsManagedSseEnabled !== "true") throw new StubError("InvalidParameterValue", "test expects an encrypted queue");
        const p = `${account}/${region}/${input.QueueName}`;
        s.queues.set(p, { account, region, name: input.QueueName, messages: 0, bodies: [] });
        return { QueueUrl: queueUrl(p) };
      }
      case "sqs.DeleteQueue":
        s.queues.delete(queuePath(input.QueueUrl));
        return {};
      case "sqs.ReceiveMessage": {
        maxParam(input, "WaitTimeSeconds", 20);
        maxParam(input, "MaxNumberOfMessages", 10);
        const q = s.queues.get(queuePath(input.QueueUrl));
        if (!q) throw new StubError("QueueDoesNotExist", "The specified queue does not exist.");
        // The SDK checks each message's MD5OfBody, as SQS sends it.
        const bodies = q.bodies.splice(0, Number(input.MaxNumberOfMessages ?? 1));
        return new Promise((resolve) => setTimeout(() => resolve({ Messages: bodies.map((Body, i) => ({ MessageId: `m${i}`, ReceiptHandle: `r${i}`, Body, MD5OfBody: crypto.createHash("md5").update(Body).digest("hex") })) }), bodies.length ? 0 : 50));
      }
      // ---- DynamoDB ----
      case "dynamodb.Scan": {
        if (account !== SECURITY || input.TableName !== "central-heartbeats-2b4c6d8") throw new StubError("ResourceNotFoundException", "Requested resource not found");
        const items = s.heartbeats.map((b) => ({ pk: { S: `${b.account}#${b.region}` }, account: { S: b.account }, region: { S: b.region }, lastSeen: { S: b.lastSeen } }));
        const start = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.pk.S.split("@")[1]) : 0;
        const slice = items.slice(start, start + 100);
        return { Items: slice, Count: slice.length, LastEvaluatedKey: start + 100 < items.length ? { pk: { S: `page@${start + 100}` } } : undefined };
      }
      // ---- CloudWatch ----
      case "monitoring.DescribeAlarms":
        maxParam(input, "MaxRecords", 100);
        return { MetricAlarms: s.alarms.get(key(account, region)) ?? [] };
      // ---- Lambda ----
      case "lambda.ListFunctions":
        return { Functions: account === SECURITY && region === HOME ? s.functions : [] };
      case "lambda.GetFunctionUrlConfig":
        if (!s.functionUrl) throw new StubError("ResourceNotFoundException", "no url", 404);
        return { FunctionUrl: s.functionUrl, FunctionArn: `arn:aws:lambda:${HOME}:${SECURITY}:function:${input.FunctionName}`, AuthType: "NONE", CreationTime: "2026-01-01T00:00:00Z", LastModifiedTime: "2026-01-01T00:00:00Z" };
      default:
        throw new StubError("UnknownOperationException", `fixture does not answer ${op}`);
    }
  };
}

// ---- Slack: the Web API and the app's request URL -----------------------------------------------------------------

export interface SlackState {
  tokenValid: boolean;
  botInChannel: boolean;
  /** The request URL checks signatures (a broken deploy answers everything with 200). */
  urlChecksSignature: boolean;
  signingSecret: string;
}

/**
 * A Slack stand-in: `/api/auth.test` and `/api/conversations.info` as the Web API answers them, and `/app` as the
 * trailwatch request URL (Bolt's AwsLambdaReceiver) behaves: 200 to `ssl_check`, then a Slack signature check (v0
 * HMAC-SHA256 of `v0:<ts>:<body>`, 5-minute window), then the `url_verification` challenge.
 * https://api.slack.com/authentication/verifying-requests-from-slack . The real handler is run in tests/verify.test.ts.
 */
export async function startSlack(state: SlackState, now: () => Date): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", (): void => {
      const body = Buffer.concat(chunks).toString("utf8");
      const json = (o: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(o));
      if (req.url === "/api/auth.test") {
        if (!state.tokenValid || req.headers.authorization !== `Bearer ${BOT_TOKEN}`) return void json({ ok: false, error: "invalid_auth" });
        return void json({ ok: true, user: "trailwatch", user_id: "U0BOT0001", bot_id: "B0BOT0001", team: "Example", team_id: "T0001" });
      }
      if (req.url === "/api/conversations.info") {
        const params = new URLSearchParams(body);
        if (params.get("channel") !== CHANNEL) return void json({ ok: false, error: "channel_not_found" });
        return void json({ ok: true, channel: { id: CHANNEL, name: "secops", is_member: state.botInChannel } });
      }
      if (req.url === "/app") {
        // As Bolt's AwsLambdaReceiver: ssl_check first (no signature check), then the signature, then url_verification.
        const form = new URLSearchParams(body);
        if (form.get("ssl_check") !== null && !String(req.headers["content-type"]).includes("json")) return void res.writeHead(200).end("");
        if (state.urlChecksSignature) {
          const ts = Number(req.headers["x-slack-request-timestamp"]);
          const sig = String(req.headers["x-slack-signature"] ?? "");
          const expected = "v0=" + crypto.createHmac("sha256", state.signingSecret).update(`v0:${ts}:${body}`).digest("hex");
          const fresh = Math.abs(now().getTime() / 1000 - ts) <= 300;
          if (!fresh || sig.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) return void res.writeHead(401).end("");
        }
        if (String(req.headers["content-type"]).includes("json")) {
          const o = JSON.parse(body);
          if (o.type === "url_verification") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ challenge: o.challenge }));
        }
        return void res.writeHead(200).end("");
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
