/**
 * ExistingTrailAlarms: the organization trail's alarm rows on a trail that exists already (Control Tower's
 * `aws-controltower-BaselineCloudTrail` delivers to the `aws-controltower/CloudTrailLogs` log group of the management
 * account: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSControlTowerCloudTrailRolePolicy.html;
 * Landing Zone Accelerator's organization trail has one too). No trail, bucket or trail key: those stay their
 * owner's. The same metric filters, metrics (`trailwatch/OrgTrail`, no dimensions) and alarms as `OrgTrail`, and an
 * alarm topic under a key of its own.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountKeyPolicy, customerKey } from "./kms";
import { alarmTopic } from "./alarmTopic";
import { trailAlarms } from "./orgTrail";
import type { OrgContext } from "./org";
import type { Transform } from "./transform";
import type { AlarmRow } from "../functions/trailAlarms";

export interface ExistingTrailAlarmsArgs {
  /** The organization: the management account owns the trail's log group (home region); the alarms go there. */
  readonly org: OrgContext;
  /** The existing trail's CloudWatch Logs group. @example "aws-controltower/CloudTrailLogs" */
  readonly logGroupName: string;
  /** The metric-filter alarms (functions/trailAlarms.ts alarmRows). */
  readonly alarmRows: readonly AlarmRow[];
  /** Email subscriptions on the alarm topic. @default [] */
  readonly alarmEmails?: readonly string[];
  /** Customize the children (components/transform.ts). */
  readonly transform?: { readonly key?: Transform<aws.kms.KeyArgs>; readonly topic?: Transform<aws.sns.TopicArgs>; readonly alarm?: Transform<aws.cloudwatch.MetricAlarmArgs> };
}

export class ExistingTrailAlarms extends pulumi.ComponentResource {
  readonly alarmTopic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

  constructor(name: string, args: ExistingTrailAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:trail:ExistingTrailAlarms", name, {}, opts);
    const { org } = args;
    const t = args.transform ?? {};
    const management = org.accounts.management;
    const mgmt = { parent: this, provider: org.provider("management") };
    const key = customerKey(
      `${name}-key`,
      { description: "trailwatch alarms on the existing organization trail", policy: accountKeyPolicy(management, org.homeRegion, ["alarms"]), transform: t.key },
      mgmt,
    );
    this.alarmTopic = alarmTopic(
      `${name}-alarms`,
      { keyId: key.id, accountId: management, displayName: "trailwatch organization trail alarms", emails: args.alarmEmails ?? [], transform: t.topic },
      mgmt,
    );
    this.alarms.push(...trailAlarms(name, args.alarmRows, args.logGroupName, this.alarmTopic.arn, mgmt, t.alarm));
    this.registerOutputs({ alarmTopicArn: this.alarmTopic.arn });
  }
}
