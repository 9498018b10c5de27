/**
 * `npm run verify -- --stack <name> [--json] [--outputs <file>] [--probe <account> [--probe-region <region>]]`
 *
 * After `pulumi up`, read-mostly, with the management account's credentials: is the deployment working? StackSet
 * instances, forwarder heartbeats, the organization trail, alarms, the Slack endpoint and bot, GuardDuty and Config
 * organization state, dead-letter queues. `--probe` sends one test event through an account's forwarder and waits
 * for it on the central bus (the only writes verify makes, all removed afterwards).
 *
 * Names come from the config the way the components build them (`trailwatch-<stack>-forwarders`, the trail name, the
 * Slack secrets ...), and, for names Pulumi generates (the heartbeat table, the Slack Function URL), from the stack
 * outputs file (`--outputs`, `pulumi stack output --json` saved) or else from the Lambda functions that use them
 * (their environment), found in the security account.
 * Exit codes as preflight: 0 ok, 1 a check failed, 2 could not start.
 */
import * as crypto from "crypto";
import { CloudFormationClient, ListStackInstancesCommand, type StackInstanceSummary } from "@aws-sdk/client-cloudformation";
import { CloudTrailClient, GetTrailStatusCommand, type GetTrailStatusCommandOutput } from "@aws-sdk/client-cloudtrail";
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeOrganizationConfigurationCommand,
  GuardDutyClient,
  ListDetectorsCommand,
  ListMembersCommand,
  ListOrganizationAdminAccountsCommand,
  type AdminAccount,
  type Member,
} from "@aws-sdk/client-guardduty";
import { ConfigServiceClient, DescribeConfigurationAggregatorSourcesStatusCommand, type AggregatedSourceStatus } from "@aws-sdk/client-config-service";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetFunctionUrlConfigCommand, LambdaClient, ListFunctionsCommand, type FunctionConfiguration } from "@aws-sdk/client-lambda";
import type { StackConfig } from "../stacks/config";
import { HEARTBEAT_RULE_NAME } from "../functions/heartbeat";
import { tokenFromSecret } from "../functions/slack/client";
import { buildReport, exitCode, fail, formatReport, parseCommonArgs, pass, runChecks, StartError, warn, type Check, type Finding } from "./checklist";
import { AwsContext, errorName, partitionOf } from "./awsContext";
import { ConfigProblems, loadOutputs, loadStack } from "./stackInput";
import { plannedStackSets } from "./preflight";
import { runProbe } from "./probe";

const USAGE = "usage: npm run verify -- --stack <name> [--json] [--outputs <file>] [--config <file>] [--probe <account> [--probe-region <region>]] [--concurrency <n>]";

export interface VerifyContext {
  aws: AwsContext;
  config: StackConfig;
  stack: string;
  outputs: Record<string, unknown>;
  now: Date;
  probe?: { account: string; region: string };
  /** Slack Web API base URL (tests point it at a stub; `SLACK_API_URL`, as the Lambdas read it). */
  slackApiUrl: string;
  /** Memo: Lambda functions of the security account's home region. */
  functions?: Promise<FunctionConfiguration[]>;
}
type C = VerifyContext;

/** An alarm stuck this long in INSUFFICIENT_DATA is not just new. */
export const STUCK_MINUTES = 60;
/** A trail that delivered nothing for this long is not logging in practice. */
export const TRAIL_DELIVERY_MINUTES = 60;

const sec = (c: StackConfig) => c.accounts.security;
const slackOn = (c: StackConfig) => c.features.eventBackbone && (c.features.sgRevertBot || c.features.scpWatch);

function securityFunctions(ctx: C): Promise<FunctionConfiguration[]> {
  ctx.functions ??= (async () => {
    const all: FunctionConfiguration[] = [];
    let Marker: string | undefined;
    do {
      const page = await ctx.aws.send<LambdaClient, { Functions?: FunctionConfiguration[]; NextMarker?: string }>(LambdaClient, sec(ctx.config), ctx.config.homeRegion, new ListFunctionsCommand({ Marker }));
      all.push(...(page.Functions ?? []));
      Marker = page.NextMarker;
    } while (Marker);
    return all;
  })();
  return ctx.functions;
}

