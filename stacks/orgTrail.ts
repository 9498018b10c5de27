/** Wiring for the organization trail: management-account trail, log-archive bucket, CIS alarms from config. */
import type { StackConfig } from "./config";
import type { AccountProviders } from "./providers";
import type { Outputs } from "./program";
import { OrgTrail } from "../components/orgTrail";
import { ExistingTrailAlarms } from "../components/existingTrailAlarms";
import { alarmRows } from "../functions/trailAlarms";

export function wireOrgTrail(config: StackConfig, providers: AccountProviders): Outputs {
  const t = config.orgTrail;
  if (t.existingLogGroup) {
    // An organization trail exists (Control Tower, LZA): only the alarm rows, on its log group.
    const alarms = new ExistingTrailAlarms("org-trail-existing", {
      managementAccountId: config.accounts.management,
      region: config.homeRegion,
      logGroupName: t.existingLogGroup,
      alarmRows: alarmRows({ disabled: t.alarms.disabled, elevatedRoles: t.alarms.elevatedRoles, custom: t.alarms.custom }),
      alarmEmails: t.alarms.emails ?? config.alerts.emails,
      provider: providers.of("management"),
    });
    return { orgTrailLogGroup: t.existingLogGroup, orgTrailAlarmTopicArn: alarms.alarmTopic.arn };
  }
  const trail = new OrgTrail("org-trail", {
    organizationId: config.organizationId,
    managementAccountId: config.accounts.management,
    logArchiveAccountId: config.accounts.logArchive,
    delegatedAdministratorAccountId: t.administrator === "delegated" ? config.accounts.security : undefined,
    region: config.homeRegion,
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
    alarmRows: alarmRows({
      disabled: t.alarms.disabled,
      elevatedRoles: t.alarms.elevatedRoles,
      custom: t.alarms.custom,
    }),
    alarmEmails: t.alarms.emails ?? config.alerts.emails,
    providers: { management: providers.of("management"), logArchive: providers.of("logArchive") },
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
