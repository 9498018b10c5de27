/**
 * SgRevertBot: security-group changes reviewed in Slack and reverted by rule id.
 * central bus sg-changes -> detect (Lambda) -> review table (PENDING per rule id) -> Slack message (Approve / Deny)
 * Slack click -> Function URL -> interactivity (Bolt: signature, approver, conditional transition) -> DENIED
 * table stream (DENIED only) -> worker = hub role -> spoke role in the target account (ExternalId) -> revoke by id
 * every 5 minutes -> expire (PENDING past its time -> EXPIRED)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction } from "./lambda";
import { readSecret, useKey, type Statement } from "./iam";
import { encryptedTable } from "./table";
import { scheduleFunction, type Schedule } from "./schedule";
import { organizationRole, type OrgRole, type OrgRoleSpec } from "./orgRole";
import { transformed, type Transform } from "./transform";
import { functionTransforms, type FeatureTransforms, type ResponseFeatureArgs, type SlackApprovalSettings } from "./feature";
import { securityGroupChangePattern } from "../functions/patterns";
import type { BotSettings } from "../functions/sg/revert/handlers";
import type { RiskLevel } from "../functions/sg/change";
import { SPOKE_ROLE_NAME } from "../functions/sg/revert/adapters";
import { makeSgDetectHandler, makeSgExpireHandler, makeSgWorkerHandler, SG_BOT_ENV } from "../functions/sg/handler";
import { onAsyncFailure } from "./asyncFailures";
import type { SlackFeature } from "./slackApp";
import { LIST_ACCOUNTS_STATEMENT } from "./accountDirectory";
import { SG_REVERT_BOT_DEFAULTS } from "./defaults";

export { SG_REVERT_BOT_DEFAULTS };

/** Where reviews are posted, who may decide them (Approve / Deny), and which changes are reviewed. */
export interface SgRevertBotSettings extends SlackApprovalSettings {
  /** Changes below this risk are recorded, not posted. @default "medium" */
  readonly minRisk?: RiskLevel;
  /** Sources that never raise the risk (office, VPN egress). @default [] @example ["203.0.113.0/24"] */
  readonly trustedCidrs?: readonly string[];
  /** Undecided reviews expire (the rules stay) after this many minutes. @default 1440 */
  readonly expireAfterMinutes?: number;
  /** World-open ingress to these ports is reverted at once, and still posted. @default [] (off) @example [22, 3389] */
  readonly autoRevertPorts?: readonly number[];
}

/**
 * Spoke roles go to the organization's member targets and its management account; the hub assumes only this
 * organization's spokes. The bot token is read to update review messages and list approver groups.
 */
export interface SgRevertBotArgs extends ResponseFeatureArgs {
  /** The review channel, approvers and thresholds. */
  readonly settings: SgRevertBotSettings;
  /**
   * The ExternalId the hub presents to the spoke roles. Not a secret (it guards against the confused deputy, not
   * against a leak), but specific to this organization. @default `trailwatch-sg-revert-<organizationId>`
   */
  readonly externalId?: string;
  /** Days the functions' logs are kept. @default 90 */
  readonly logRetentionDays?: number;
  /** Customize the children: every function (and its role and log group), the review table, the expiry schedule, the worker's stream mapping, the spokes. */
  readonly transform?: FeatureTransforms & {
    /** The member accounts' spoke StackSet. */
    readonly stackSet?: Transform<aws.cloudformation.StackSetArgs>;
    /** Its stack instances. */
    readonly instances?: Transform<aws.cloudformation.StackInstancesArgs>;
    /** The management account's spoke role. */
    readonly spokeRole?: Transform<aws.iam.RoleArgs>;
    /** The management account's spoke role policy. */
    readonly spokePolicy?: Transform<aws.iam.RolePolicyArgs>;
  };
}

/** The settings the functions get (SG_BOT_ENV.settings), defaults applied, keys in a stable order. */
export function sgBotSettings(s: SgRevertBotSettings): BotSettings {
  const d = SG_REVERT_BOT_DEFAULTS;
  return {
    channel: s.channel,
    minRisk: s.minRisk ?? d.minRisk,
    trustedCidrs: [...(s.trustedCidrs ?? d.trustedCidrs)],
    expireAfterMinutes: s.expireAfterMinutes ?? d.expireAfterMinutes,
    approverUserIds: [...s.approverUserIds],
    approverUserGroupId: s.approverUserGroupId,
    autoRevertPorts: [...(s.autoRevertPorts ?? d.autoRevertPorts)],
    accountNames: { ...s.accountNames },
  };
}