/** A function of this stack that has environment variable `key`; ambiguous (several stacks in one account) = undefined. */
async function functionWithEnv(ctx: C, key: string): Promise<FunctionConfiguration | undefined> {
  const found = (await securityFunctions(ctx)).filter((f) => f.Environment?.Variables?.[key] !== undefined);
  if (found.length === 1) return found[0];
  // Several stacks in one account: the stack's own secrets name the stack (stacks/slackSecrets.ts).
  const mine = found.filter((f) => Object.values(f.Environment?.Variables ?? {}).some((v) => v.includes(`trailwatch/${ctx.stack}/`)));
  return mine.length === 1 ? mine[0] : undefined;
}

async function heartbeatTable(ctx: C): Promise<string | undefined> {
  if (typeof ctx.outputs.heartbeatTable === "string") return ctx.outputs.heartbeatTable;
  const fn = await functionWithEnv(ctx, "HEARTBEAT_TABLE");
  return fn?.Environment?.Variables?.HEARTBEAT_TABLE;
}

async function slackUrl(ctx: C): Promise<string | undefined> {
  if (typeof ctx.outputs.slackRequestUrl === "string") return ctx.outputs.slackRequestUrl;
  const fn = await functionWithEnv(ctx, "SLACK_SIGNING_SECRET_SECRET");
  if (!fn) return undefined;
  const out = await ctx.aws.send<LambdaClient, { FunctionUrl?: string }>(LambdaClient, sec(ctx.config), ctx.config.homeRegion, new GetFunctionUrlConfigCommand({ FunctionName: fn.FunctionName }));
  return out.FunctionUrl;
}

/** The Slack secret's id: the existing one named in config, else the one the stack created (stacks/slackSecrets.ts). */
export function slackSecretId(config: StackConfig, stack: string, key: "slackBotToken" | "slackSigningSecret"): string {
  return config.secrets[key] ?? `trailwatch/${stack}/${key}`;
}

/** A missing or empty secret is a finding (with the command that fixes it), not a crash. */
class SecretProblem extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

async function readSecret(ctx: C, id: string, key: "slackBotToken" | "slackSigningSecret"): Promise<string> {
  const m = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(id);
  const region = m ? m[1] : ctx.config.homeRegion;
  const where = `the security account ${sec(ctx.config)} (${region})`;
  let out: { SecretString?: string };
  try {
    out = await ctx.aws.send(SecretsManagerClient, sec(ctx.config), region, new GetSecretValueCommand({ SecretId: id }));
  } catch (err) {
    if (errorName(err) !== "ResourceNotFoundException") throw err;
    throw new SecretProblem(
      fail(
        `secret ${id} does not exist in ${where}`,
        ctx.config.secrets[key]
          ? `create it there (aws secretsmanager create-secret --name ${id} --secret-string '<value>' --region ${region}) or fix trailwatch:secrets.${key}`
          : `pulumi config set --secret trailwatch:${key} '<value>' and pulumi up (the stack creates ${id})`,
      ),
    );
  }
  if (!out.SecretString)
    throw new SecretProblem(fail(`secret ${id} in ${where} has no string value`, `aws secretsmanager put-secret-value --secret-id ${id} --secret-string '<value>' --region ${region}`));
  return out.SecretString;
}

