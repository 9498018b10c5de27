/**
 * The CloudTrail record and EventBridge envelope shapes shared by every function and tool.
 *
 * Record fields: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * Envelope: https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html
 */

export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: { type?: string; principalId?: string; arn?: string; accountId?: string; userName?: string };
    attributes?: { creationDate?: string; mfaAuthenticated?: string };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A CloudTrail record as delivered to S3 or in an EventBridge event's `detail`. Loose on purpose: records vary. */
export interface CloudTrailRecord {
  eventVersion?: string;
  eventTime?: string;
  eventSource?: string;
  eventName?: string;
  eventID?: string;
  eventType?: string;
  eventCategory?: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  managementEvent?: boolean;
  recipientAccountId?: string;
  userIdentity?: UserIdentity;
  requestParameters?: Record<string, any> | null;
  responseElements?: Record<string, any> | null;
  resources?: Array<{ ARN?: string; accountId?: string; type?: string }>;
  [key: string]: unknown;
}

/** An EventBridge event. For CloudTrail events `detail` is the record. */
export interface EventBridgeEvent<D = CloudTrailRecord> {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: D;
}

/** The EventBridge `source` for a CloudTrail event source: `ec2.amazonaws.com` -> `aws.ec2`. */
export function eventBridgeSource(eventSource: string | undefined): string {
  const service = (eventSource ?? "").replace(/\.amazonaws\.com$/, "");
  return `aws.${service}`;
}

/** The EventBridge `detail-type` CloudTrail uses for a record's eventType. */
export function detailTypeOf(record: CloudTrailRecord): string {
  switch (record.eventType) {
    case "AwsConsoleSignIn":
      return "AWS Console Sign In via CloudTrail";
    case "AwsServiceEvent":
      return "AWS Service Event via CloudTrail";
    case "AwsConsoleAction":
      return "AWS Console Action via CloudTrail";
    // Network activity events (VPC endpoint calls, e.g. a VpceAccessDenied):
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
    case "AwsVpceEvent":
      return "AWS Network Activity Event via CloudTrail";
    default:
      return "AWS API Call via CloudTrail";
  }
}

/** Wrap a CloudTrail record the way EventBridge delivers it, so offline tools route with the deployed patterns. */
export function toEnvelope(record: CloudTrailRecord): EventBridgeEvent {
  return {
    version: "0",
    id: record.eventID ?? "",
    "detail-type": detailTypeOf(record),
    source: eventBridgeSource(record.eventSource),
    account: record.recipientAccountId ?? record.userIdentity?.accountId ?? "",
    time: record.eventTime ?? "",
    region: record.awsRegion ?? "",
    resources: [],
    detail: record,
  };
}

/** True when `value` looks like an EventBridge envelope around a CloudTrail record. */
export function isEnvelope(value: unknown): value is EventBridgeEvent {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as any)["detail-type"] === "string" &&
    typeof (value as any).detail === "object" &&
    (value as any).detail !== null
  );
}

/**
 * The principal a finding is about: the role (sessionIssuer.arn, path kept) for an assumed role,
 * else userIdentity.arn. DESIGN.md fixes this for `principalArn`.
 */
export function principalArnOf(record: CloudTrailRecord): string | null {
  const id = record.userIdentity;
  if (!id) return null;
  if (id.type === "AssumedRole") {
    const issuer = id.sessionContext?.sessionIssuer?.arn;
    if (issuer) return issuer;
    // No sessionIssuer (trimmed records): the role from the assumed-role ARN, path unknown.
    const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(id.arn ?? "");
    if (m) return `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
  }
  return id.arn ?? null;
}

/** The session name of an assumed-role caller (the last segment of its assumed-role ARN), else null. */
export function sessionNameOf(record: CloudTrailRecord): string | null {
  const arn = record.userIdentity?.arn;
  if (record.userIdentity?.type !== "AssumedRole" || !arn) return null;
  const parts = arn.split("/");
  return parts.length >= 3 ? parts[parts.length - 1] : null;
}

/** The account the event happened in: `recipientAccountId`, never the caller's own account. */
export function accountOf(record: CloudTrailRecord): string | null {
  return record.recipientAccountId ?? null;
}

/** The ARN partition of a region. */
export function partitionOf(region: string | null | undefined): string {
  if (region?.startsWith("cn-")) return "aws-cn";
  if (region?.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
