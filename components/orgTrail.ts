/**
 * OrgTrail: the organization trail, hardened. CloudTrail trusted access, a locked-down log bucket in the log-archive
 * account under a key CloudTrail may use for this trail only, CloudWatch Logs delivery, and a table of metric-filter
 * alarms (functions/trailAlarms.ts) on the trail's log group.
 *
 * Accounts: the trail, its log group, role, alarms and topic live in the management account (an organization trail's
 * owner is always the management account, even when a delegated administrator creates it:
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator.html);
 * the bucket and its key live in the log-archive account.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policy, policyJson, serviceTrust, type Statement } from "./iam";
import { accountKeyPolicy } from "./kms";
import { alarmTopic } from "./alarmTopic";
import { secureBucket } from "./bucket";
import type { AlarmRow } from "../functions/trailAlarms";
import { partitionOf } from "../functions/cloudtrail";

export const ALARM_NAMESPACE = "trailwatch/OrgTrail";

export interface OrgTrailArgs {
  organizationId: string;
  managementAccountId: string;
  logArchiveAccountId: string;
  /** Registered as CloudTrail delegated administrator when set. */
  delegatedAdministratorAccountId?: string;
  /** The trail's home region (bucket, key, log group and alarms are here). */
  region: string;
  trailName: string;
  bucketExpirationDays: number;
  noncurrentVersionExpirationDays: number;
  logRetentionDays: number;
  /** IAM principals (ARNs) allowed to decrypt log files. */
  readerArns: string[];
  dataEvents: { s3Objects: boolean; lambdaInvokes: boolean };
  /** Network activity events of these VPC endpoint event sources; `deniesOnly`: VpceAccessDenied only. */
  networkActivity?: { eventSources: readonly string[]; deniesOnly: boolean };
  insights: boolean;
  /** Minutes without any event from the trail before the "CloudTrail silent" alarm fires. @default 60 */
  silenceMinutes?: number;
  /** Retention of a CloudTrail Lake event data store of the organization's management events; unset = none. */
  lakeRetentionDays?: number;
  alarmRows: AlarmRow[];
  alarmEmails: string[];
  providers: { management: aws.Provider; logArchive: aws.Provider };
}

export class OrgTrail extends pulumi.ComponentResource {
  readonly trail: aws.cloudtrail.Trail;
  readonly bucket: aws.s3.Bucket;
  readonly trailKey: aws.kms.Key;
  readonly monitoringKey: aws.kms.Key;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly alarmTopic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
  readonly eventDataStore?: aws.cloudtrail.EventDataStore;

