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
import { accountKeyPolicy } from "./kms";
import { policyJson } from "./iam";
import { alarmTopic } from "./alarmTopic";
import { trailAlarms } from "./orgTrail";
import type { AlarmRow } from "../functions/trailAlarms";

export interface ExistingTrailAlarmsArgs {
  /** The management account, which owns the organization trail's log group. */
  managementAccountId: string;
  region: string;
  /** The existing trail's CloudWatch Logs group, e.g. aws-controltower/CloudTrailLogs. */
  logGroupName: string;
  alarmRows: AlarmRow[];
  alarmEmails: string[];
  /** The management account's provider in `region`. */
  provider: aws.Provider;
}

export class ExistingTrailAlarms extends pulumi.ComponentResource {
  readonly alarmTopic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

  constructor(name: string, args: ExistingTrailAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:trail:ExistingTrailAlarms", name, {}, opts);
    const mgmt = { parent: this, provider: args.provider };
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "trailwatch alarms on the existing organization trail",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyJson(accountKeyPolicy(args.managementAccountId, args.region, ["alarms"])),
      },
      mgmt,
    );
    this.alarmTopic = alarmTopic(
      `${name}-alarms`,
      { keyId: key.id, accountId: args.managementAccountId, displayName: "trailwatch organization trail alarms", emails: args.alarmEmails },
      mgmt,
    );
    this.alarms.push(...trailAlarms(name, args.alarmRows, args.logGroupName, this.alarmTopic.arn, mgmt));
    this.registerOutputs({ alarmTopicArn: this.alarmTopic.arn });
  }
}
