/**
 * ScpWatch: an SCP's blast radius within a minute. Every SCP / RCP deny on the central bus (read-only calls
 * included) lands in a log group (Logs Insights, Live Tail) and is counted by policy id, account and action as
 * 1-minute metrics (EMF, Action bounded to the day's top N); Organizations policy changes (or /trailwatch-watch)
 * open a rollout window with a digest every few minutes in its Slack thread and an alert past a threshold
 * (channel + alert topic); with rollback on, approvers can detach the policy through a management-account role
 * that may only detach SCPs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction } from "./lambda";
import { policy, policyJson, readSecret, useKey, type Statement } from "./iam";
import { encryptedTable } from "./table";
import { scheduleFunction, type Schedule } from "./schedule";
import { transformed, type Transform } from "./transform";
import { functionTransforms, type FeatureTransforms, type ResponseFeatureArgs, type SlackApprovalSettings } from "./feature";
import type { SlackFeature } from "./slackApp";
import { orgPolicyChangePattern, policyDenyPattern } from "../functions/patterns";
import type { ScpWatchSettings } from "../functions/scp/handlers";
import { DETACH_ROLE_NAME } from "../functions/scp/adapters";
import { SCP_METRIC_NAMESPACE } from "../functions/scp/watch";
import { makeScpCounterHandler, makeScpDetachHandler, makeScpWindowsHandler, SCP_WATCH_ENV } from "../functions/scp/handler";
import { onAsyncFailure } from "./asyncFailures";
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { SCP_WATCH_DEFAULTS } from "./defaults";

export { SCP_WATCH_DEFAULTS };

/** Where windows, digests and alerts are posted, who may detach a policy from the alert, and the window settings. */
export interface ScpWatchArgsSettings extends SlackApprovalSettings {
  /** Minutes a rollout window stays open after an Organizations policy change. @default 60 */
  readonly windowMinutes?: number;
  /** Denies caused by the policy within its window that raise the alert. @default 25 */
  readonly threshold?: number;
  /** Offer approvers "Detach policy" in the alert (adds a management-account role that may only detach SCPs). @default false */
  readonly rollback?: boolean;
  /** Actions that keep their own Action metric value each day; the rest count as "other". @default 20 */
  readonly topActions?: number;
}

/**
 * The bus brings SCP/RCP denies and Organizations policy changes; the dashboard is in the home region; the detach
 * role lives in the management account; the bot token is read by the detach worker (it updates the alert).
 */
export interface ScpWatchArgs extends ResponseFeatureArgs {
  /** The channel, approvers, window and alert settings. */
  readonly settings: ScpWatchArgsSettings;
  /** Minutes between digests in an open window's thread. @default 10 */
  readonly digestMinutes?: number;
  /** Days the functions' logs and the raw deny log are kept. @default 30 */
  readonly logRetentionDays?: number;
  /** Customize the children: every function (and its role and log group), the windows table, the digest schedule, the detach worker's stream mapping and role, the dashboard. */
  readonly transform?: FeatureTransforms & {
    /** The management account's detach role. */
    readonly detachRole?: Transform<aws.iam.RoleArgs>;
    /** The detach role's policy. */
    readonly detachPolicy?: Transform<aws.iam.RolePolicyArgs>;
    /** The CloudWatch dashboard. */
    readonly dashboard?: Transform<aws.cloudwatch.DashboardArgs>;
  };
}

/** The settings the functions get (SCP_WATCH_ENV.settings), defaults applied, keys in a stable order. */
export function scpWatchSettings(s: ScpWatchArgsSettings): ScpWatchSettings {
  const d = SCP_WATCH_DEFAULTS;
  return {
    channel: s.channel,
    windowMinutes: s.windowMinutes ?? d.windowMinutes,
    threshold: s.threshold ?? d.threshold,
    rollback: s.rollback ?? d.rollback,
    topActions: s.topActions ?? d.topActions,
    approverUserIds: [...s.approverUserIds],
    approverUserGroupId: s.approverUserGroupId,
    accountNames: { ...s.accountNames },
  };
}

/** SCP and RCP denies in one pattern (the pattern registry's). */
export { policyDenyPattern };

/** FullAWSAccess, the AWS managed SCP, in both ARN forms IAM may match (`awspolicy` and `policy`). */
export const FULL_AWS_ACCESS_ARNS = [
  "arn:*:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
  "arn:*:organizations::*:policy/*/service_control_policy/p-FullAWSAccess",
];

