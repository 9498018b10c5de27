/**
 * What `pulumi destroy` keeps on purpose: the records. Every S3 bucket the program declares holds logs or findings
 * (organization trail, its server access logs, Config history, GuardDuty findings), and the KMS keys that encrypt
 * them must outlive them: a key scheduled for deletion makes every object under it unreadable once the waiting
 * period ends (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html). The CloudTrail Lake event
 * data store (termination protection on) and its key likewise. Pulumi forgets these on destroy and leaves them in
 * AWS (`retainOnDelete`); docs/deploy.md, "Uninstall", says how to remove them when the retention period is over.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";

/** Logical names of the keys that encrypt retained buckets (components/orgTrail.ts, configAggregation.ts, guardDutyOrg.ts). */
export const BUCKET_KEYS = ["org-trail-key", "config-key", "guardduty-findings-key"] as const;
/** The key of the CloudTrail Lake event data store (and the trail's log group and alarm topic). */
export const LAKE_KEY = "org-trail-monitoring-key";

/** Retained resource types, whatever their name. */
const RETAINED_TYPES = new Set(["aws:s3/bucket:Bucket", "aws:cloudtrail/eventDataStore:EventDataStore"]);

export function retainRecords(config: StackConfig): pulumi.ResourceTransformation {
  const keys = new Set<string>(BUCKET_KEYS);
  if (config.orgTrail.lakeRetentionDays !== undefined && !config.orgTrail.existingLogGroup) keys.add(LAKE_KEY);
  return (args) => {
    const keep = RETAINED_TYPES.has(args.type) || (args.type === "aws:kms/key:Key" && keys.has(args.name));
    return keep ? { props: args.props, opts: pulumi.mergeOptions(args.opts, { retainOnDelete: true }) } : undefined;
  };
}
