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
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InlineFunction } from "./lambda";
import type { CentralEventBus } from "./centralEventBus";
import { policy, policyJson, type Statement } from "./iam";
import type { SlackFeature } from "./slackApp";
import type { EventPattern } from "../functions/eventPattern";
import { orgPolicyChangePattern, rcpDenyPattern, scpDenyPattern } from "../functions/patterns";
import { dynamoWindowStore } from "../functions/scp/store";
import { countDeny, detachRequested, onPolicyChange, tick, type ScpWatchSettings } from "../functions/scp/handlers";
import { detachThroughRole, snsNotifier, DETACH_ROLE_NAME } from "../functions/scp/adapters";
import { SCP_METRIC_NAMESPACE } from "../functions/scp/watch";
import { slackPort } from "../functions/slack/port";
import { slackClient } from "../functions/slack/client";
import { onAsyncFailure } from "./asyncFailures";
import { envNoticeSender } from "../functions/slack/outboxAdapters";
import type { SlackOutbox } from "./slackOutbox";
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { changesAccountList, envAccountDirectory } from "../functions/accounts/directory";

export interface ScpWatchArgs {
  bus: CentralEventBus;
  region: string;
  managementAccountId: string;
  slackBotTokenSecretArn: pulumi.Input<string>;
  /** New messages (openings, alerts, digests) go through the Slack outbox; the window records their ts. */
  outbox: SlackOutbox;
  settings: ScpWatchSettings;
  digestMinutes: number;
  logRetentionDays: number;
  providers: { management: aws.Provider };
}