export class ScpWatch extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly denyLog: aws.cloudwatch.LogGroup;
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly slackFeature: SlackFeature;
  readonly detachRoleArn?: pulumi.Output<string>;
  /** The children a caller may need (the detach worker and its role only with rollback on). */
  readonly nodes: {
    readonly table: aws.dynamodb.Table;
    readonly counter: InlineFunction;
    readonly windows: InlineFunction;
    readonly digestSchedule: Schedule;
    readonly detach?: InlineFunction;
    readonly detachRole?: aws.iam.Role;
    readonly dashboard: aws.cloudwatch.Dashboard;
  };

  constructor(name: string, args: ScpWatchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:scp:ScpWatch", name, {}, opts);
    const p = { parent: this };
    const { bus, org } = args;
    const readAll = { state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" as const };
    const logRetentionDays = args.logRetentionDays ?? SCP_WATCH_DEFAULTS.logRetentionDays;
    const resolved = scpWatchSettings(args.settings);
    const settings = JSON.stringify(resolved);
    const fnTransform = functionTransforms(args.transform);
    this.table = encryptedTable(`${name}-windows`, { keyArn: bus.key.arn, ttlAttribute: "purgeAt", stream: true, transform: args.transform?.table }, p);
    const tableEnv = { [SCP_WATCH_ENV.table]: this.table.name, [SCP_WATCH_ENV.settings]: settings };
    const tableKey = useKey(bus.key.arn, "TableKey");
    const windowsTable = (...actions: string[]): Statement => ({ Sid: "Windows", Effect: "Allow", Action: actions.map((a) => `dynamodb:${a}`), Resource: [this.table.arn] });

    // Raw denies for Logs Insights and Live Tail.
    this.denyLog = bus.subscribe(`${name}-denies-log`, policyDenyPattern, { kind: "logGroup", retentionDays: logRetentionDays }, "SCP and RCP denies, raw", readAll).logGroup!;

    const counter = new InlineFunction(
      `${name}-counter`,
      {
        description: "Counts SCP/RCP denies per policy, account and action; alerts rollout windows past their threshold",
        emitsMetrics: true,
        logRetentionDays,
        environment: { ...tableEnv, [SCP_WATCH_ENV.alertTopic]: bus.alertTopic.arn, ...args.outbox.senderEnvironment() },
        statements: [
          windowsTable("GetItem", "UpdateItem"),
          tableKey,
          { Sid: "AlertTopic", Effect: "Allow", Action: "sns:Publish", Resource: [bus.alertTopic.arn] },
          ...args.outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => makeScpCounterHandler(),
        transform: fnTransform,
      },
      p,
    );
    bus.subscribe(`${name}-denies`, policyDenyPattern, { kind: "lambda", function: counter.function }, "SCP and RCP denies, counted", readAll);
    const failures = { queueArn: bus.deliveryDeadLetter.arn, keyArn: bus.key.arn, alertTopicArn: bus.alertTopic.arn };
    onAsyncFailure(`${name}-counter`, counter, failures, this);

    const windows = new InlineFunction(
      `${name}-windows`,
      {
        description: "Opens SCP rollout windows from Organizations policy changes; posts digests; closes windows",
        logRetentionDays,
        environment: { ...tableEnv, ...args.outbox.senderEnvironment() },
        statements: [windowsTable("GetItem", "PutItem", "UpdateItem", "Scan"), tableKey, ...args.outbox.senderStatements(), LIST_ACCOUNTS_STATEMENT],
        callbackFactory: () => makeScpWindowsHandler(),
        transform: fnTransform,
      },
      p,
    );
    // Organizations events exist only in us-east-1; forwarders send them to the central bus.
    bus.subscribe(`${name}-policy-changes`, orgPolicyChangePattern, { kind: "lambda", function: windows.function }, "Organizations policy changes open rollout windows");
    const digestSchedule = scheduleFunction(
      `${name}-digest`,
      {
        function: windows.function,
        expression: `rate(${args.digestMinutes ?? SCP_WATCH_DEFAULTS.digestMinutes} minutes)`,
        description: "trailwatch: SCP rollout digests",
        deadLetterArn: bus.deliveryDeadLetter.arn,
        transform: { rule: args.transform?.rule, target: args.transform?.target },
      },
      p,
    );
    onAsyncFailure(`${name}-windows`, windows, failures, this);

    // The outbox records posted openings' and alerts' ts on the window.
    args.outbox.recordPostsIn(`${name}-windows`, this.table, bus.key);
    this.slackFeature = {
      // /trailwatch-watch opens windows from the Slack app: its opening message goes through the outbox too.
      environment: { ...tableEnv, ...args.outbox.senderEnvironment() },
      statements: [
        { ...windowsTable("GetItem", "PutItem", "UpdateItem"), Sid: "ScpWindows" },
        { ...tableKey, Sid: "ScpTableKey" },
        ...args.outbox.senderStatements().map((st) => ({ ...st, Sid: `Scp${st.Sid}` })),
      ],
    };

    let detach: InlineFunction | undefined;
    let detachRole: aws.iam.Role | undefined;
    if (resolved.rollback) {
      const mgmt = { parent: this, provider: org.provider("management") };
      // Named role, so its ARN is known before it exists (its trust policy names the worker's role).
      const detachRoleArn = `arn:aws:iam::${org.accounts.management}:role/${DETACH_ROLE_NAME}`;
      detach = new InlineFunction(
        `${name}-detach`,
        {
          description: "Detaches an SCP an approver rolled back, through the management account's detach role",
          logRetentionDays,
          environment: { ...tableEnv, [SCP_WATCH_ENV.botToken]: args.slackBotTokenSecretArn, [SCP_WATCH_ENV.detachRole]: detachRoleArn },
          statements: [
            windowsTable("GetItem", "UpdateItem"),
            { Sid: "WindowStream", Effect: "Allow", Action: ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"], Resource: [this.table.streamArn] },
            tableKey,
            readSecret(args.slackBotTokenSecretArn, "SlackBotToken"),
            { Sid: "AssumeDetachRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: detachRoleArn },
          ],
          callbackFactory: () => makeScpDetachHandler(),
          transform: fnTransform,
        },
        p,
      );
      detachRole = new aws.iam.Role(
        ...transformed(
          args.transform?.detachRole,
          `${name}-mgmt-detach`,
          {
            name: DETACH_ROLE_NAME,
            description: "trailwatch: detach an SCP an approver rolled back from Slack",
            maxSessionDuration: 3600,
            assumeRolePolicy: policyJson(policy({ Sid: "DetachWorkerOnly", Effect: "Allow", Principal: { AWS: detach.role.arn }, Action: "sts:AssumeRole" })),
          },
          mgmt,
        ),
      );
      // The condition key limits the role to service control policies: tag, backup or AI policies cannot be detached.
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
      new aws.iam.RolePolicy(
        ...transformed(
          args.transform?.detachPolicy,
          `${name}-mgmt-detach`,
          {
            role: detachRole.id,
            policy: policyJson(
              policy(
                { Sid: "DetachScpsOnly", Effect: "Allow", Action: "organizations:DetachPolicy", Resource: "*", Condition: { StringEquals: { "organizations:PolicyType": "SERVICE_CONTROL_POLICY" } } },
                // Never FullAWSAccess: detaching it from an OU or account leaves it with no allow at all (everything denied).
                // The AWS managed policy's ARN is `arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess`.
                // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_strategies.html
                { Sid: "NeverFullAWSAccess", Effect: "Deny", Action: "organizations:DetachPolicy", Resource: FULL_AWS_ACCESS_ARNS },
              ),
            ),
          },
          mgmt,
        ),
      );
      this.detachRoleArn = detachRole.arn;
      new aws.lambda.EventSourceMapping(
        ...transformed(
          args.transform?.eventSource,
          `${name}-detach-source`,
          {
            eventSourceArn: this.table.streamArn,
            functionName: detach.function.name,
            startingPosition: "LATEST",
            batchSize: 5,
            maximumRetryAttempts: 3,
            bisectBatchOnFunctionError: true,
            filterCriteria: { filters: [{ pattern: JSON.stringify({ dynamodb: { NewImage: { detachStatus: { S: ["REQUESTED"] } } } }) }] },
          },
          p,
        ),
      );
    }

    this.dashboard = new aws.cloudwatch.Dashboard(
      ...transformed(
        args.transform?.dashboard,
        `${name}-dashboard`,
        { dashboardName: `trailwatch-${pulumi.getStack()}-scp-watch`, dashboardBody: this.denyLog.name.apply((g) => JSON.stringify(dashboardBody(org.homeRegion, g))) },
        p,
      ),
    );
    this.nodes = { table: this.table, counter, windows, digestSchedule, detach, detachRole, dashboard: this.dashboard };
    this.registerOutputs({ table: this.table.name, denyLog: this.denyLog.name, dashboard: this.dashboard.dashboardName });
  }
}

/**
 * Denies over time by policy, account and action (SEARCH over the counter's metrics: every dimension value, no list
 * to maintain), and a Logs Insights table of the latest denies.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
export function dashboardBody(region: string, denyLogGroup: string) {
  const search = (dimension: string, title: string, y: number) => ({
    type: "metric",
    x: 0,
    y,
    width: 24,
    height: 6,
    properties: {
      title,
      region,
      view: "timeSeries",
      stat: "Sum",
      period: 60,
      metrics: [[{ expression: `SEARCH('{${SCP_METRIC_NAMESPACE},${dimension}} MetricName="Denies"', 'Sum', 60)`, id: "e1", label: "" }]],
    },
  });
  return {
    widgets: [
      search("PolicyId", "SCP/RCP denies by policy id (per minute)", 0),
      search("AccountId", "SCP/RCP denies by account (per minute)", 6),
      search("Action", "SCP/RCP denies by action (top actions, the rest as other)", 12),
      {
        type: "log",
        x: 0,
        y: 18,
        width: 24,
        height: 8,
        properties: {
          title: "Latest SCP/RCP denies",
          region,
          view: "table",
          query: `SOURCE '${denyLogGroup}' | fields @timestamp, detail.recipientAccountId as account, detail.eventSource as service, detail.eventName as call, detail.userIdentity.arn as principal, detail.errorMessage as message | sort @timestamp desc | limit 50`,
        },
      },
    ],
  };
}
