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
import { denyInsecureTransport, policy, policyJson, serviceMay, serviceTrust, type Statement } from "./iam";
import { accountKeyPolicy, customerKey } from "./kms";
import { alarmTopic } from "./alarmTopic";
import { alertAlarm } from "./alarm";
import { secureBucket } from "./bucket";
import type { OrgContext } from "./org";
import { transformed, type Transform } from "./transform";
import { ORG_TRAIL_DEFAULTS } from "./defaults";
import type { AlarmRow } from "../functions/trailAlarms";
import { partitionOf } from "../functions/cloudtrail";

export { ORG_TRAIL_DEFAULTS };

export const ALARM_NAMESPACE = "trailwatch/OrgTrail";

/** Customize the trail's children (components/transform.ts); the callback gets each child's name. */
export interface OrgTrailTransforms {
  readonly trail?: Transform<aws.cloudtrail.TrailArgs>;
  /** Both keys: the trail key (log files) and the monitoring key (log group, topic, event data store). */
  readonly key?: Transform<aws.kms.KeyArgs>;
  /** Both buckets: the log bucket and its server access log bucket. */
  readonly bucket?: Transform<aws.s3.BucketArgs>;
  readonly logGroup?: Transform<aws.cloudwatch.LogGroupArgs>;
  /** The CloudWatch Logs delivery role. */
  readonly role?: Transform<aws.iam.RoleArgs>;
  /** The alarm topic. */
  readonly topic?: Transform<aws.sns.TopicArgs>;
  /** Every alarm: the rows' and "CloudTrail silent". */
  readonly alarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
  readonly eventDataStore?: Transform<aws.cloudtrail.EventDataStoreArgs>;
}

export interface OrgTrailArgs {
  /**
   * The organization: the trail, its log group, role, alarms and topic go to the management account (`org.provider
   * ("management")`), the bucket and its key to the log-archive account, all in `org.homeRegion`.
   */
  readonly org: OrgContext;
  /** Also register the security account as CloudTrail delegated administrator. @default false */
  readonly delegatedAdministrator?: boolean;
  /** The trail's name (the bucket and key policies name it before it exists). @default "trailwatch-org" */
  readonly trailName?: string;
  /** Days log files stay in the bucket (CIS asks at least 365). @default 365 */
  readonly bucketExpirationDays?: number;
  /** Days an overwritten or deleted log file's old version is kept. @default 90 */
  readonly noncurrentVersionExpirationDays?: number;
  /** Retention of the trail's CloudWatch Logs group (the metric filters' input). @default 365 */
  readonly logRetentionDays?: number;
  /**
   * IAM principals (ARNs) allowed to decrypt and read log files; each must exist before the deployment (KMS refuses a
   * key policy naming one that does not). @default []
   * @example ["arn:aws:iam::444455556666:role/security-audit"]
   */
  readonly readerArns?: readonly string[];
  /** Data events logged besides management events (billed per event). @default both false */
  readonly dataEvents?: { readonly s3Objects: boolean; readonly lambdaInvokes: boolean };
  /** Network activity events of these VPC endpoint event sources; `deniesOnly`: VpceAccessDenied only. @default none */
  readonly networkActivity?: { readonly eventSources: readonly string[]; readonly deniesOnly: boolean };
  /** CloudTrail Insights (API call rate and error rate anomalies). @default false */
  readonly insights?: boolean;
  /** Minutes without any event from the trail before the "CloudTrail silent" alarm fires (5-minute steps). @default 60 */
  readonly silenceMinutes?: number;
  /** Retention of a CloudTrail Lake event data store of the organization's management events; unset = none. */
  readonly lakeRetentionDays?: number;
  /** The metric-filter alarms on the trail's log group (functions/trailAlarms.ts alarmRows). */
  readonly alarmRows: readonly AlarmRow[];
  /** Email subscriptions on the alarm topic. @default [] */
  readonly alarmEmails?: readonly string[];
  /** Customize the children. */
  readonly transform?: OrgTrailTransforms;
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
    const { org } = args;
    const defaults = ORG_TRAIL_DEFAULTS;
    const t = args.transform ?? {};
    const mgmt = { parent: this, provider: org.provider("management") };
    const archive = { parent: this, provider: org.provider("logArchive") };
    const { organizationId: orgId, homeRegion: region } = org;
    const mgmtAccount = org.accounts.management;
    const logArchiveAccountId = org.accounts.logArchive;
    const trailName = args.trailName ?? defaults.trailName;
    const bucketExpirationDays = args.bucketExpirationDays ?? defaults.bucketExpirationDays;
    const noncurrentVersionExpirationDays = args.noncurrentVersionExpirationDays ?? defaults.noncurrentVersionExpirationDays;
    const readerArns = [...(args.readerArns ?? [])];
    const partition = partitionOf(region);
    // Known before the trail exists: the bucket and key policies must name it, and CloudTrail checks them on create.
    const trailArn = `arn:${partition}:cloudtrail:${region}:${mgmtAccount}:trail/${trailName}`;
    const trailsOfMgmt = `arn:${partition}:cloudtrail:*:${mgmtAccount}:trail/*`;

