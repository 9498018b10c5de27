/**
 * SgRevertBot: security-group changes reviewed in Slack and reverted by rule id.
 * central bus sg-changes -> detect (Lambda) -> review table (PENDING per rule id) -> Slack message (Approve / Deny)
 * Slack click -> Function URL -> interactivity (Bolt: signature, approver, conditional transition) -> DENIED
 * table stream (DENIED only) -> worker = hub role -> spoke role in the target account (ExternalId) -> revoke by id
 * every 5 minutes -> expire (PENDING past its time -> EXPIRED)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InlineFunction } from "./lambda";
import type { CentralEventBus } from "./centralEventBus";
import { policy, policyJson, type Statement } from "./iam";
import type { CfnTemplate } from "./forwarderTemplate";
import { securityGroupChangePattern } from "../functions/patterns";
import { dynamoReviewStore } from "../functions/sg/revert/state";
import { detectChange, expireReviews, requeueUnposted, revertRules, type BotSettings } from "../functions/sg/revert/handlers";
import { envNoticeSender } from "../functions/slack/outboxAdapters";
import type { SlackOutbox } from "./slackOutbox";
import { onAsyncFailure } from "./asyncFailures";
import { spokeEc2, SPOKE_ROLE_NAME } from "../functions/sg/revert/adapters";
import { slackPort } from "../functions/slack/port";
import type { SlackFeature } from "./slackApp";
import { slackClient } from "../functions/slack/client";
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { envAccountDirectory } from "../functions/accounts/directory";

export interface SgRevertBotArgs {
  bus: CentralEventBus;
  organizationId: string;
  managementAccountId: string;
  memberTargets: string[];
  homeRegion: string;
  slackBotTokenSecretArn: pulumi.Input<string>;
  /** New review messages go through the Slack outbox (posted once; the ts recorded on the review items). */
  outbox: SlackOutbox;
  settings: BotSettings;
  externalId: string;
  logRetentionDays: number;
  failureTolerancePercentage: number;
  maxConcurrentPercentage: number;
  providers: { management: aws.Provider };
}

const SETTINGS_ENV = "SG_BOT_SETTINGS";

