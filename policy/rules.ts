/**
 * trailwatch's deploy rules: the AWS rules the program relies on, each checked over the resources a deployment
 * declares, each naming the AWS page it comes from. One home for them: `policy/index.ts` runs them as a Pulumi
 * CrossGuard policy pack (`pulumi preview --policy-pack policy`), and `tests/policy.test.ts` runs the same rules
 * offline over `npm run plan`'s resources.json (prod and a variant with every optional feature on), and shows each
 * rule failing on a broken variant. This module must not construct a PolicyPack: its constructor starts the analyzer
 * server.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { Index, PlanResource, Violation, doc, fromPolicyResources, list, statements } from "./plan";

export interface DeployRule {
  /** Kebab-case, unique: the policy name CrossGuard shows. */
  name: string;
  description: string;
  /** The AWS documentation page the rule comes from. */
  awsDoc: string;
  check(resources: PlanResource[]): Violation[] | Promise<Violation[]>;
}

const T = {
  fn: "aws:lambda/function:Function",
  url: "aws:lambda/functionUrl:FunctionUrl",
  permission: "aws:lambda/permission:Permission",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  stackSet: "aws:cloudformation/stackSet:StackSet",
  dynamic: "pulumi-nodejs:dynamic:Resource",
  bus: "aws:cloudwatch/eventBus:EventBus",
  busPolicy: "aws:cloudwatch/eventBusPolicy:EventBusPolicy",
  rule: "aws:cloudwatch/eventRule:EventRule",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  role: "aws:iam/role:Role",
  key: "aws:kms/key:Key",
  trail: "aws:cloudtrail/trail:Trail",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  esm: "aws:lambda/eventSourceMapping:EventSourceMapping",
  channel: "aws:cfg/deliveryChannel:DeliveryChannel",
  recorder: "aws:cfg/recorder:Recorder",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  serviceAccess: "aws:organizations/awsServiceAccess:AwsServiceAccess",
} as const;

/** The marker input of components/stackSetsAccess.ts (repeated: rules import nothing from the program). */
export const ORGANIZATIONS_ACCESS_MARKER = "cloudformation-stacksets-organizations-access";
/** Tag components/lambda.ts puts on functions that print embedded metric format lines. */
export const EMF_TAG = "trailwatch:emf";

const functionOf = (ix: Index, r: PlanResource) => ix.deps(r, T.fn)[0];
/** Function URLs anyone may call (auth type NONE). */
const publicUrls = (ix: Index) => ix.ofType(T.url).filter((url) => url.props.authorizationType === "NONE");

/** Reports a violation on `r`; the message is prefixed with its name. */
type Report = (r: PlanResource, message: string) => void;

/** A rule from its description and the check over an index of the resources (the loop and the violation list are here). */
function deployRule(meta: Pick<DeployRule, "name" | "awsDoc">, description: string, find: (ix: Index, report: Report) => void | Promise<void>): DeployRule {
  return {
    ...meta,
    description,
    async check(resources) {
      const out: Violation[] = [];
      await find(new Index(resources), (r, message) => out.push({ urn: r.urn, message: `${r.name}: ${message}` }));
      return out;
    },
  };
}

// ---- Lambda function URLs -------------------------------------------------------------------------------------

export const functionUrlPublicAccess: DeployRule = deployRule(
  { name: "function-url-auth-none-resource-policy", awsDoc: "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html" },
  "A function URL with auth type NONE answers 403 unless the function's resource policy grants principal * both lambda:InvokeFunctionUrl (FunctionUrlAuthType NONE) and lambda:InvokeFunction (InvokedViaFunctionUrl true).",
  (ix, report) => {
    for (const url of publicUrls(ix)) {
      const fn = functionOf(ix, url);
      if (!fn) {
        report(url, `cannot tell which function this URL serves`);
        continue;
      }
      const perms = ix.dependents(fn, T.permission);
      const hasUrl = perms.some((p) => p.props.action === "lambda:InvokeFunctionUrl" && p.props.principal === "*" && p.props.functionUrlAuthType === "NONE");
      const hasInvoke = perms.some(
        (p) => p.props.action === "lambda:InvokeFunction" && p.props.principal === "*" && p.props.invokedViaFunctionUrl === true,
      );
      if (!hasUrl) report(url, `no permission for principal * to lambda:InvokeFunctionUrl with FunctionUrlAuthType NONE on ${fn.name}`);
      if (!hasInvoke) report(url, `no permission for principal * to lambda:InvokeFunction with InvokedViaFunctionUrl true on ${fn.name}`);
    }
  },
);