    // An organization trail cannot be created without CloudTrail trusted access.
    // https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-cloudtrail.html
    const trustedAccess = new aws.organizations.AwsServiceAccess(`${name}-trusted-access`, { servicePrincipal: "cloudtrail.amazonaws.com" }, mgmt);
    const prerequisites: pulumi.Resource[] = [trustedAccess];
    if (args.delegatedAdministrator)
      prerequisites.push(
        new aws.cloudtrail.OrganizationDelegatedAdminAccount(
          `${name}-delegated-admin`,
          { accountId: org.accounts.security },
          { ...mgmt, dependsOn: [trustedAccess] },
        ),
      );

    // ---- the log bucket and its key (log-archive account) ------------------------------------------------------
    this.trailKey = customerKey(
      `${name}-key`,
      {
        description: `trailwatch organization trail ${trailName}: log files`,
        policy: trailKeyPolicy(logArchiveAccountId, region, trailArn, trailsOfMgmt, readerArns),
        alias: `alias/trailwatch-${pulumi.getStack()}-org-trail`,
        transform: t.key,
      },
      archive,
    );

    // Server access logs of the trail bucket (CIS: access logging on the CloudTrail bucket). S3 delivers access logs
    // only to SSE-S3 buckets: https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
    const accessLogs = secureBucket(
      `${name}-access-logs`,
      { encryption: "AES256", expirationDays: bucketExpirationDays, noncurrentVersionExpirationDays, transform: t.bucket },
      archive,
    );
    const logs = secureBucket(
      `${name}-logs`,
      {
        encryption: this.trailKey.arn,
        expirationDays: bucketExpirationDays,
        noncurrentVersionExpirationDays,
        accessLogBucket: accessLogs.bucket.id,
        transform: t.bucket,
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
            serviceMay("S3ServerAccessLogsOfTheTrailBucket", "logging.s3.amazonaws.com", "s3:PutObject", pulumi.interpolate`${accessLogs.bucket.arn}/*`, { ArnLike: { "aws:SourceArn": this.bucket.arn }, StringEquals: { "aws:SourceAccount": logArchiveAccountId } }),
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
            serviceMay("CloudTrailAclCheck", "cloudtrail.amazonaws.com", "s3:GetBucketAcl", this.bucket.arn, { StringEquals: { "aws:SourceArn": trailArn } }),
            serviceMay("CloudTrailWritesManagementAccountLogs", "cloudtrail.amazonaws.com", "s3:PutObject", pulumi.interpolate`${this.bucket.arn}/AWSLogs/${mgmtAccount}/*`, { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } }),
            serviceMay("CloudTrailWritesOrganizationLogs", "cloudtrail.amazonaws.com", "s3:PutObject", pulumi.interpolate`${this.bucket.arn}/AWSLogs/${orgId}/*`, { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } }),
            ...(readerArns.length > 0
              ? [
                  {
                    Sid: "NamedReadersReadLogFiles",
                    Effect: "Allow" as const,
                    Principal: { AWS: readerArns },
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
    this.monitoringKey = customerKey(
      `${name}-monitoring-key`,
      {
        description: "trailwatch organization trail: log group, alarm topic, event data store",
        policy: accountKeyPolicy(mgmtAccount, region, ["logs", "alarms"], monitoringUsers),
        alias: `alias/trailwatch-${pulumi.getStack()}-org-trail-monitoring`,
        transform: t.key,
      },
      mgmt,
    );
    this.logGroup = new aws.cloudwatch.LogGroup(
      ...transformed(
        t.logGroup,
        `${name}-log-group`,
        { name: `/trailwatch/${pulumi.getStack()}/org-trail`, retentionInDays: args.logRetentionDays ?? defaults.logRetentionDays, kmsKeyId: this.monitoringKey.arn },
        mgmt,
      ),
    );
    // The trust policy carries no aws:SourceArn/SourceAccount: CloudTrail's CloudWatch Logs role does not support them.
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html
    const deliveryRole = new aws.iam.Role(
      ...transformed(
        t.role,
        `${name}-cloudwatch-delivery`,
        { description: "CloudTrail delivers the organization trail to its log group", assumeRolePolicy: serviceTrust("cloudtrail.amazonaws.com"), maxSessionDuration: 3600 },
        mgmt,
      ),
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
      ...transformed(
        t.trail,
        `${name}-trail`,
        {
        name: trailName,
        s3BucketName: this.bucket.id,
        isOrganizationTrail: true,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        enableLogging: true,
        kmsKeyId: this.trailKey.arn,
        cloudWatchLogsGroupArn: pulumi.interpolate`${this.logGroup.arn}:*`,
        cloudWatchLogsRoleArn: deliveryRole.arn,
        advancedEventSelectors: eventSelectors(args.dataEvents ?? { s3Objects: false, lambdaInvokes: false }, args.networkActivity),
        insightSelectors: args.insights ?? defaults.insights ? [{ insightType: "ApiCallRateInsight" }, { insightType: "ApiErrorRateInsight" }] : undefined,
        },
        { ...mgmt, dependsOn: [...prerequisites, bucketPolicy, deliveryPolicy] },
      ),
    );

    if (args.lakeRetentionDays)
      this.eventDataStore = new aws.cloudtrail.EventDataStore(
        ...transformed(
          t.eventDataStore,
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
        ),
      );

    // ---- alarms ----------------------------------------------------------------------------------------------------
    this.alarmTopic = alarmTopic(
      `${name}-alarms`,
      { keyId: this.monitoringKey.id, accountId: mgmtAccount, displayName: "trailwatch organization trail alarms", emails: args.alarmEmails ?? [], transform: t.topic },
      mgmt,
    );
    this.alarms.push(...trailAlarms(name, args.alarmRows, this.logGroup.name, this.alarmTopic.arn, mgmt, t.alarm));

    // Heartbeats prove the forwarders' rules run, not that CloudTrail delivers: a stopped or broken organization trail
    // keeps them green. Every record the trail delivers to its log group counts here (an empty filter pattern matches
    // every log event: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html); no
    // data at all is breaching.
    const silence = args.silenceMinutes ?? defaults.silenceMinutes;
    new aws.cloudwatch.LogMetricFilter(
      `${name}-events`,
      { name: "trailwatch-trail-events", logGroupName: this.logGroup.name, pattern: "", metricTransformation: { name: TRAIL_EVENTS_METRIC, namespace: ALARM_NAMESPACE, value: "1", unit: "Count" } },
      mgmt,
    );
    this.alarms.push(
      alertAlarm(
        `${name}-silent`,
        {
          alarmName: `trailwatch-${pulumi.getStack()}-cloudtrail-silent`,
          description: `CloudTrail silent: the organization trail delivered no event for ${silence} minutes (stopped logging, a delivery failure, or a broken log group)`,
          namespace: ALARM_NAMESPACE,
          metricName: TRAIL_EVENTS_METRIC,
          statistic: "Sum",
          periods: Math.ceil(silence / 5),
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          treatMissingData: "breaching",
          topicArn: this.alarmTopic.arn,
          transform: t.alarm,
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
function trailKeyPolicy(account: string, region: string, trailArn: string, trailsOfMgmt: string, readers: readonly string[]) {
  const extra: Statement[] = [
    serviceMay("CloudTrailEncryptsThisTrail", "cloudtrail.amazonaws.com", "kms:GenerateDataKey*", "*", { StringEquals: { "aws:SourceArn": trailArn }, StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": trailsOfMgmt } }),
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
    serviceMay("CloudTrailDescribesKey", "cloudtrail.amazonaws.com", "kms:DescribeKey", "*", { StringEquals: { "aws:SourceArn": trailArn } }),
  ];
  if (readers.length > 0)
    extra.push({
      Sid: "NamedReadersDecryptLogFiles",
      Effect: "Allow",
      Principal: { AWS: [...readers] },
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
  transform?: Transform<aws.cloudwatch.MetricAlarmArgs>,
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
    return alertAlarm(
      `${name}-${row.id}`,
      {
        alarmName: `trailwatch-${pulumi.getStack()}-${row.id}`,
        description: `${row.title}: ${row.description}${row.docLink ? ` (${row.docLink})` : ""}`.slice(0, 1024),
        namespace: ALARM_NAMESPACE,
        metricName,
        statistic: "Sum",
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        topicArn,
        // A row alarm says that something happened: its return to OK five minutes later is no news.
        notifyOk: false,
        transform,
      },
      opts,
    );
  });
}