  constructor(name: string, args: OrgTrailArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:audit:OrgTrail", name, {}, opts);
    const mgmt = { parent: this, provider: args.providers.management };
    const archive = { parent: this, provider: args.providers.logArchive };
    const { managementAccountId: mgmtAccount, organizationId: orgId, region } = args;
    const partition = partitionOf(region);
    // Known before the trail exists: the bucket and key policies must name it, and CloudTrail checks them on create.
    const trailArn = `arn:${partition}:cloudtrail:${region}:${mgmtAccount}:trail/${args.trailName}`;
    const trailsOfMgmt = `arn:${partition}:cloudtrail:*:${mgmtAccount}:trail/*`;

    // An organization trail cannot be created without CloudTrail trusted access.
    // https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-cloudtrail.html
    const trustedAccess = new aws.organizations.AwsServiceAccess(`${name}-trusted-access`, { servicePrincipal: "cloudtrail.amazonaws.com" }, mgmt);
    const prerequisites: pulumi.Resource[] = [trustedAccess];
    if (args.delegatedAdministratorAccountId)
      prerequisites.push(
        new aws.cloudtrail.OrganizationDelegatedAdminAccount(
          `${name}-delegated-admin`,
          { accountId: args.delegatedAdministratorAccountId },
          { ...mgmt, dependsOn: [trustedAccess] },
        ),
      );

    // ---- the log bucket and its key (log-archive account) ------------------------------------------------------
    this.trailKey = new aws.kms.Key(
      `${name}-key`,
      {
        description: `trailwatch organization trail ${args.trailName}: log files`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyJson(trailKeyPolicy(args.logArchiveAccountId, region, trailArn, trailsOfMgmt, args.readerArns)),
      },
      archive,
    );
    new aws.kms.Alias(`${name}-key-alias`, { name: `alias/trailwatch-${pulumi.getStack()}-org-trail`, targetKeyId: this.trailKey.keyId }, archive);

    // Server access logs of the trail bucket (CIS: access logging on the CloudTrail bucket). S3 delivers access logs
    // only to SSE-S3 buckets: https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
    const accessLogs = secureBucket(
      `${name}-access-logs`,
      { encryption: "AES256", expirationDays: args.bucketExpirationDays, noncurrentVersionExpirationDays: args.noncurrentVersionExpirationDays },
      archive,
    );
    const logs = secureBucket(
      `${name}-logs`,
      {
        encryption: this.trailKey.arn,
        expirationDays: args.bucketExpirationDays,
        noncurrentVersionExpirationDays: args.noncurrentVersionExpirationDays,
        accessLogBucket: accessLogs.bucket.id,
      },
      archive,
    );
    this.bucket = logs.bucket;
    new aws.s3.BucketPolicy(
      `${name}-access-logs-policy`,
      {
        bucket: accessLogs.bucket.id,
        policy: policyJson(
          policy(
            {
              Sid: "S3ServerAccessLogsOfTheTrailBucket",
              Effect: "Allow",
              Principal: { Service: "logging.s3.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${accessLogs.bucket.arn}/*`,
              Condition: { ArnLike: { "aws:SourceArn": this.bucket.arn }, StringEquals: { "aws:SourceAccount": args.logArchiveAccountId } },
            },
            denyInsecureTransport([accessLogs.bucket.arn, pulumi.interpolate`${accessLogs.bucket.arn}/*`]),
          ),
        ),
      },
      { ...archive, dependsOn: accessLogs.ready },
    );
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    const bucketPolicy = new aws.s3.BucketPolicy(
      `${name}-logs-policy`,
      {
        bucket: this.bucket.id,
        policy: policyJson(
          policy(
            {
              Sid: "CloudTrailAclCheck",
              Effect: "Allow",
              Principal: { Service: "cloudtrail.amazonaws.com" },
              Action: "s3:GetBucketAcl",
              Resource: this.bucket.arn,
              Condition: { StringEquals: { "aws:SourceArn": trailArn } },
            },
            {
              Sid: "CloudTrailWritesManagementAccountLogs",
              Effect: "Allow",
              Principal: { Service: "cloudtrail.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${this.bucket.arn}/AWSLogs/${mgmtAccount}/*`,
              Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
            },
            {
              Sid: "CloudTrailWritesOrganizationLogs",
              Effect: "Allow",
              Principal: { Service: "cloudtrail.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${this.bucket.arn}/AWSLogs/${orgId}/*`,
              Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
            },
            ...(args.readerArns.length > 0
              ? [
                  {
                    Sid: "NamedReadersReadLogFiles",
                    Effect: "Allow" as const,
                    Principal: { AWS: args.readerArns },
                    Action: ["s3:GetObject", "s3:ListBucket"],
                    Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/AWSLogs/*`],
                  },
                ]
              : []),
            denyInsecureTransport([this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`]),
          ),
        ),
      },
      { ...archive, dependsOn: logs.ready },
    );

    // ---- CloudWatch Logs delivery and the monitoring key (management account) ------------------------------------
    const monitoringUsers: Statement[] = [];
    if (args.lakeRetentionDays)
      monitoringUsers.push({
        // As CloudTrail's own default policy for event data store keys:
        // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html
        Sid: "CloudTrailLakeEventDataStore",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: "*",
      });
    this.monitoringKey = new aws.kms.Key(
      `${name}-monitoring-key`,
      {
        description: "trailwatch organization trail: log group, alarm topic, event data store",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyJson(accountKeyPolicy(mgmtAccount, region, ["logs", "alarms"], monitoringUsers)),
      },
      mgmt,
    );
    new aws.kms.Alias(`${name}-monitoring-key-alias`, { name: `alias/trailwatch-${pulumi.getStack()}-org-trail-monitoring`, targetKeyId: this.monitoringKey.keyId }, mgmt);
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-log-group`,
      { name: `/trailwatch/${pulumi.getStack()}/org-trail`, retentionInDays: args.logRetentionDays, kmsKeyId: this.monitoringKey.arn },
      mgmt,
    );
    // The trust policy carries no aws:SourceArn/SourceAccount: CloudTrail's CloudWatch Logs role does not support them.
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html
    const deliveryRole = new aws.iam.Role(
      `${name}-cloudwatch-delivery`,
      { description: "CloudTrail delivers the organization trail to its log group", assumeRolePolicy: serviceTrust("cloudtrail.amazonaws.com"), maxSessionDuration: 3600 },
      mgmt,
    );
    // Streams are named <management account>_CloudTrail_<region>... for the management account's own events and
    // <org id>_<member account>_CloudTrail_<region>... for members'; both must be allowed.
    const streams = [
      pulumi.interpolate`${this.logGroup.arn}:log-stream:${mgmtAccount}_CloudTrail_${region}*`,
      pulumi.interpolate`${this.logGroup.arn}:log-stream:${orgId}_*`,
    ];
    const deliveryPolicy = new aws.iam.RolePolicy(
      `${name}-cloudwatch-delivery`,
      {
        role: deliveryRole.id,
        policy: policyJson(
          policy(
            { Sid: "CreateTrailStreams", Effect: "Allow", Action: "logs:CreateLogStream", Resource: streams },
            { Sid: "PutTrailEvents", Effect: "Allow", Action: "logs:PutLogEvents", Resource: streams },
          ),
        ),
      },
      mgmt,
    );

    // ---- the trail -------------------------------------------------------------------------------------------------
    this.trail = new aws.cloudtrail.Trail(
      `${name}-trail`,
      {
        name: args.trailName,
        s3BucketName: this.bucket.id,
        isOrganizationTrail: true,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        enableLogging: true,
        kmsKeyId: this.trailKey.arn,
        cloudWatchLogsGroupArn: pulumi.interpolate`${this.logGroup.arn}:*`,
        cloudWatchLogsRoleArn: deliveryRole.arn,
        advancedEventSelectors: eventSelectors(args.dataEvents, args.networkActivity),
        insightSelectors: args.insights ? [{ insightType: "ApiCallRateInsight" }, { insightType: "ApiErrorRateInsight" }] : undefined,
      },
      { ...mgmt, dependsOn: [...prerequisites, bucketPolicy, deliveryPolicy] },
    );

    if (args.lakeRetentionDays)
      this.eventDataStore = new aws.cloudtrail.EventDataStore(
        `${name}-lake`,
        {
          name: `trailwatch-${pulumi.getStack()}-org`,
          organizationEnabled: true,
          multiRegionEnabled: true,
          retentionPeriod: args.lakeRetentionDays,
          terminationProtectionEnabled: true,
          kmsKeyId: this.monitoringKey.arn,
          advancedEventSelectors: [{ name: "Management events", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] }],
        },
        { ...mgmt, dependsOn: prerequisites },
      );

    // ---- alarms ----------------------------------------------------------------------------------------------------
    this.alarmTopic = alarmTopic(
      `${name}-alarms`,
      { keyId: this.monitoringKey.id, accountId: mgmtAccount, displayName: "trailwatch organization trail alarms", emails: args.alarmEmails },
      mgmt,
    );
    this.alarms.push(...trailAlarms(name, args.alarmRows, this.logGroup.name, this.alarmTopic.arn, mgmt));

    // Heartbeats prove the forwarders' rules run, not that CloudTrail delivers: a stopped or broken organization trail
    // keeps them green. Every record the trail delivers to its log group counts here (an empty filter pattern matches
    // every log event: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html); no
    // data at all is breaching.
    const silence = args.silenceMinutes ?? 60;
    new aws.cloudwatch.LogMetricFilter(
      `${name}-events`,
      { name: "trailwatch-trail-events", logGroupName: this.logGroup.name, pattern: "", metricTransformation: { name: TRAIL_EVENTS_METRIC, namespace: ALARM_NAMESPACE, value: "1", unit: "Count" } },
      mgmt,
    );
    this.alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-silent`,
        {
          name: `trailwatch-${pulumi.getStack()}-cloudtrail-silent`,
          alarmDescription: `CloudTrail silent: the organization trail delivered no event for ${silence} minutes (stopped logging, a delivery failure, or a broken log group)`,
          namespace: ALARM_NAMESPACE,
          metricName: TRAIL_EVENTS_METRIC,
          statistic: "Sum",
          period: 300,
          evaluationPeriods: Math.ceil(silence / 5),
          datapointsToAlarm: Math.ceil(silence / 5),
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          treatMissingData: "breaching",
          alarmActions: [this.alarmTopic.arn],
          okActions: [this.alarmTopic.arn],
        },
        mgmt,
      ),
    );

    this.registerOutputs({
      bucketName: this.bucket.id,
      bucketArn: this.bucket.arn,
      trailArn: this.trail.arn,
      logGroupName: this.logGroup.name,
      logGroupArn: this.logGroup.arn,
      trailKeyArn: this.trailKey.arn,
      alarmTopicArn: this.alarmTopic.arn,
    });
  }
}

/** Every record the organization trail delivers to its log group, counted (the "CloudTrail silent" alarm's metric). */
export const TRAIL_EVENTS_METRIC = "TrailEvents";

/** `root-account-usage` -> `RootAccountUsage`. */
export function metricNameOf(rowId: string): string {
  return rowId.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}

/**
 * Management events always; S3 object and Lambda invoke data events when configured (they are billed per event);
 * network activity events of the chosen VPC endpoint event sources, one selector per source (CloudTrail: "If you want
 * to log network activity events for multiple event sources, you must create a separate field selector for each"),
 * VpceAccessDenied only unless asked (errorCode's only valid value):
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-network-events-with-cloudtrail.html
 */
export function eventSelectors(
  data: { s3Objects: boolean; lambdaInvokes: boolean },
  network: { eventSources: readonly string[]; deniesOnly: boolean } = { eventSources: [], deniesOnly: true },
): aws.types.input.cloudtrail.TrailAdvancedEventSelector[] {
  const selectors: aws.types.input.cloudtrail.TrailAdvancedEventSelector[] = [
    { name: "Management events", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] },
  ];
  if (data.s3Objects)
    selectors.push({
      name: "S3 object data events",
      fieldSelectors: [
        { field: "eventCategory", equals: ["Data"] },
        { field: "resources.type", equals: ["AWS::S3::Object"] },
      ],
    });
  if (data.lambdaInvokes)
    selectors.push({
      name: "Lambda invoke data events",
      fieldSelectors: [
        { field: "eventCategory", equals: ["Data"] },
        { field: "resources.type", equals: ["AWS::Lambda::Function"] },
      ],
    });
  for (const source of network.eventSources)
    selectors.push({
      name: `Network activity ${source}${network.deniesOnly ? " VPC endpoint denies" : ""}`,
      fieldSelectors: [
        { field: "eventCategory", equals: ["NetworkActivity"] },
        { field: "eventSource", equals: [source] },
        ...(network.deniesOnly ? [{ field: "errorCode", equals: ["VpceAccessDenied"] }] : []),
      ],
    });
  return selectors;
}

/**
 * The trail key: CloudTrail may encrypt with it for this trail only (aws:SourceArn) and only in the context of the
 * management account's trails, and decrypt for this trail (the bucket's S3 Bucket Key needs it); named readers may
 * decrypt log files, nothing else. KMS refuses a key policy naming a principal that does not exist: every
 * `readerArns` role or user must exist before the deployment.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
 */
function trailKeyPolicy(account: string, region: string, trailArn: string, trailsOfMgmt: string, readers: string[]) {
  const extra: Statement[] = [
    {
      Sid: "CloudTrailEncryptsThisTrail",
      Effect: "Allow",
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Action: "kms:GenerateDataKey*",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceArn": trailArn }, StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": trailsOfMgmt } },
    },
    {
      // The bucket uses an S3 Bucket Key: CloudTrail then needs kms:Decrypt as well to create or update the trail
      // with SSE-KMS ("Required KMS key policy sections", item 2).
      Sid: "CloudTrailDecryptsForTheBucketKey",
      Effect: "Allow",
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceArn": trailArn } },
    },
    {
      Sid: "CloudTrailDescribesKey",
      Effect: "Allow",
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Action: "kms:DescribeKey",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceArn": trailArn } },
    },
  ];
  if (readers.length > 0)
    extra.push({
      Sid: "NamedReadersDecryptLogFiles",
      Effect: "Allow",
      Principal: { AWS: readers },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": trailsOfMgmt } },
    });
  return accountKeyPolicy(account, region, [], extra);
}

/**
 * One metric filter and one alarm per row on the organization trail's log group (ours, or one that exists already:
 * components/existingTrailAlarms.ts). No dimensions and no default value: one low-cardinality series that exists only
 * when something matched, so a quiet month is not INSUFFICIENT_DATA.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MonitoringPolicyExamples.html
 */
export function trailAlarms(
  name: string,
  rows: readonly AlarmRow[],
  logGroupName: pulumi.Input<string>,
  topicArn: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm[] {
  return rows.map((row) => {
    const metricName = metricNameOf(row.id);
    new aws.cloudwatch.LogMetricFilter(
      `${name}-${row.id}`,
      {
        name: `trailwatch-${row.id}`,
        logGroupName,
        pattern: row.pattern,
        metricTransformation: { name: metricName, namespace: ALARM_NAMESPACE, value: "1", unit: "Count" },
      },
      opts,
    );
    return new aws.cloudwatch.MetricAlarm(
      `${name}-${row.id}`,
      {
        name: `trailwatch-${pulumi.getStack()}-${row.id}`,
        alarmDescription: `${row.title}: ${row.description}${row.docLink ? ` (${row.docLink})` : ""}`.slice(0, 1024),
        namespace: ALARM_NAMESPACE,
        metricName,
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [topicArn],
      },
      opts,
    );
  });
}