/** SCP and RCP denies in one pattern: the message names either policy type. */
export const policyDenyPattern = {
  ...scpDenyPattern,
  detail: {
    ...(scpDenyPattern.detail as Record<string, unknown>),
    errorMessage: [...((scpDenyPattern.detail as any).errorMessage as unknown[]), ...((rcpDenyPattern.detail as any).errorMessage as unknown[])],
  },
} as unknown as EventPattern;

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

  constructor(name: string, args: ScpWatchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:scp:ScpWatch", name, {}, opts);
    const p = { parent: this };
    const { bus } = args;
    const readAll = { state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" as const };
    this.table = new aws.dynamodb.Table(
      `${name}-windows`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: bus.key.arn },
        pointInTimeRecovery: { enabled: true },
        ttl: { attributeName: "purgeAt", enabled: true },
        streamEnabled: true,
        streamViewType: "NEW_IMAGE",
      },
      p,
    );
    const env = { SCP_WATCH_TABLE: this.table.name, SCP_WATCH_SETTINGS: JSON.stringify(args.settings), SLACK_BOT_TOKEN_SECRET: args.slackBotTokenSecretArn };
    const tableKey: Statement = { Sid: "TableKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [bus.key.arn] };
    const botToken: Statement = { Sid: "SlackBotToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.slackBotTokenSecretArn] };

    // Raw denies for Logs Insights and Live Tail.
    this.denyLog = bus.subscribe(`${name}-denies-log`, policyDenyPattern, { kind: "logGroup", retentionDays: args.logRetentionDays }, "SCP and RCP denies, raw", readAll).logGroup!;

    const counter = new InlineFunction(
      `${name}-counter`,
      {
        description: "Counts SCP/RCP denies per policy, account and action; alerts rollout windows past their threshold",
        emitsMetrics: true,
        logRetentionDays: args.logRetentionDays,
        environment: { SCP_WATCH_TABLE: this.table.name, SCP_WATCH_SETTINGS: JSON.stringify(args.settings), ALERT_TOPIC_ARN: bus.alertTopic.arn, ...args.outbox.senderEnvironment() },
        statements: [
          { Sid: "Windows", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [this.table.arn] },
          tableKey,
          { Sid: "AlertTopic", Effect: "Allow", Action: "sns:Publish", Resource: [bus.alertTopic.arn] },
          ...args.outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => {
          const store = dynamoWindowStore(new DynamoDBClient({}), process.env.SCP_WATCH_TABLE!);
          const settings = JSON.parse(process.env.SCP_WATCH_SETTINGS!);
          const notifier = snsNotifier(process.env.ALERT_TOPIC_ARN!);
          const posting = { outbox: envNoticeSender(), table: process.env.SCP_WATCH_TABLE! };
          // Account names: config over Organizations, cached an hour per container. Text log format: the one
          // warning line is JSON on stdout like the rest.
          const directory = envAccountDirectory(settings.accountNames);
          return async (event: { detail: any }) =>
            // EMF: one raw JSON line per deny on stdout (the function logs as Text so Lambda does not wrap it).
            countDeny(event.detail, { store, posting, notifier, settings: { ...settings, accountNames: await directory.names() }, now: new Date(), emit: (l) => process.stdout.write(JSON.stringify(l) + "\n") });
        },
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
        logRetentionDays: args.logRetentionDays,
        environment: { SCP_WATCH_TABLE: this.table.name, SCP_WATCH_SETTINGS: JSON.stringify(args.settings), ...args.outbox.senderEnvironment() },
        statements: [
          { Sid: "Windows", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"], Resource: [this.table.arn] },
          tableKey,
          ...args.outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => {
          const store = dynamoWindowStore(new DynamoDBClient({}), process.env.SCP_WATCH_TABLE!);
          const configured = JSON.parse(process.env.SCP_WATCH_SETTINGS!);
          const posting = { outbox: envNoticeSender(), table: process.env.SCP_WATCH_TABLE! };
          const directory = envAccountDirectory(configured.accountNames);
          return async (event: { source?: string; detail?: any }) => {
            // MoveAccount reaches this function (it opens a window): the account list is listed afresh. Account
            // creation, closing and invitations reach none of these functions; the hour's TTL refreshes those.
            if (changesAccountList(event)) directory.invalidate();
            const deps = { store, posting, settings: { ...configured, accountNames: await directory.names() }, now: new Date() };
            return event.source === "aws.events" ? tick(deps) : onPolicyChange(event.detail, deps);
          };
        },
      },
      p,
    );
    // Organizations events exist only in us-east-1; forwarders send them to the central bus.
    bus.subscribe(`${name}-policy-changes`, orgPolicyChangePattern, { kind: "lambda", function: windows.function }, "Organizations policy changes open rollout windows");
    const digest = new aws.cloudwatch.EventRule(`${name}-digest`, { scheduleExpression: `rate(${args.digestMinutes} minutes)`, description: "trailwatch: SCP rollout digests" }, p);
    new aws.lambda.Permission(`${name}-digest-invoke`, { action: "lambda:InvokeFunction", function: windows.function.name, principal: "events.amazonaws.com", sourceArn: digest.arn }, p);
    new aws.cloudwatch.EventTarget(
      `${name}-digest-target`,
      { rule: digest.name, arn: windows.function.arn, deadLetterConfig: { arn: bus.deliveryDeadLetter.arn }, retryPolicy: { maximumEventAgeInSeconds: 300, maximumRetryAttempts: 2 } },
      p,
    );
    onAsyncFailure(`${name}-windows`, windows, failures, this);

    // The outbox records posted openings' and alerts' ts on the window.
    args.outbox.recordPostsIn(`${name}-windows`, this.table, bus.key);
    this.slackFeature = {
      // /trailwatch-watch opens windows from the Slack app: its opening message goes through the outbox too.
      environment: { SCP_WATCH_TABLE: this.table.name, SCP_WATCH_SETTINGS: JSON.stringify(args.settings), ...args.outbox.senderEnvironment() },
      statements: [
        { Sid: "ScpWindows", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], Resource: [this.table.arn] },
        { ...tableKey, Sid: "ScpTableKey" },
        ...args.outbox.senderStatements().map((st) => ({ ...st, Sid: `Scp${st.Sid}` })),
      ],
    };

    if (args.settings.rollback) {
      const mgmtProvider = args.providers.management;
      const worker = new InlineFunction(
        `${name}-detach`,
        {
          description: "Detaches an SCP an approver rolled back, through the management account's detach role",
          logRetentionDays: args.logRetentionDays,
          // Named role, so its ARN is known before it exists (its trust policy names this function's role).
          environment: { ...env, DETACH_ROLE_ARN: `arn:aws:iam::${args.managementAccountId}:role/${DETACH_ROLE_NAME}` },
          statements: [
            { Sid: "Windows", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [this.table.arn] },
            { Sid: "WindowStream", Effect: "Allow", Action: ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"], Resource: [this.table.streamArn] },
            tableKey,
            botToken,
            { Sid: "AssumeDetachRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::${args.managementAccountId}:role/${DETACH_ROLE_NAME}` },
          ],
          callbackFactory: () => {
            const store = dynamoWindowStore(new DynamoDBClient({}), process.env.SCP_WATCH_TABLE!);
            return async (event: { Records: { dynamodb?: { NewImage?: { pk?: { S?: string } } } }[] }) => {
              const policyIds = event.Records.map((r) => r.dynamodb?.NewImage?.pk?.S?.replace(/^window#/, "")).filter((x): x is string => !!x);
              const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
              return detachRequested(policyIds, { store, slack, org: detachThroughRole({ roleArn: process.env.DETACH_ROLE_ARN! }), log: (l) => console.log(JSON.stringify(l)) });
            };
          },
        },
        p,
      );
      const role = new aws.iam.Role(
        `${name}-mgmt-detach`,
        {
          name: DETACH_ROLE_NAME,
          description: "trailwatch: detach an SCP an approver rolled back from Slack",
          maxSessionDuration: 3600,
          assumeRolePolicy: policyJson(policy({ Sid: "DetachWorkerOnly", Effect: "Allow", Principal: { AWS: worker.role.arn }, Action: "sts:AssumeRole" })),
        },
        { parent: this, provider: mgmtProvider },
      );
      // The condition key limits the role to service control policies: tag, backup or AI policies cannot be detached.
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
      new aws.iam.RolePolicy(
        `${name}-mgmt-detach`,
        {
          role: role.id,
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
        { parent: this, provider: mgmtProvider },
      );
      this.detachRoleArn = role.arn;
      new aws.lambda.EventSourceMapping(
        `${name}-detach-source`,
        {
          eventSourceArn: this.table.streamArn,
          functionName: worker.function.name,
          startingPosition: "LATEST",
          batchSize: 5,
          maximumRetryAttempts: 3,
          bisectBatchOnFunctionError: true,
          filterCriteria: { filters: [{ pattern: JSON.stringify({ dynamodb: { NewImage: { detachStatus: { S: ["REQUESTED"] } } } }) }] },
        },
        p,
      );
    }

    this.dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, { dashboardName: `trailwatch-${pulumi.getStack()}-scp-watch`, dashboardBody: this.denyLog.name.apply((g) => JSON.stringify(dashboardBody(args.region, g))) }, p);
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
