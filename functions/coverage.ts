/**
 * Whether the deployed configuration would have seen a CloudTrail record at all: replay reads every record of a log,
 * but EventBridge only gets what the organization trail logs, and a rule only sees its own region. Pure: replay and
 * tests use it.
 * - Data events (S3 object reads and writes, Lambda invokes, ...) reach EventBridge only when the trail logs them:
 *   `orgTrail.dataEvents` (S3 objects, Lambda invokes; no other data events are selected).
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
 * - Network activity events (VPC endpoint denies, `VpceAccessDenied`) only with a network activity selector for their
 *   event source: `orgTrail.networkActivity`.
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-network-events-with-cloudtrail.html
 * - Regions: denies are forwarded from the deny regions (`forwarder.denyRegions`), the other streams from the
 *   forwarder regions. IAM, STS global and Organizations calls are recorded in us-east-1, always a forwarder region.
 */
import type { CloudTrailRecord } from "./cloudtrail";

export type UnseenReason = "data-event" | "network-activity-event" | "region-not-forwarded";
export const UNSEEN_REASONS: readonly UnseenReason[] = ["data-event", "network-activity-event", "region-not-forwarded"];

export interface DeployedCoverage {
  dataEvents: { s3Objects: boolean; lambdaInvokes: boolean };
  networkActivity: { eventSources: readonly string[]; deniesOnly: boolean };
  /** Regions the deny stream is forwarded from. */
  denyRegions: readonly string[];
  /** Regions the other streams are forwarded from; null when unknown (replay without a stack config). */
  otherRegions: readonly string[] | null;
}

/** Why the deployed config would not have seen this record's finding (`kind` of the finding), or null if it would. */
export function unseenBecause(record: CloudTrailRecord, kind: string, c: DeployedCoverage): UnseenReason | null {
  const r = record as CloudTrailRecord & { resources?: { type?: string }[] };
  if (r.eventCategory === "NetworkActivity" || r.eventType === "AwsVpceEvent") {
    const selected = c.networkActivity.eventSources.includes(r.eventSource ?? "");
    if (!selected || (c.networkActivity.deniesOnly && r.errorCode !== "VpceAccessDenied")) return "network-activity-event";
  } else if (r.eventCategory === "Data" || r.managementEvent === false) {
    const s3 = c.dataEvents.s3Objects && r.eventSource === "s3.amazonaws.com";
    const lambda = c.dataEvents.lambdaInvokes && r.eventSource === "lambda.amazonaws.com" && /^Invoke/.test(r.eventName ?? "");
    if (!s3 && !lambda) return "data-event";
  }
  const regions = kind === "deny" ? c.denyRegions : c.otherRegions;
  if (regions && r.awsRegion && !regions.includes(r.awsRegion)) return "region-not-forwarded";
  return null;
}