export class SgRevertBot extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly hubRoleArn: pulumi.Output<string>;
  /** What the shared Slack app needs to take review decisions. */
  readonly slackFeature: SlackFeature;
  /** The children a caller may need. */
  readonly nodes: {
    readonly table: aws.dynamodb.Table;
    readonly detect: InlineFunction;
    readonly worker: InlineFunction;
    readonly expire: InlineFunction;
    readonly workerSource: aws.lambda.EventSourceMapping;
    readonly expireSchedule: Schedule;
    readonly spokes: OrgRole;
  };

  constructor(name: string, args: SgRevertBotArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:sg:SgRevertBot", name, {}, opts);
    const p = { parent: this };
    const { bus, org } = args;
    const key = bus.key;
    const logRetentionDays = args.logRetentionDays ?? SG_REVERT_BOT_DEFAULTS.logRetentionDays;
    const externalId = args.externalId ?? `trailwatch-sg-revert-${org.organizationId}`;
    const fnTransform = functionTransforms(args.transform);
    const settings = JSON.stringify(sgBotSettings(args.settings));
    this.table = encryptedTable(`${name}-reviews`, { keyArn: key.arn, ttlAttribute: "purgeAt", stream: true, transform: args.transform?.table }, p);
    const tableKey = useKey(key.arn, "TableKey");
    const botToken = readSecret(args.slackBotTokenSecretArn, "SlackBotToken");
    const reviews = (...actions: string[]): Statement => ({ Sid: "Reviews", Effect: "Allow", Action: actions.map((a) => `dynamodb:${a}`), Resource: [this.table.arn] });

    // ---- detect --------------------------------------------------------------------------------------------------
    const failures = { queueArn: bus.deliveryDeadLetter.arn, keyArn: key.arn, alertTopicArn: bus.alertTopic.arn };
    const detect = new InlineFunction(
      `${name}-detect`,
      {
        description: "Records new security-group rules for review and queues their Slack message",
        logRetentionDays,
        environment: { [SG_BOT_ENV.reviewTable]: this.table.name, [SG_BOT_ENV.settings]: settings, ...args.outbox.senderEnvironment() },
        statements: [reviews("PutItem", "BatchGetItem"), tableKey, ...args.outbox.senderStatements(), LIST_ACCOUNTS_STATEMENT],
        callbackFactory: () => makeSgDetectHandler(),
        transform: fnTransform,
      },
      p,
    );
    bus.subscribe(`${name}-changes`, securityGroupChangePattern, { kind: "lambda", function: detect.function }, "Security-group rules added, for review in Slack");
    onAsyncFailure(`${name}-detect`, detect, failures, this);
    // The outbox records each review message's channel and ts on its items.
    args.outbox.recordPostsIn(`${name}-reviews`, this.table, key);

    // ---- decisions: the review buttons' listeners run in the shared Slack app (components/slackApp.ts) ------------
    this.slackFeature = {
      environment: { [SG_BOT_ENV.reviewTable]: this.table.name, [SG_BOT_ENV.settings]: settings },
      statements: [reviews("UpdateItem", "BatchGetItem"), tableKey],
    };

    // ---- worker: the hub role ------------------------------------------------------------------------------------
    const worker = new InlineFunction(
      `${name}-worker`,
      {
        description: "Reverts denied security-group rules through the spoke role in the target account",
        timeout: 120,
        logRetentionDays,
        environment: {
          [SG_BOT_ENV.reviewTable]: this.table.name,
          [SG_BOT_ENV.botToken]: args.slackBotTokenSecretArn,
          [SG_BOT_ENV.settings]: settings,
          [SG_BOT_ENV.spokeExternalId]: externalId,
        },
        statements: [
          reviews("UpdateItem", "BatchGetItem"),
          {
            Sid: "ReviewStream",
            Effect: "Allow",
            Action: ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"],
            Resource: [this.table.streamArn],
          },
          tableKey,
          botToken,
          // Spoke roles of this organization only.
          // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid
          { Sid: "AssumeSpokeRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/${SPOKE_ROLE_NAME}`, Condition: { StringEquals: { "aws:ResourceOrgID": org.organizationId } } },
          LIST_ACCOUNTS_STATEMENT,
        ],
        callbackFactory: () => makeSgWorkerHandler(),
        transform: fnTransform,
      },
      p,
    );
    this.hubRoleArn = worker.role.arn;
    const workerSource = new aws.lambda.EventSourceMapping(
      ...transformed(
        args.transform?.eventSource,
        `${name}-worker-source`,
        {
          eventSourceArn: this.table.streamArn,
          functionName: worker.function.name,
          startingPosition: "LATEST",
          batchSize: 10,
          maximumRetryAttempts: 3,
          bisectBatchOnFunctionError: true,
          // Only reviews that were just denied reach the worker.
          // https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
          filterCriteria: { filters: [{ pattern: JSON.stringify({ dynamodb: { NewImage: { state: { S: ["DENIED"] } } } }) }] },
        },
        p,
      ),
    );

    // ---- expiry, and the sweep that re-queues review messages that were never posted --------------------------
    const expire = new InlineFunction(
      `${name}-expire`,
      {
        description: "Expires undecided security-group reviews; re-queues review messages that were never posted",
        logRetentionDays,
        environment: {
          [SG_BOT_ENV.reviewTable]: this.table.name,
          [SG_BOT_ENV.botToken]: args.slackBotTokenSecretArn,
          [SG_BOT_ENV.settings]: settings,
          ...args.outbox.senderEnvironment(),
        },
        statements: [reviews("Scan", "UpdateItem", "BatchGetItem"), tableKey, botToken, ...args.outbox.senderStatements(), LIST_ACCOUNTS_STATEMENT],
        callbackFactory: () => makeSgExpireHandler(),
        transform: fnTransform,
      },
      p,
    );
    const expireSchedule = scheduleFunction(
      `${name}-expire`,
      {
        function: expire.function,
        expression: "rate(5 minutes)",
        description: "trailwatch: expire undecided security-group reviews",
        deadLetterArn: bus.deliveryDeadLetter.arn,
        ruleName: `${name}-expire-tick`,
        transform: { rule: args.transform?.rule, target: args.transform?.target },
      },
      p,
    );
    onAsyncFailure(`${name}-expire`, expire, { ...failures, maximumEventAgeInSeconds: 300 }, this);

    // ---- spoke roles: members through a StackSet, the management account directly -------------------------------
    const spokes = organizationRole(
      `${name}-spokes`,
      {
        org,
        spec: SG_SPOKE_ROLE,
        principalArn: this.hubRoleArn,
        externalId,
        stackSetName: "sg-revert-spokes",
        stackSetDescription: "trailwatch: the role the SgRevertBot assumes to revoke security-group rules",
        stackSetResourceName: `${name}-spokes`,
        managementResourceName: `${name}-spoke-management`,
        transform: { stackSet: args.transform?.stackSet, instances: args.transform?.instances, managementRole: args.transform?.spokeRole, managementPolicy: args.transform?.spokePolicy },
      },
      p,
    );

    this.nodes = { table: this.table, detect, worker, expire, workerSource, expireSchedule, spokes };
    this.registerOutputs({ hubRoleArn: this.hubRoleArn, table: this.table.name });
  }
}

/** The spoke may revoke rules and check they are gone: nothing else. Revoke is scoped to security groups. */
export const SPOKE_PERMISSIONS: Statement[] = [
  { Sid: "RevokeRules", Effect: "Allow", Action: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"], Resource: "arn:aws:ec2:*:*:security-group/*" },
  // DescribeSecurityGroupRules supports no resource-level permissions.
  { Sid: "CheckRules", Effect: "Allow", Action: "ec2:DescribeSecurityGroupRules", Resource: "*" },
];

/** The spoke role in every account: revoke security-group rules, trusted by the worker's (hub) role alone. */
export const SG_SPOKE_ROLE: OrgRoleSpec = {
  roleName: SPOKE_ROLE_NAME,
  roleDescription: "trailwatch SgRevertBot: revoke security-group rules a security approver denied",
  logicalId: "SpokeRole",
  templateDescription: "trailwatch: the role the SgRevertBot hub assumes to revoke security-group rules in this account",
  principalParameter: "HubRoleArn",
  principalDescription: "The SgRevertBot worker's role in the security account",
  externalIdDescription: "ExternalId the hub must present",
  trustSid: "HubRoleWithExternalId",
  policyName: "revoke-security-group-rules",
  permissions: SPOKE_PERMISSIONS,
};
