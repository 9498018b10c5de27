/** Wiring for the organization trail: management-account trail, log-archive bucket, CIS alarms from config. */
import type { StackConfig } from "./config";
import { orgContext, type AccountProviders } from "./providers";
import type { Outputs } from "./program";
import { OrgTrail } from "../components/orgTrail";
import { ExistingTrailAlarms } from "../components/existingTrailAlarms";
import { alarmRows } from "../functions/trailAlarms";

export function wireOrgTrail(config: StackConfig, providers: AccountProviders): Outputs {
  const t = config.orgTrail;
  const org = orgContext(config, providers);
  const alarms = alarmRows({ disabled: t.alarms.disabled, elevatedRoles: t.alarms.elevatedRoles, custom: t.alarms.custom });
  const alarmEmails = t.alarms.emails ?? config.alerts.emails;
  if (t.existingLogGroup) {
    // An organization trail exists (Control Tower, LZA): only the alarm rows, on its log group.
    const existing = new ExistingTrailAlarms("org-trail-existing", { org, logGroupName: t.existingLogGroup, alarmRows: alarms, alarmEmails });
    return { orgTrailLogGroup: t.existingLogGroup, orgTrailAlarmTopicArn: existing.alarmTopic.arn };
  }
  const trail = new OrgTrail("org-trail", {
    org,
    delegatedAdministrator: t.administrator === "delegated",
    trailName: t.name,
    bucketExpirationDays: t.bucketExpirationDays,
    noncurrentVersionExpirationDays: t.noncurrentVersionExpirationDays,
    logRetentionDays: t.logRetentionDays,
    readerArns: t.readerArns,
    dataEvents: t.dataEvents,
    networkActivity: t.networkActivity,
    silenceMinutes: t.silenceMinutes,
    insights: t.insights,
    lakeRetentionDays: t.lakeRetentionDays,
    alarmRows: alarms,
    alarmEmails,
  });
  return {
    orgTrailArn: trail.trail.arn,
    orgTrailBucket: trail.bucket.id,
    orgTrailBucketArn: trail.bucket.arn,
    orgTrailLogGroup: trail.logGroup.name,
    orgTrailLogGroupArn: trail.logGroup.arn,
    orgTrailKeyArn: trail.trailKey.arn,
    orgTrailMonitoringKeyArn: trail.monitoringKey.arn,
    orgTrailAlarmTopicArn: trail.alarmTopic.arn,
    ...(trail.eventDataStore ? { orgTrailEventDataStoreArn: trail.eventDataStore.arn } : {}),
  };
}