export class SgRevertBot extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly hubRoleArn: pulumi.Output<string>;
  /** What the shared Slack app needs to take review decisions. */
  readonly slackFeature: SlackFeature;

  constructor(name: string, args: SgRevertBotArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:sg:SgRevertBot", name, {}, opts);
    const p = { parent: this };
    const key = args.bus.key;
    this.table = new aws.dynamodb.Table(
      `${name}-reviews`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
        pointInTimeRecovery: { enabled: true },
        ttl: { attributeName: "purgeAt", enabled: true },
        streamEnabled: true,
        streamViewType: "NEW_IMAGE",
      },
      p,
    );
    const env = {
      REVIEW_TABLE: this.table.name,
      SLACK_BOT_TOKEN_SECRET: args.slackBotTokenSecretArn,
      [SETTINGS_ENV]: JSON.stringify(args.settings),
    };
    const tableKey: Statement = { Sid: "TableKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [key.arn] };
    const botToken: Statement = { Sid: "SlackBotToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.slackBotTokenSecretArn] };

    // ---- detect --------------------------------------------------------------------------------------------------
    const failures = { queueArn: args.bus.deliveryDeadLetter.arn, keyArn: key.arn, alertTopicArn: args.bus.alertTopic.arn };
    const detect = new InlineFunction(
      `${name}-detect`,
      {
        description: "Records new security-group rules for review and queues their Slack message",
        logRetentionDays: args.logRetentionDays,
        environment: { REVIEW_TABLE: this.table.name, [SETTINGS_ENV]: JSON.stringify(args.settings), ...args.outbox.senderEnvironment() },
        statements: [
          { Sid: "Reviews", Effect: "Allow", Action: ["dynamodb:PutItem", "dynamodb:BatchGetItem"], Resource: [this.table.arn] },
          tableKey,
          ...args.outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => {
          const store = dynamoReviewStore(new DynamoDBClient({}), process.env.REVIEW_TABLE!);
          const settings = JSON.parse(process.env.SG_BOT_SETTINGS!);
          const posting = { outbox: envNoticeSender(), table: process.env.REVIEW_TABLE! };
          // Account names: config (sgRevertBot over slack) over Organizations, cached an hour per container.
          const directory = envAccountDirectory(settings.accountNames);
          return async (event: { detail: any }) =>
            detectChange(event.detail, { store, posting, settings: { ...settings, accountNames: await directory.names() }, now: new Date(), log: (l) => console.log(JSON.stringify(l)) });
        },
      },
      p,
    );
    args.bus.subscribe(`${name}-changes`, securityGroupChangePattern, { kind: "lambda", function: detect.function }, "Security-group rules added, for review in Slack");
    onAsyncFailure(`${name}-detect`, detect, failures, this);
    // The outbox records each review message's channel and ts on its items.
    args.outbox.recordPostsIn(`${name}-reviews`, this.table, key);

    // ---- decisions: the review buttons' listeners run in the shared Slack app (components/slackApp.ts) ------------
    this.slackFeature = {
      environment: { REVIEW_TABLE: this.table.name, [SETTINGS_ENV]: JSON.stringify(args.settings) },
      statements: [{ Sid: "Reviews", Effect: "Allow", Action: ["dynamodb:UpdateItem", "dynamodb:BatchGetItem"], Resource: [this.table.arn] }, tableKey],
    };

    // ---- worker: the hub role ------------------------------------------------------------------------------------
    const spokeArns = `arn:aws:iam::*:role/${SPOKE_ROLE_NAME}`;
    const worker = new InlineFunction(
      `${name}-worker`,
      {
        description: "Reverts denied security-group rules through the spoke role in the target account",
        timeout: 120,
        logRetentionDays: args.logRetentionDays,
        environment: { ...env, SPOKE_EXTERNAL_ID: args.externalId },
        statements: [
          { Sid: "Reviews", Effect: "Allow", Action: ["dynamodb:UpdateItem", "dynamodb:BatchGetItem"], Resource: [this.table.arn] },
          {
            Sid: "ReviewStream",
            Effect: "Allow",
            Action: ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"],
            Resource: [this.table.streamArn],
          },
          tableKey,
          botToken,
          // Spoke roles of this organization only.
          { Sid: "AssumeSpokeRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: spokeArns, Condition: { StringEquals: { "aws:ResourceOrgID": args.organizationId } } },
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => {
          const store = dynamoReviewStore(new DynamoDBClient({}), process.env.REVIEW_TABLE!);
          const settings = JSON.parse(process.env.SG_BOT_SETTINGS!);
          const ec2 = spokeEc2({ externalId: process.env.SPOKE_EXTERNAL_ID! });
          const directory = envAccountDirectory(settings.accountNames);
          return async (event: { Records: { dynamodb?: { NewImage?: { pk?: { S?: string } } } }[] }) => {
            const ruleIds = event.Records.map((r) => r.dynamodb?.NewImage?.pk?.S).filter((id): id is string => !!id);
            const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
            return revertRules(ruleIds, { store, slack, ec2, settings: { ...settings, accountNames: await directory.names() }, log: (l) => console.log(JSON.stringify(l)) });
          };
        },
      },
      p,
    );
    this.hubRoleArn = worker.role.arn;
    new aws.lambda.EventSourceMapping(
      `${name}-worker-source`,
      {
        eventSourceArn: this.table.streamArn,
        functionName: worker.function.name,
        startingPosition: "LATEST",
        batchSize: 10,
        maximumRetryAttempts: 3,
        bisectBatchOnFunctionError: true,
        // Only reviews that were just denied reach the worker.
        filterCriteria: { filters: [{ pattern: JSON.stringify({ dynamodb: { NewImage: { state: { S: ["DENIED"] } } } }) }] },
      },
      p,
    );

    // ---- expiry, and the sweep that re-queues review messages that were never posted --------------------------
    const expire = new InlineFunction(
      `${name}-expire`,
      {
        description: "Expires undecided security-group reviews; re-queues review messages that were never posted",
        logRetentionDays: args.logRetentionDays,
        environment: { ...env, ...args.outbox.senderEnvironment() },
        statements: [
          { Sid: "Reviews", Effect: "Allow", Action: ["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:BatchGetItem"], Resource: [this.table.arn] },
          tableKey,
          botToken,
          ...args.outbox.senderStatements(),
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => {
          const store = dynamoReviewStore(new DynamoDBClient({}), process.env.REVIEW_TABLE!);
          const configured = JSON.parse(process.env.SG_BOT_SETTINGS!);
          const posting = { outbox: envNoticeSender(), table: process.env.REVIEW_TABLE! };
          const directory = envAccountDirectory(configured.accountNames);
          return async () => {
            const log = (l: object) => console.log(JSON.stringify(l));
            const now = new Date();
            const settings = { ...configured, accountNames: await directory.names() };
            const requeued = await requeueUnposted({ store, posting, settings, now, log });
            const slack = slackPort(await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!));
            const expired = await expireReviews({ store, slack, settings, now, log });
            return { expired, requeued };
          };
        },
      },
      p,
    );
    const tick = new aws.cloudwatch.EventRule(`${name}-expire-tick`, { scheduleExpression: "rate(5 minutes)", description: "trailwatch: expire undecided security-group reviews" }, p);
    new aws.lambda.Permission(`${name}-expire-invoke`, { action: "lambda:InvokeFunction", function: expire.function.name, principal: "events.amazonaws.com", sourceArn: tick.arn }, p);
    new aws.cloudwatch.EventTarget(
      `${name}-expire-target`,
      { rule: tick.name, arn: expire.function.arn, deadLetterConfig: { arn: args.bus.deliveryDeadLetter.arn }, retryPolicy: { maximumEventAgeInSeconds: 300, maximumRetryAttempts: 2 } },
      p,
    );
    onAsyncFailure(`${name}-expire`, expire, { ...failures, maximumEventAgeInSeconds: 300 }, this);

    // ---- spoke roles: members through a StackSet, the management account directly -------------------------------
    const template = spokeRoleTemplate();
    const mgmt = { parent: this, provider: args.providers.management };
    const stackSet = new aws.cloudformation.StackSet(
      `${name}-spokes`,
      {
        name: `trailwatch-${pulumi.getStack()}-sg-revert-spokes`,
        description: "trailwatch: the role the SgRevertBot assumes to revoke security-group rules",
        permissionModel: "SERVICE_MANAGED",
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        capabilities: ["CAPABILITY_NAMED_IAM"],
        templateBody: JSON.stringify(template),
        parameters: { HubRoleArn: this.hubRoleArn, ExternalId: args.externalId },
        operationPreferences: { failureTolerancePercentage: args.failureTolerancePercentage, maxConcurrentPercentage: args.maxConcurrentPercentage },
        managedExecution: { active: true },
      },
      { ...mgmt, ignoreChanges: ["administrationRoleArn"] },
    );
    // IAM is global: one region deploys the role for the whole account.
    new aws.cloudformation.StackInstances(
      `${name}-spokes-instances`,
      { stackSetName: stackSet.name, deploymentTargets: { organizationalUnitIds: args.memberTargets }, regions: [args.homeRegion] },
      mgmt,
    );
    const spokeProps = template.Resources.SpokeRole.Properties as any;
    const mgmtSpoke = new aws.iam.Role(
      `${name}-spoke-management`,
      {
        name: SPOKE_ROLE_NAME,
        description: spokeProps.Description,
        maxSessionDuration: 3600,
        assumeRolePolicy: policyJson(policy(spokeTrust(this.hubRoleArn, args.externalId))),
      },
      mgmt,
    );
    new aws.iam.RolePolicy(`${name}-spoke-management`, { role: mgmtSpoke.id, policy: policyJson(policy(...SPOKE_PERMISSIONS)) }, mgmt);

    this.registerOutputs({ hubRoleArn: this.hubRoleArn, table: this.table.name });
  }
}

/** The spoke may revoke rules and check they are gone: nothing else. Revoke is scoped to security groups. */
export const SPOKE_PERMISSIONS: Statement[] = [
  { Sid: "RevokeRules", Effect: "Allow", Action: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"], Resource: "arn:aws:ec2:*:*:security-group/*" },
  // DescribeSecurityGroupRules supports no resource-level permissions.
  { Sid: "CheckRules", Effect: "Allow", Action: "ec2:DescribeSecurityGroupRules", Resource: "*" },
];

function spokeTrust(hubRoleArn: pulumi.Input<string>, externalId: string): Statement {
  return { Sid: "HubRoleWithExternalId", Effect: "Allow", Principal: { AWS: hubRoleArn }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": externalId } } };
}

export function spokeRoleTemplate(): CfnTemplate {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "trailwatch: the role the SgRevertBot hub assumes to revoke security-group rules in this account",
    Parameters: {
      HubRoleArn: { Type: "String", Description: "The SgRevertBot worker's role in the security account", AllowedPattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$" },
      ExternalId: { Type: "String", Description: "ExternalId the hub must present" },
    },
    Resources: {
      SpokeRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: SPOKE_ROLE_NAME,
          Description: "trailwatch SgRevertBot: revoke security-group rules a security approver denied",
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [{ ...spokeTrust("HUB", "EXT"), Principal: { AWS: { Ref: "HubRoleArn" } }, Condition: { StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } } } }] as any,
          },
          Policies: [{ PolicyName: "revoke-security-group-rules", PolicyDocument: { Version: "2012-10-17", Statement: SPOKE_PERMISSIONS as any } }],
        },
      },
    },
    Outputs: { SpokeRoleArn: { Value: { "Fn::GetAtt": ["SpokeRole", "Arn"] } } },
  };
}