export const publicFunctionUrlGuarded: DeployRule = deployRule(
  { name: "public-function-url-reserved-concurrency-and-alarm", awsDoc: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html" },
  "A function behind an unauthenticated URL has reserved concurrency (a flood cannot take the account's shared concurrency from the other functions) and an alarm on its Errors and Throttles.",
  (ix, report) => {
    for (const fn of publicUrls(ix).map((url) => functionOf(ix, url))) {
      if (!fn) continue;
      const reserved = fn.props.reservedConcurrentExecutions;
      if (!(typeof reserved === "number" && reserved > 0)) report(fn, `public URL but no reserved concurrency (found ${reserved})`);
      const metrics = new Set(
        ix
          .dependents(fn, T.alarm)
          .flatMap((a) => [a.props.metricName, ...list(a.props.metricQueries).map((q: any) => q?.metric?.metricName)])
          .filter(Boolean),
      );
      for (const m of ["Errors", "Throttles"])
        if (!metrics.has(m)) report(fn, `public URL but no alarm on its ${m} metric`);
    }
  },
);

// ---- StackSets ------------------------------------------------------------------------------------------------

export const stackSetsOrganizationsAccess: DeployRule = deployRule(
  { name: "service-managed-stacksets-wait-for-organizations-access", awsDoc: "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ActivateOrganizationsAccess.html" },
  "A SERVICE_MANAGED StackSet can only be created once CloudFormation's trusted access with AWS Organizations is activated (ActivateOrganizationsAccess): every such StackSet depends on the activation.",
  (ix, report) => {
    for (const s of ix.ofType(T.stackSet))
      if (s.props.permissionModel === "SERVICE_MANAGED" && !ix.deps(s, T.dynamic).some((d) => d.props.access === ORGANIZATIONS_ACCESS_MARKER))
        report(s, "SERVICE_MANAGED StackSet does not depend on CloudFormation's organizations access activation");
  },
);

// ---- Embedded metric format -----------------------------------------------------------------------------------

/** The text of a function's handler module when the archive is at hand (CrossGuard: an AssetArchive of strings). */
async function handlerText(code: any): Promise<string | undefined> {
  const assets = await code?.assets;
  const entry = assets?.["__index.js"];
  const text = await entry?.text;
  return typeof text === "string" ? text : undefined;
}

export const emfRawUnderText: DeployRule = deployRule(
  { name: "emf-lines-raw-under-text-log-format", awsDoc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html" },
  "CloudWatch extracts metrics only from log events that are EMF JSON objects; Lambda's JSON log format wraps console output in {\"message\": ...}. A function that emits EMF uses the Text log format (and writes the raw line).",
  async (ix, report) => {
    for (const fn of ix.ofType(T.fn)) {
      const tagged = fn.props.tags?.[EMF_TAG] === "true";
      const emits = tagged || /CloudWatchMetrics/.test((await handlerText(fn.props.code)) ?? "");
      if (!emits) continue;
      const format = fn.props.loggingConfig?.logFormat ?? "Text";
      if (format !== "Text") report(fn, `emits embedded metric format lines but logs as ${format}: CloudWatch never sees the metric`);
      if (!tagged) report(fn, `emits embedded metric format lines without the ${EMF_TAG} tag (InlineFunction emitsMetrics)`);
    }
  },
);

// ---- The central bus ------------------------------------------------------------------------------------------

const isPublicPrincipal = (p: any) => p === "*" || (p && typeof p === "object" && list(p.AWS).includes("*"));
const conditionKeys = (c: any): string[] => Object.values(c ?? {}).flatMap((byKey: any) => Object.keys(byKey ?? {}));

export const busPutEventsForwardersOnly: DeployRule = deployRule(
  { name: "cross-account-bus-put-events-named-principals", awsDoc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html" },
  "A bus policy that lets principal * put events names who may: the organization (aws:PrincipalOrgID) and the sending roles (aws:PrincipalArn). Otherwise any principal of any member account can inject events.",
  (ix, report) => {
    for (const bp of ix.ofType(T.busPolicy)) {
      for (const st of statements(bp.props.policy)) {
        if (st.Effect !== "Allow" || !isPublicPrincipal(st.Principal)) continue;
        if (!list(st.Action).some((a: string) => a === "events:PutEvents" || a === "events:*" || a === "*")) continue;
        const keys = conditionKeys(st.Condition);
        for (const k of ["aws:PrincipalOrgID", "aws:PrincipalArn"])
          if (!keys.includes(k)) report(bp, `statement ${st.Sid ?? "(no Sid)"} lets principal * put events without a ${k} condition`);
      }
    }
  },
);

/** A pattern's `source` values are all AWS sources, which only AWS can emit. */
const awsOnlySources = (source: unknown[]) =>
  source.length > 0 && source.every((v: any) => (typeof v === "string" && v.startsWith("aws.")) || (v && typeof v === "object" && typeof v.prefix === "string" && v.prefix.startsWith("aws.")));

export const busRulesMatchSource: DeployRule = deployRule(
  { name: "cross-account-bus-rules-match-source", awsDoc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html" },
  "Rules on a bus other accounts put events on match `source`: an AWS source (aws.*), which PutEvents callers cannot use, or another source pinned to the sending `account`, which EventBridge sets itself.",
  (ix, report) => {
    const shared = new Set(ix.ofType(T.busPolicy).flatMap((bp) => ix.deps(bp, T.bus).map((b) => b.urn)));
    for (const rule of ix.ofType(T.rule)) {
      if (!rule.props.eventPattern || !ix.deps(rule, T.bus).some((b) => shared.has(b.urn))) continue;
      const pattern = doc(rule.props.eventPattern);
      if (!pattern) continue;
      const source = list(pattern.source);
      if (source.length === 0) report(rule, `pattern on a cross-account bus does not match source`);
      else if (!awsOnlySources(source) && list(pattern.account).length === 0)
        report(rule, `pattern matches non-AWS source ${JSON.stringify(source)} from any account`);
    }
  },
);

// ---- Organizations --------------------------------------------------------------------------------------------

/** FullAWSAccess as a resource in a Deny statement (either ARN form). */
const coversFullAccess = (resource: unknown) => list(resource as string[]).some((r) => r === "*" || /p-FullAWSAccess$/.test(r));

export const detachNeverFullAwsAccess: DeployRule = deployRule(
  { name: "scp-detach-denies-full-aws-access", awsDoc: "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_strategies.html" },
  "A role that may detach SCPs is denied detaching FullAWSAccess: without it (and no other Allow SCP) an OU or account is left with every action denied.",
  (ix, report) => {
    for (const rp of ix.ofType(T.rolePolicy)) {
      const sts = statements(rp.props.policy);
      const detaches = sts.some((st) => st.Effect === "Allow" && list(st.Action).some((a: string) => /^(organizations:(DetachPolicy|\*)|\*)$/.test(a)));
      if (!detaches) continue;
      const denied = sts.some((st) => st.Effect === "Deny" && list(st.Action).some((a: string) => /^(organizations:(DetachPolicy|\*)|\*)$/.test(a)) && coversFullAccess(st.Resource));
      if (!denied) report(rp, `may detach SCPs but is not denied detaching p-FullAWSAccess`);
    }
  },
);

// ---- KMS -------------------------------------------------------------------------------------------------------

/** Allow statements of a key policy for a service principal (by prefix: `logs.` matches logs.<region>.amazonaws.com). */
const serviceGrants = (key: PlanResource, service: string) =>
  statements(key.props.policy).filter(
    (st) => st.Effect === "Allow" && list(st.Principal?.Service).some((s: string) => s === service || s.startsWith(`${service.replace(/\.amazonaws\.com$/, "")}.`)),
  );
const grantsAction = (sts: any[], action: string) => sts.some((st) => list(st.Action).some((a: string) => a === action || a === "kms:*" || (a.endsWith("*") && action.startsWith(a.slice(0, -1)))));

export const cloudTrailKeyDecryptForBucketKey: DeployRule = deployRule(
  { name: "cloudtrail-key-decrypt-with-s3-bucket-key", awsDoc: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html" },
  "When the trail's bucket uses an S3 Bucket Key with the trail's KMS key, the key policy lets CloudTrail kms:Decrypt (scoped to the trail with aws:SourceArn); without it creating the trail with SSE-KMS fails.",
  (ix, report) => {
    for (const trail of ix.ofType(T.trail)) {
      for (const key of ix.deps(trail, T.key)) {
        const bucketKey = ix.dependents(key, T.sse).some((c) => list(c.props.rules).some((r: any) => r?.bucketKeyEnabled === true));
        if (!bucketKey) continue;
        const decrypt = serviceGrants(key, "cloudtrail.amazonaws.com").filter((st) => grantsAction([st], "kms:Decrypt"));
        if (decrypt.length === 0) report(key, `trail ${trail.name} writes to a bucket with an S3 Bucket Key but CloudTrail may not kms:Decrypt`);
        else if (!decrypt.every((st) => conditionKeys(st.Condition).includes("aws:SourceArn")))
          report(key, `CloudTrail's kms:Decrypt is not scoped with aws:SourceArn`);
      }
    }
  },
);

/** The services that write with a customer managed key, by what they write to. */
export const keyUsersWrite: DeployRule = deployRule(
  { name: "kms-key-admits-the-services-that-write-with-it", awsDoc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-troubleshooting.html#eb-sqs-encrypted" },
  "A customer managed key lets in each service that encrypts with it: CloudWatch Logs for an encrypted log group, EventBridge for an encrypted queue or topic it delivers to, CloudWatch for an encrypted topic alarms publish to. Otherwise the writes fail (EventBridge and alarms drop them silently).",
  (ix, report) => {
    const need = (r: PlanResource, service: string, action: string, why: string) => {
      for (const key of ix.deps(r, T.key)) {
        if (!grantsAction(serviceGrants(key, service), action)) report(key, `${why} ${r.name} but ${service} may not ${action}`);
      }
    };
    for (const g of ix.ofType(T.logGroup)) if (g.props.kmsKeyId) need(g, "logs.amazonaws.com", "kms:GenerateDataKey", "encrypts log group");
    const targeted = new Set(ix.ofType(T.target).flatMap((t) => t.dependsOn));
    for (const q of ix.ofType(T.queue)) if (q.props.kmsMasterKeyId && targeted.has(q.urn)) need(q, "events.amazonaws.com", "kms:GenerateDataKey", "encrypts queue EventBridge delivers to");
    const alarmed = new Set(ix.ofType(T.alarm).flatMap((a) => a.dependsOn));
    for (const t of ix.ofType(T.topic)) {
      if (!t.props.kmsMasterKeyId) continue;
      if (targeted.has(t.urn)) need(t, "events.amazonaws.com", "kms:GenerateDataKey", "encrypts topic EventBridge delivers to");
      if (alarmed.has(t.urn)) need(t, "cloudwatch.amazonaws.com", "kms:GenerateDataKey", "encrypts topic alarms publish to");
    }
  },
);

// ---- Ordering the provider would otherwise leave to retries ---------------------------------------------------

/** The role policies of the role `r` runs as (a function's or a recorder's role). */
function rolePoliciesOf(ix: Index, r: PlanResource): PlanResource[] {
  return ix.deps(r, T.role).flatMap((role) => ix.dependents(role, T.rolePolicy));
}

export const waitForRolePolicies: DeployRule = deployRule(
  { name: "event-source-mappings-and-delivery-channels-wait-for-role-policies", awsDoc: "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions" },
  "Lambda checks an event source mapping's function role may read the source, and Config checks a delivery channel's recorder role may write the bucket, when they are created: each waits for those role policies.",
  (ix, report) => {
    const check = (r: PlanResource, via: PlanResource[]) => {
      const closure = ix.closure(r);
      for (const v of via)
        for (const p of rolePoliciesOf(ix, v)) if (!closure.has(p.urn)) report(r, `does not wait for role policy ${p.name}`);
    };
    for (const esm of ix.ofType(T.esm)) check(esm, ix.deps(esm, T.fn));
    for (const ch of ix.ofType(T.channel)) check(ch, ix.deps(ch, T.recorder));
  },
);

// ---- StackSet templates ---------------------------------------------------------------------------------------

/** Every string and Fn::Sub template in a CloudFormation value, with the resources it Refs / GetAtts. */
function walk(v: any, visit: (s: string) => void, refs: Set<string>): void {
  if (typeof v === "string") return visit(v);
  if (Array.isArray(v)) return v.forEach((x) => walk(x, visit, refs));
  if (v && typeof v === "object") {
    if (typeof v.Ref === "string") refs.add(v.Ref);
    if (Array.isArray(v["Fn::GetAtt"])) refs.add(v["Fn::GetAtt"][0]);
    if (typeof v["Fn::Sub"] === "string") for (const m of v["Fn::Sub"].matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)) refs.add(m[1]);
    for (const x of Object.values(v)) walk(x, visit, refs);
  }
}

export const templateRolesReferenced: DeployRule = deployRule(
  { name: "stackset-template-resources-reference-their-roles", awsDoc: "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html" },
  "In a StackSet template, a resource that uses a role the template creates references it (Ref / Fn::GetAtt), unconditionally, so CloudFormation creates it first in that same stack: stacks of one StackSet (regions, new accounts by auto-deployment) run in no guaranteed order, so one stack cannot rely on another's role.",
  (ix, report) => {
    for (const set of ix.ofType(T.stackSet)) {
      const t = doc(set.props.templateBody);
      if (!t?.Resources) continue;
      const roles = Object.entries<any>(t.Resources).filter(([, r]) => r.Type === "AWS::IAM::Role");
      const roleName = (r: any) => {
        const n = r.Properties?.RoleName;
        return typeof n === "string" ? n : typeof n?.["Fn::Sub"] === "string" ? n["Fn::Sub"] : undefined;
      };
      for (const [id, res] of Object.entries<any>(t.Resources)) {
        if (res.Type === "AWS::IAM::Role") continue;
        const strings: string[] = [];
        const refs = new Set<string>(list(res.DependsOn));
        walk(res.Properties, (s) => strings.push(s), refs);
        for (const [roleId, role] of roles) {
          const name = roleName(role);
          const byName = name && strings.some((s) => s.includes(`:role/${name}`));
          if (byName && !refs.has(roleId)) report(set, `${id} names role ${roleId} by its ARN instead of referencing it`);
          if (refs.has(roleId) && role.Condition && role.Condition !== res.Condition)
            report(set, `${id} uses role ${roleId}, which only some stacks create (Condition ${role.Condition})`);
        }
      }
    }
  },
);

// ---- Delivery and names ---------------------------------------------------------------------------------------

export const eventTargetsHaveDlq: DeployRule = deployRule(
  { name: "event-pattern-targets-have-a-dead-letter-queue", awsDoc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html" },
  "Every target of an event-pattern rule has a dead-letter queue: without one, events EventBridge cannot deliver after its retries are dropped without a trace.",
  (ix, report) => {
    for (const target of ix.ofType(T.target)) {
      const rule = ix.deps(target, T.rule)[0];
      if (!rule?.props.eventPattern) continue;
      if (!target.props.deadLetterConfig?.arn) report(target, `target of event-pattern rule ${rule.name} has no dead-letter queue`);
    }
  },
);

/** Names AWS would refuse at create time (the provider's checks run only in a real preview). */
const NAME_RULES: { type: string; field: string; max: number; pattern: RegExp; doc: string }[] = [
  { type: T.fn, field: "name", max: 64, pattern: /^[a-zA-Z0-9-_]+$/, doc: "Lambda function name" },
  { type: T.role, field: "name", max: 64, pattern: /^[\w+=,.@-]+$/, doc: "IAM role name" },
  { type: T.rule, field: "name", max: 64, pattern: /^[.\-_A-Za-z0-9]+$/, doc: "EventBridge rule name" },
  { type: T.stackSet, field: "name", max: 128, pattern: /^[a-zA-Z][-a-zA-Z0-9]*$/, doc: "StackSet name" },
  { type: T.queue, field: "name", max: 80, pattern: /^[a-zA-Z0-9_-]+(\.fifo)?$/, doc: "SQS queue name" },
  { type: T.logGroup, field: "name", max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/, doc: "log group name" },
  { type: T.bus, field: "name", max: 256, pattern: /^[/.\-_A-Za-z0-9]+$/, doc: "event bus name" },
];

export const namesAwsAccepts: DeployRule = deployRule(
  { name: "resource-names-within-aws-limits", awsDoc: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html" },
  "Explicit names fit AWS's length limits and character sets (function 64, role 64, rule 64, StackSet 128, queue 80, ...).",
  (ix, report) => {
    for (const nr of NAME_RULES)
      for (const r of ix.ofType(nr.type)) {
        const n = r.props[nr.field];
        if (typeof n !== "string") continue;
        if (n.length > nr.max) report(r, `${nr.doc} "${n}" is ${n.length} characters, more than ${nr.max}`);
        else if (!nr.pattern.test(n)) report(r, `${nr.doc} "${n}" has characters AWS refuses`);
      }
  },
);

// ---- Organizations: trusted access before delegation ----------------------------------------------------------

const DELEGATIONS: { type: string; principal: (r: PlanResource) => string | undefined }[] = [
  { type: "aws:organizations/delegatedAdministrator:DelegatedAdministrator", principal: (r) => r.props.servicePrincipal },
  { type: "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount", principal: () => "cloudtrail.amazonaws.com" },
  { type: "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount", principal: () => "guardduty.amazonaws.com" },
];

export const trustedAccessBeforeDelegation: DeployRule = deployRule(
  { name: "trusted-access-before-delegated-administrator", awsDoc: "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services.html" },
  "A delegated administrator can only be registered for a service whose trusted access with AWS Organizations is enabled: the registration waits for that service's AwsServiceAccess when the program enables it.",
  (ix, report) => {
    const access = ix.ofType(T.serviceAccess);
    for (const d of DELEGATIONS)
      for (const r of ix.ofType(d.type)) {
        const principal = d.principal(r);
        const enabling = access.filter((a) => a.props.servicePrincipal === principal);
        if (enabling.length === 0) continue; // enabled outside this program (GuardDuty enables its own)
        const closure = ix.closure(r);
        if (!enabling.some((a) => closure.has(a.urn))) report(r, `registers a delegated administrator for ${principal} without waiting for its trusted access`);
      }
  },
);

export const rules: DeployRule[] = [
  functionUrlPublicAccess,
  publicFunctionUrlGuarded,
  stackSetsOrganizationsAccess,
  emfRawUnderText,
  busPutEventsForwardersOnly,
  busRulesMatchSource,
  detachNeverFullAwsAccess,
  cloudTrailKeyDecryptForBucketKey,
  keyUsersWrite,
  waitForRolePolicies,
  templateRolesReferenced,
  eventTargetsHaveDlq,
  namesAwsAccepts,
  trustedAccessBeforeDelegation,
];

/** The rules as CrossGuard stack policies (mandatory: a violation stops `pulumi up`). */
export function asPolicies(ruleSet: DeployRule[] = rules): StackValidationPolicy[] {
  return ruleSet.map((rule) => ({
    name: rule.name,
    description: `${rule.description} (${rule.awsDoc})`,
    enforcementLevel: "mandatory",
    validateStack: async (args, reportViolation) => {
      for (const v of await rule.check(fromPolicyResources(args.resources))) reportViolation(`${v.message} -- ${rule.awsDoc}`, v.urn);
    },
  }));
}

export { doc, statements, list };