/**
 * Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return "v0=" + crypto.createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex");
}

async function slackApi(ctx: C, token: string, method: string, params: Record<string, string> = {}): Promise<Record<string, any>> {
  const res = await fetch(new URL(method, ctx.slackApiUrl.endsWith("/") ? ctx.slackApiUrl : ctx.slackApiUrl + "/"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as Record<string, any>;
}

const minutesAgo = (now: Date, t: Date | string | undefined) => (t === undefined ? Infinity : Math.round((now.getTime() - new Date(t).getTime()) / 60_000));

// ---- the checks --------------------------------------------------------------------------------------------------

export const verifyChecks: Check<C>[] = [
  {
    id: "stackset-instances",
    title: "StackSet instances are CURRENT in every account and region",
    // Status CURRENT = the stack matches the stack set; OUTDATED/INOPERABLE with a StatusReason otherwise.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackInstanceSummary.html
    async run(ctx) {
      const sets = plannedStackSets(ctx.config, ctx.stack);
      if (sets.length === 0) return [pass("this config deploys no StackSet")];
      const targets = await ctx.aws.targetAccounts();
      const out: Finding[] = [];
      await Promise.all(
        sets.map(async (set) => {
          const instances: StackInstanceSummary[] = [];
          let NextToken: string | undefined;
          try {
            do {
              const page = await ctx.aws.send<CloudFormationClient, { Summaries?: StackInstanceSummary[]; NextToken?: string }>(
                CloudFormationClient,
                ctx.config.accounts.management,
                ctx.config.homeRegion,
                new ListStackInstancesCommand({ StackSetName: set.name, NextToken, MaxResults: 100 }),
              );
              instances.push(...(page.Summaries ?? []));
              NextToken = page.NextToken;
            } while (NextToken);
          } catch (err) {
            if (errorName(err) === "StackSetNotFoundException") {
              out.push(fail(`stack set ${set.name} does not exist`, `pulumi up --stack ${ctx.stack} (it creates ${set.name})`));
              return;
            }
            throw err;
          }
          const seen = new Set<string>();
          let current = 0;
          for (const i of instances) {
            seen.add(`${i.Account}/${i.Region}`);
            const detailed = i.StackInstanceStatus?.DetailedStatus;
            if (i.Status === "CURRENT" && (detailed === undefined || detailed === "SUCCEEDED")) {
              current++;
              continue;
            }
            out.push(
              fail(
                `${set.name}: ${i.Account} ${i.Region} is ${i.Status}${detailed ? `/${detailed}` : ""}${i.StatusReason ? `: ${i.StatusReason}` : ""}`,
                `fix the cause in ${i.Account} ${i.Region}, then aws cloudformation create-stack-instances --stack-set-name ${set.name} --deployment-targets OrganizationalUnitIds=${ctx.config.memberTargets.join(",")} --regions ${i.Region} (or pulumi up)`,
              ),
            );
          }
          for (const a of targets)
            for (const r of set.regions)
              if (!seen.has(`${a}/${r}`))
                out.push(
                  fail(
                    `${set.name}: no stack instance in ${a} ${r}`,
                    `aws cloudformation create-stack-instances --stack-set-name ${set.name} --deployment-targets OrganizationalUnitIds=${ctx.config.memberTargets.join(",")} --regions ${r}; if ${a} moved OUs, check trailwatch:memberTargets`,
                  ),
                );
          out.push(pass(`${set.name}: ${current} instances CURRENT`));
        }),
      );
      return out.sort((a, b) => a.message.localeCompare(b.message));
    },
  },
  {
    id: "heartbeats",
    title: "Every forwarder sends heartbeats",
    async run(ctx) {
      if (!ctx.config.features.eventBackbone) return [pass("features.eventBackbone is off")];
      const table = await heartbeatTable(ctx);
      if (!table)
        return [fail(`cannot find the heartbeat table in ${sec(ctx.config)} ${ctx.config.homeRegion} (no single function with HEARTBEAT_TABLE)`, "pass --outputs <file> with a heartbeatTable key, or check that pulumi up created the central-heartbeat function")];
      const beats = new Map<string, string>();
      let ExclusiveStartKey: Record<string, any> | undefined;
      do {
        const page = await ctx.aws.send<DynamoDBClient, { Items?: Record<string, any>[]; LastEvaluatedKey?: Record<string, any> }>(
          DynamoDBClient,
          sec(ctx.config),
          ctx.config.homeRegion,
          new ScanCommand({ TableName: table, ExclusiveStartKey }),
        );
        for (const item of page.Items ?? []) if (item.account?.S && item.region?.S) beats.set(`${item.account.S}/${item.region.S}`, item.lastSeen?.S ?? "");
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      const limit = ctx.config.eventBus.heartbeatMinutes;
      const out: Finding[] = [];
      let fresh = 0;
      const accounts = await ctx.aws.forwarderAccounts();
      const regions = ctx.aws.forwarderRegions();
      const fix = (a: string, r: string) =>
        `in ${a} ${r}: check the forwarder's stack instance (verify's StackSet check), that rule ${HEARTBEAT_RULE_NAME} is ENABLED (aws events describe-rule --name ${HEARTBEAT_RULE_NAME} --region ${r}) and the queue trailwatch-forwarder-dlq is empty`;
      for (const a of accounts)
        for (const r of regions) {
          const last = beats.get(`${a}/${r}`);
          if (last === undefined) out.push(fail(`${a} ${r}: no heartbeat ever recorded`, fix(a, r)));
          else if (minutesAgo(ctx.now, last) > limit) out.push(fail(`${a} ${r}: last heartbeat ${minutesAgo(ctx.now, last)} minutes ago (${last}; eventBus.heartbeatMinutes ${limit})`, fix(a, r)));
          else fresh++;
        }
      out.push(pass(`${fresh} of ${accounts.length * regions.length} forwarders sent a heartbeat within ${limit} minutes (table ${table})`));
      return out;
    },
  },
  {
    id: "probe",
    title: "A test event crosses a forwarder to the central bus",
    async run(ctx) {
      if (!ctx.probe) return [pass("not asked (--probe <account>)")];
      return runProbe(ctx.aws, ctx.config, ctx.probe.account, ctx.probe.region);
    },
  },
  {
    id: "org-trail",
    title: "The organization trail is logging and delivering",
    // https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html
    async run(ctx) {
      const { config } = ctx;
      if (!config.features.orgTrail) return [pass("features.orgTrail is off")];
      const arn = `arn:${partitionOf(config.homeRegion)}:cloudtrail:${config.homeRegion}:${config.accounts.management}:trail/${config.orgTrail.name}`;
      let s: GetTrailStatusCommandOutput;
      try {
        s = await ctx.aws.send(CloudTrailClient, config.accounts.management, config.homeRegion, new GetTrailStatusCommand({ Name: arn }));
      } catch (err) {
        if (errorName(err) === "TrailNotFoundException") return [fail(`trail ${arn} does not exist`, `pulumi up --stack ${ctx.stack}`)];
        throw err;
      }
      const out: Finding[] = [];
      if (!s.IsLogging) out.push(fail(`${config.orgTrail.name} is not logging (stopped ${s.StopLoggingTime?.toISOString() ?? "at some point"})`, `aws cloudtrail start-logging --name ${arn} --region ${config.homeRegion}`));
      if (s.LatestDeliveryError)
        out.push(fail(`${config.orgTrail.name}: S3 delivery error ${s.LatestDeliveryError}`, "the log-archive bucket or its KMS key refuses CloudTrail: compare their policies with the plan (npm run plan) and pulumi up"));
      if (s.LatestCloudWatchLogsDeliveryError)
        out.push(fail(`${config.orgTrail.name}: CloudWatch Logs delivery error ${s.LatestCloudWatchLogsDeliveryError}`, "check the trail's delivery role and log group key (pulumi up restores them)"));
      const age = minutesAgo(ctx.now, s.LatestDeliveryTime);
      if (s.IsLogging && age > TRAIL_DELIVERY_MINUTES)
        out.push(
          fail(
            `${config.orgTrail.name}: latest delivery ${s.LatestDeliveryTime ? `${age} minutes ago (${s.LatestDeliveryTime.toISOString()})` : "never"}`,
            "CloudTrail delivers every few minutes while anything happens: check LatestDeliveryError and the bucket policy (aws cloudtrail get-trail-status)",
          ),
        );
      if (out.length === 0) out.push(pass(`${config.orgTrail.name} logging, latest delivery ${age} minutes ago`));
      return out;
    },
  },
  {
    id: "alarms",
    title: "No trailwatch alarm is stuck in ALARM or INSUFFICIENT_DATA",
    // With treatMissingData notBreaching an alarm without data goes OK; INSUFFICIENT_DATA past the first periods means
    // the metric never arrives. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
    async run(ctx) {
      const { config } = ctx;
      const places = [{ account: sec(config), region: config.homeRegion }];
      if (config.features.orgTrail) places.push({ account: config.accounts.management, region: config.homeRegion });
      const alarms: { account: string; alarm: MetricAlarm }[] = [];
      await Promise.all(
        places.map(async ({ account, region }) => {
          let NextToken: string | undefined;
          do {
            const page = await ctx.aws.send<CloudWatchClient, { MetricAlarms?: MetricAlarm[]; NextToken?: string }>(CloudWatchClient, account, region, new DescribeAlarmsCommand({ NextToken, MaxRecords: 100 }));
            for (const alarm of page.MetricAlarms ?? [])
              // The org trail's rows are named trailwatch-<stack>-<row>; the others Pulumi names, their descriptions start "trailwatch:".
              if ((alarm.AlarmName ?? "").startsWith(`trailwatch-${ctx.stack}-`) || (alarm.AlarmDescription ?? "").startsWith("trailwatch:")) alarms.push({ account, alarm });
            NextToken = page.NextToken;
          } while (NextToken);
        }),
      );
      const out: Finding[] = [];
      let ok = 0;
      for (const { account, alarm } of alarms.sort((a, b) => (a.alarm.AlarmName ?? "").localeCompare(b.alarm.AlarmName ?? ""))) {
        const since = minutesAgo(ctx.now, alarm.StateUpdatedTimestamp);
        const where = `${alarm.AlarmName} (${account} ${config.homeRegion})`;
        if (alarm.StateValue === "ALARM")
          out.push(fail(`${where} in ALARM for ${since} minutes: ${alarm.StateReason ?? ""}`, `${alarm.AlarmDescription ?? "see the alarm"}; it returns to OK by itself once the cause is gone`));
        else if (alarm.StateValue === "INSUFFICIENT_DATA" && since > STUCK_MINUTES)
          out.push(
            fail(
              `${where} has had INSUFFICIENT_DATA for ${since} minutes (${alarm.Namespace}/${alarm.MetricName})`,
              `nothing publishes ${alarm.Namespace}/${alarm.MetricName}: check the function or service that emits it (its log group) and the alarm's dimensions`,
            ),
          );
        else ok++;
      }
      out.push(pass(`${ok} of ${alarms.length} trailwatch alarms OK`));
      return out;
    },
  },
  {
    id: "slack-url",
    title: "The Slack request URL checks signatures",
    // Slack signs every request (https://api.slack.com/authentication/verifying-requests-from-slack) and checks a
    // slash-command URL with a signed `ssl_check`. Bolt's AwsLambdaReceiver alone answers ssl_check with 200 before it
    // looks at the signature (@slack/bolt dist/receivers/AwsLambdaReceiver.js toHandler); trailwatch's app checks the
    // signature first (functions/slack/verify.ts), but a URL in front of another handler may not: the unsigned request
    // is a command-shaped body (401 expected), and a signed Events API `url_verification` (200 with the challenge echoed
    // only after the signature matched) proves the stored signing secret is the app's.
    async run(ctx) {
      if (!slackOn(ctx.config)) return [pass("no feature takes decisions in Slack")];
      const url = await slackUrl(ctx);
      if (!url) return [fail(`cannot find the Slack request URL in ${sec(ctx.config)} ${ctx.config.homeRegion}`, "pass --outputs <file> (pulumi stack output --json) with slackRequestUrl")];
      const secretId = slackSecretId(ctx.config, ctx.stack, "slackSigningSecret");
      let secret: string;
      try {
        secret = tokenFromSecret(await readSecret(ctx, secretId, "slackSigningSecret"));
      } catch (err) {
        if (err instanceof SecretProblem) return [err.finding];
        throw err;
      }
      const ts = Math.floor(ctx.now.getTime() / 1000);
      const post = (body: string, contentType: string, signed: boolean) =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": contentType, ...(signed ? { "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(secret, ts, body) } : {}) },
          body,
          signal: AbortSignal.timeout(15_000),
        });
      const form = "application/x-www-form-urlencoded";
      const out: Finding[] = [];
      const unsigned = await post("command=%2Ftrailwatch-verify&text=&user_id=U00VERIFY00&channel_id=C00VERIFY00", form, false);
      if (unsigned.status !== 401)
        out.push(fail(`${url} answered ${unsigned.status} to an unsigned request (expected 401)`, "the function must verify the Slack signature before anything else: redeploy (pulumi up) and check its log for errors"));
      const ssl = await post("ssl_check=1&token=trailwatch-verify", form, true);
      if (ssl.status !== 200) out.push(fail(`${url} answered ${ssl.status} to a signed ssl_check (expected 200)`, "the function does not answer Slack: check its log (errors reading the Slack secrets are the usual cause) and pulumi up"));
      const challenge = crypto.randomBytes(12).toString("hex");
      const verification = await post(JSON.stringify({ type: "url_verification", token: "trailwatch-verify", challenge }), "application/json", true);
      const echoed = verification.status === 200 && (await verification.text()).includes(challenge);
      if (!echoed)
        out.push(
          fail(
            `${url} answered ${verification.status} to a request signed with the secret in ${secretId} (expected 200 with the challenge): that secret is not the one the function checks against`,
            `put the app's signing secret (api.slack.com/apps -> Basic Information -> Signing Secret) in ${secretId}: aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<secret>' (security account ${sec(ctx.config)}); a running function reads it on its next cold start`,
          ),
        );
      if (out.length === 0) out.push(pass(`${url}: 401 unsigned, 200 to a signed ssl_check and url_verification`));
      return out;
    },
  },
  {
    id: "slack-bot",
    title: "The Slack bot token works and the bot is in the channel",
    // https://api.slack.com/methods/auth.test , https://api.slack.com/methods/conversations.info (is_member)
    async run(ctx) {
      const { config } = ctx;
      if (!config.features.eventBackbone) return [pass("nothing posts to Slack")];
      if (!config.slack) return [pass("Slack is off (trailwatch:slack unset): nothing posts to Slack")];
      const slack = config.slack;
      const secretId = slackSecretId(config, ctx.stack, "slackBotToken");
      let token: string;
      try {
        token = tokenFromSecret(await readSecret(ctx, secretId, "slackBotToken"));
      } catch (err) {
        if (err instanceof SecretProblem) return [err.finding];
        throw err;
      }
      const auth = await slackApi(ctx, token, "auth.test");
      if (!auth.ok) return [fail(`the bot token in ${secretId} is refused: ${auth.error}`, `reinstall the app to the workspace and put its Bot User OAuth Token (xoxb-...) in ${secretId} (aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string xoxb-...)`)];
      const info = await slackApi(ctx, token, "conversations.info", { channel: slack.channelId });
      if (!info.ok)
        return [fail(`conversations.info ${slack.channelId}: ${info.error}`, `check trailwatch:slack.channelId (${slack.channelId}) and that the app has the channels:read / groups:read scope`)];
      if (!info.channel?.is_member)
        return [fail(`bot ${auth.user ?? auth.user_id} is not in channel ${slack.channelId}${info.channel?.name ? ` (#${info.channel.name})` : ""}`, `in Slack: /invite @${auth.user ?? "trailwatch"} in the channel`)];
      return [pass(`bot ${auth.user ?? auth.user_id} (team ${auth.team}) is in ${info.channel?.name ? `#${info.channel.name}` : slack.channelId}`)];
    },
  },
  {
    id: "guardduty",
    title: "GuardDuty administrator, auto-enable and members in every region",
    // https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_organizations.html
    async run(ctx) {
      const { config } = ctx;
      if (!config.features.guardDuty || !config.features.eventBackbone) return [pass("features.guardDuty is off")];
      const security = sec(config);
      const accounts = (await ctx.aws.orgAccounts()).map((a) => a.Id!).filter((a) => a !== security);
      const out: Finding[] = [];
      await Promise.all(
        config.regions.map(async (region) => {
          const admins = await ctx.aws.send<GuardDutyClient, { AdminAccounts?: AdminAccount[] }>(GuardDutyClient, config.accounts.management, region, new ListOrganizationAdminAccountsCommand({}));
          const admin = (admins.AdminAccounts ?? []).find((a) => a.AdminStatus === "ENABLED");
          if (admin?.AdminAccountId !== security) {
            out.push(fail(`${region}: the GuardDuty administrator is ${admin?.AdminAccountId ?? "nobody"}, expected ${security}`, `pulumi up (it makes ${security} the administrator in ${region})`));
            return;
          }
          const detectors = await ctx.aws.send<GuardDutyClient, { DetectorIds?: string[] }>(GuardDutyClient, security, region, new ListDetectorsCommand({}));
          const detectorId = detectors.DetectorIds?.[0];
          if (!detectorId) {
            out.push(fail(`${region}: the security account ${security} has no detector`, "pulumi up"));
            return;
          }
          const org = await ctx.aws.send<GuardDutyClient, { AutoEnableOrganizationMembers?: string }>(GuardDutyClient, security, region, new DescribeOrganizationConfigurationCommand({ DetectorId: detectorId }));
          if (org.AutoEnableOrganizationMembers !== "ALL")
            out.push(fail(`${region}: auto-enable is ${org.AutoEnableOrganizationMembers ?? "unset"}, expected ALL`, `in ${security}: aws guardduty update-organization-configuration --detector-id ${detectorId} --auto-enable-organization-members ALL --region ${region} (or pulumi up)`));
          const members = new Map<string, Member>();
          let NextToken: string | undefined;
          do {
            const page = await ctx.aws.send<GuardDutyClient, { Members?: Member[]; NextToken?: string }>(GuardDutyClient, security, region, new ListMembersCommand({ DetectorId: detectorId, OnlyAssociated: "false", NextToken }));
            for (const m of page.Members ?? []) members.set(m.AccountId!, m);
            NextToken = page.NextToken;
          } while (NextToken);
          let enabled = 0;
          for (const a of accounts) {
            const m = members.get(a);
            if (m?.RelationshipStatus === "Enabled") enabled++;
            else
              // The management account is not always enrolled by auto-enable: a warning there, a fail for members.
              out.push(
                (a === config.accounts.management ? warn : fail)(
                  `${region}: ${a} is ${m ? `a member with status ${m.RelationshipStatus}` : "not a member"}`,
                  `in ${security}: aws guardduty create-members --detector-id ${detectorId} --account-details AccountId=${a} --region ${region} (auto-enable ALL does it for new accounts; an account that left the organization and came back needs it)`,
                ),
              );
          }
          out.push(pass(`${region}: administrator ${security}, auto-enable ${org.AutoEnableOrganizationMembers}, ${enabled} of ${accounts.length} members enabled`));
        }),
      );
      return out.sort((a, b) => a.message.localeCompare(b.message));
    },
  },
  {
    id: "config-aggregator",
    title: "The Config aggregator collects from every source",
    // https://docs.aws.amazon.com/config/latest/APIReference/API_DescribeConfigurationAggregatorSourcesStatus.html
    async run(ctx) {
      const { config } = ctx;
      if (!config.features.configAggregation || !config.features.eventBackbone) return [pass("features.configAggregation is off")];
      const name = typeof ctx.outputs.configAggregatorArn === "string" ? ctx.outputs.configAggregatorArn.split("/").pop()! : `trailwatch-${ctx.stack}-organization`;
      const sources: AggregatedSourceStatus[] = [];
      let NextToken: string | undefined;
      try {
        do {
          const page = await ctx.aws.send<ConfigServiceClient, { AggregatedSourceStatusList?: AggregatedSourceStatus[]; NextToken?: string }>(
            ConfigServiceClient,
            sec(config),
            config.homeRegion,
            new DescribeConfigurationAggregatorSourcesStatusCommand({ ConfigurationAggregatorName: name, NextToken }),
          );
          sources.push(...(page.AggregatedSourceStatusList ?? []));
          NextToken = page.NextToken;
        } while (NextToken);
      } catch (err) {
        if (errorName(err) === "NoSuchConfigurationAggregatorException") return [fail(`aggregator ${name} does not exist in ${sec(config)} ${config.homeRegion}`, `pulumi up --stack ${ctx.stack}`)];
        throw err;
      }
      const out: Finding[] = [];
      let ok = 0;
      for (const s of sources) {
        if (s.LastUpdateStatus === "FAILED")
          out.push(
            fail(
              `${name}: source ${s.SourceId} ${s.AwsRegion} FAILED: ${s.LastErrorCode ?? ""} ${s.LastErrorMessage ?? ""}`.trim(),
              "an organization aggregator needs its role's AWSConfigRoleForOrganizations policy and Config's trusted access (config.amazonaws.com); pulumi up restores both",
            ),
          );
        else if (s.LastUpdateStatus === "OUTDATED") out.push(warn(`${name}: source ${s.SourceId} ${s.AwsRegion} is OUTDATED`, "wait for the next aggregation (minutes); if it stays, check the source account's recorder"));
        else ok++;
      }
      if (sources.length === 0) out.push(fail(`${name} has no sources yet`, "an organization aggregator lists its sources within minutes of creation: check its role and Config's trusted access"));
      else out.push(pass(`${ok} of ${sources.length} sources SUCCEEDED`));
      return out;
    },
  },
  {
    id: "dlqs",
    title: "Dead-letter queues are empty",
    // ApproximateNumberOfMessages: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html
    async run(ctx) {
      const { config } = ctx;
      if (!config.features.eventBackbone) return [pass("features.eventBackbone is off")];
      const queues: { account: string; region: string; url: string }[] = [];
      // Central queues Pulumi names (<name>-dlq-<suffix>): every queue of the security account's home region with dlq in its name.
      let NextToken: string | undefined;
      do {
        const page = await ctx.aws.send<SQSClient, { QueueUrls?: string[]; NextToken?: string }>(SQSClient, sec(config), config.homeRegion, new ListQueuesCommand({ NextToken, MaxResults: 1000 }));
        for (const url of page.QueueUrls ?? []) if (/dlq/i.test(url.split("/").pop() ?? "")) queues.push({ account: sec(config), region: config.homeRegion, url });
        NextToken = page.NextToken;
      } while (NextToken);
      // Each forwarder's own DLQ, named trailwatch-forwarder-dlq (components/forwarderTemplate.ts, memberForwarder.ts).
      const { results, unreachable } = await ctx.aws.eachPair(await ctx.aws.forwarderAccounts(), ctx.aws.forwarderRegions(), async (account, region) => {
        try {
          const out = await ctx.aws.send<SQSClient, { QueueUrl?: string }>(SQSClient, account, region, new GetQueueUrlCommand({ QueueName: "trailwatch-forwarder-dlq" }));
          return out.QueueUrl;
        } catch (err) {
          if (/NonExistentQueue|QueueDoesNotExist/.test(errorName(err))) return undefined;
          throw err;
        }
      });
      const out: Finding[] = [...unreachable];
      for (const { account, region, value } of results) {
        if (value && !queues.some((q) => q.url === value)) queues.push({ account, region, url: value });
        else if (value) continue;
        else out.push(fail(`${account} ${region}: the forwarder's queue trailwatch-forwarder-dlq does not exist`, `the forwarder is not deployed there: see the StackSet check (or pulumi up for the management account and direct mode)`));
      }
      let empty = 0;
      await Promise.all(
        queues.map(async (q) => {
          const attrs = await ctx.aws.send<SQSClient, { Attributes?: Record<string, string> }>(SQSClient, q.account, q.region, new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ["ApproximateNumberOfMessages"] }));
          const n = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
          if (n === 0) empty++;
          else
            out.push(
              fail(
                `${n} message${n === 1 ? "" : "s"} wait in ${q.url} (${q.account} ${q.region})`,
                `read them (aws sqs receive-message --queue-url ${q.url} --attribute-names All --message-attribute-names All --region ${q.region}: EventBridge's ERROR_CODE and ERROR_MESSAGE attributes say why), fix the cause, then send them again or purge the queue`,
              ),
            );
        }),
      );
      out.push(pass(`${empty} of ${queues.length} dead-letter queues empty`));
      return out.sort((a, b) => (a.status === b.status ? a.message.localeCompare(b.message) : 0));
    },
  },
];

// ---- the command -------------------------------------------------------------------------------------------------

export async function verify(argv: string[], io: { out: (s: string) => void; err: (s: string) => void }, opts: { now?: Date } = {}): Promise<number> {
  const started = Date.now();
  try {
    const args = parseCommonArgs(argv, USAGE, { probe: true });
    const { config } = await loadStack(args.stack, args.config);
    const outputs = loadOutputs(args.outputs);
    if (args.probeRegion && !args.probe) throw new StartError("--probe-region needs --probe <account>");
    const probeRegion = args.probeRegion ?? config.homeRegion;
    if (args.probe && !new Set([...config.regions, "us-east-1"]).has(probeRegion)) throw new StartError(`--probe-region ${probeRegion} is not a forwarder region (${[...new Set([...config.regions, "us-east-1"])].sort().join(", ")})`);
    const aws = new AwsContext(config, args.stack, args.concurrency);
    try {
      await aws.caller();
      const ctx: VerifyContext = {
        aws,
        config,
        stack: args.stack,
        outputs,
        now: opts.now ?? new Date(),
        probe: args.probe ? { account: args.probe, region: probeRegion } : undefined,
        slackApiUrl: process.env.SLACK_API_URL || "https://slack.com/api/",
      };
      const checks = await runChecks(verifyChecks, ctx);
      const report = buildReport("verify", args.stack, checks, started);
      if (args.json) io.out(JSON.stringify(report) + "\n");
      else
        io.out(
          formatReport(
            report,
            `trailwatch verify: stack ${args.stack}, organization ${config.organizationId}, ${(await aws.forwarderAccounts()).length} forwarder accounts x ${aws.forwarderRegions().length} regions (${aws.calls} AWS calls, at most ${args.concurrency} at once)`,
          ),
        );
      return exitCode(report);
    } finally {
      aws.destroy();
    }
  } catch (err) {
    if (err instanceof StartError) {
      io.err(`verify: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigProblems) {
      io.err(`verify: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  // The SDK's notice about future Node versions would come between the checklist's lines; the README names Node 22.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  verify(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`verify: failed: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}

