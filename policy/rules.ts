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
} as const;

/** The marker input of components/stackSetsAccess.ts (repeated: rules import nothing from the program). */
export const ORGANIZATIONS_ACCESS_MARKER = "cloudformation-stacksets-organizations-access";
/** Tag components/lambda.ts puts on functions that print embedded metric format lines. */
export const EMF_TAG = "trailwatch:emf";

const functionOf = (ix: Index, r: PlanResource) => ix.deps(r, T.fn)[0];

// ---- Lambda function URLs -------------------------------------------------------------------------------------

export const functionUrlPublicAccess: DeployRule = {
  name: "function-url-auth-none-resource-policy",
  description:
    "A function URL with auth type NONE answers 403 unless the function's resource policy grants principal * both " +
    "lambda:InvokeFunctionUrl (FunctionUrlAuthType NONE) and lambda:InvokeFunction (InvokedViaFunctionUrl true).",
  awsDoc: "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",
  check(resources) {
    const ix = new Index(resources);
    const out: Violation[] = [];
    for (const url of ix.ofType(T.url)) {
      if (url.props.authorizationType !== "NONE") continue;
      const fn = functionOf(ix, url);
      if (!fn) {
        out.push({ urn: url.urn, message: `${url.name}: cannot tell which function this URL serves` });
        continue;
      }
      const perms = ix.dependents(fn, T.permission);
      const hasUrl = perms.some((p) => p.props.action === "lambda:InvokeFunctionUrl" && p.props.principal === "*" && p.props.functionUrlAuthType === "NONE");
      const hasInvoke = perms.some(
        (p) => p.props.action === "lambda:InvokeFunction" && p.props.principal === "*" && p.props.invokedViaFunctionUrl === true,
      );
      if (!hasUrl) out.push({ urn: url.urn, message: `${url.name}: no permission for principal * to lambda:InvokeFunctionUrl with FunctionUrlAuthType NONE on ${fn.name}` });
      if (!hasInvoke) out.push({ urn: url.urn, message: `${url.name}: no permission for principal * to lambda:InvokeFunction with InvokedViaFunctionUrl true on ${fn.name}` });
    }
    return out;
  },
};

export const publicFunctionUrlGuarded: DeployRule = {
  name: "public-function-url-reserved-concurrency-and-alarm",
  description:
    "A function behind an unauthenticated URL has reserved concurrency (a flood cannot take the account's shared " +
    "concurrency from the other functions) and an alarm on its Errors and Throttles.",
  awsDoc: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
  check(resources) {
    const ix = new Index(resources);
    const out: Violation[] = [];
    for (const url of ix.ofType(T.url)) {
      if (url.props.authorizationType !== "NONE") continue;
      const fn = functionOf(ix, url);
      if (!fn) continue;
      const reserved = fn.props.reservedConcurrentExecutions;
      if (!(typeof reserved === "number" && reserved > 0)) out.push({ urn: fn.urn, message: `${fn.name}: public URL but no reserved concurrency (found ${reserved})` });
      const metrics = new Set(
        ix
          .dependents(fn, T.alarm)
          .flatMap((a) => [a.props.metricName, ...list(a.props.metricQueries).map((q: any) => q?.metric?.metricName)])
          .filter(Boolean),
      );
      for (const m of ["Errors", "Throttles"])
        if (!metrics.has(m)) out.push({ urn: fn.urn, message: `${fn.name}: public URL but no alarm on its ${m} metric` });
    }
    return out;
  },
};

// ---- StackSets ------------------------------------------------------------------------------------------------

export const stackSetsOrganizationsAccess: DeployRule = {
  name: "service-managed-stacksets-wait-for-organizations-access",
  description:
    "A SERVICE_MANAGED StackSet can only be created once CloudFormation's trusted access with AWS Organizations is " +
    "activated (ActivateOrganizationsAccess): every such StackSet depends on the activation.",
  awsDoc: "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ActivateOrganizationsAccess.html",
  check(resources) {
    const ix = new Index(resources);
    return ix
      .ofType(T.stackSet)
      .filter((s) => s.props.permissionModel === "SERVICE_MANAGED")
      .filter((s) => !ix.deps(s, T.dynamic).some((d) => d.props.access === ORGANIZATIONS_ACCESS_MARKER))
      .map((s) => ({ urn: s.urn, message: `${s.name}: SERVICE_MANAGED StackSet does not depend on CloudFormation's organizations access activation` }));
  },
};

// ---- Embedded metric format -----------------------------------------------------------------------------------

/** The text of a function's handler module when the archive is at hand (CrossGuard: an AssetArchive of strings). */
async function handlerText(code: any): Promise<string | undefined> {
  const assets = await code?.assets;
  const entry = assets?.["__index.js"];
  const text = await entry?.text;
  return typeof text === "string" ? text : undefined;
}

export const emfRawUnderText: DeployRule = {
  name: "emf-lines-raw-under-text-log-format",
  description:
    "CloudWatch extracts metrics only from log events that are EMF JSON objects; Lambda's JSON log format wraps " +
    "console output in {\"message\": ...}. A function that emits EMF uses the Text log format (and writes the raw line).",
  awsDoc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html",
  async check(resources) {
    const out: Violation[] = [];
    for (const fn of resources.filter((r) => r.type === T.fn)) {
      const tagged = fn.props.tags?.[EMF_TAG] === "true";
      const emits = tagged || /CloudWatchMetrics/.test((await handlerText(fn.props.code)) ?? "");
      if (!emits) continue;
      const format = fn.props.loggingConfig?.logFormat ?? "Text";
      if (format !== "Text") out.push({ urn: fn.urn, message: `${fn.name}: emits embedded metric format lines but logs as ${format}: CloudWatch never sees the metric` });
      if (!tagged) out.push({ urn: fn.urn, message: `${fn.name}: emits embedded metric format lines without the ${EMF_TAG} tag (InlineFunction emitsMetrics)` });
    }
    return out;
  },
};

// ---- The central bus ------------------------------------------------------------------------------------------

const isPublicPrincipal = (p: any) => p === "*" || (p && typeof p === "object" && list(p.AWS).includes("*"));
const conditionKeys = (c: any): string[] => Object.values(c ?? {}).flatMap((byKey: any) => Object.keys(byKey ?? {}));

export const busPutEventsForwardersOnly: DeployRule = {
  name: "cross-account-bus-put-events-named-principals",
  description:
    "A bus policy that lets principal * put events names who may: the organization (aws:PrincipalOrgID) and the " +
    "sending roles (aws:PrincipalArn). Otherwise any principal of any member account can inject events.",
  awsDoc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html",
  check(resources) {
    const out: Violation[] = [];
    for (const bp of resources.filter((r) => r.type === T.busPolicy)) {
      for (const st of statements(bp.props.policy)) {
        if (st.Effect !== "Allow" || !isPublicPrincipal(st.Principal)) continue;
        if (!list(st.Action).some((a: string) => a === "events:PutEvents" || a === "events:*" || a === "*")) continue;
        const keys = conditionKeys(st.Condition);
        for (const k of ["aws:PrincipalOrgID", "aws:PrincipalArn"])
          if (!keys.includes(k)) out.push({ urn: bp.urn, message: `${bp.name}: statement ${st.Sid ?? "(no Sid)"} lets principal * put events without a ${k} condition` });
      }
    }
    return out;
  },
};

/** A pattern's `source` values are all AWS sources, which only AWS can emit. */
const awsOnlySources = (source: unknown[]) =>
  source.length > 0 && source.every((v: any) => (typeof v === "string" && v.startsWith("aws.")) || (v && typeof v === "object" && typeof v.prefix === "string" && v.prefix.startsWith("aws.")));

export const busRulesMatchSource: DeployRule = {
  name: "cross-account-bus-rules-match-source",
  description:
    "Rules on a bus other accounts put events on match `source`: an AWS source (aws.*), which PutEvents callers " +
    "cannot use, or another source pinned to the sending `account`, which EventBridge sets itself.",
  awsDoc: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html",
  check(resources) {
    const ix = new Index(resources);
    const shared = new Set(ix.ofType(T.busPolicy).flatMap((bp) => ix.deps(bp, T.bus).map((b) => b.urn)));
    const out: Violation[] = [];
    for (const rule of ix.ofType(T.rule)) {
      if (!rule.props.eventPattern || !ix.deps(rule, T.bus).some((b) => shared.has(b.urn))) continue;
      const pattern = doc(rule.props.eventPattern);
      if (!pattern) continue;
      const source = list(pattern.source);
      if (source.length === 0) out.push({ urn: rule.urn, message: `${rule.name}: pattern on a cross-account bus does not match source` });
      else if (!awsOnlySources(source) && list(pattern.account).length === 0)
        out.push({ urn: rule.urn, message: `${rule.name}: pattern matches non-AWS source ${JSON.stringify(source)} from any account` });
    }
    return out;
  },
};

// ---- Organizations --------------------------------------------------------------------------------------------

/** FullAWSAccess as a resource in a Deny statement (either ARN form). */
const coversFullAccess = (resource: unknown) => list(resource as string[]).some((r) => r === "*" || /p-FullAWSAccess$/.test(r));

export const detachNeverFullAwsAccess: DeployRule = {
  name: "scp-detach-denies-full-aws-access",
  description:
    "A role that may detach SCPs is denied detaching FullAWSAccess: without it (and no other Allow SCP) an OU or " +
    "account is left with every action denied.",
  awsDoc: "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_strategies.html",
  check(resources) {
    const out: Violation[] = [];
    for (const rp of resources.filter((r) => r.type === T.rolePolicy)) {
      const sts = statements(rp.props.policy);
      const detaches = sts.some((st) => st.Effect === "Allow" && list(st.Action).some((a: string) => /^(organizations:(DetachPolicy|\*)|\*)$/.test(a)));
      if (!detaches) continue;
      const denied = sts.some((st) => st.Effect === "Deny" && list(st.Action).some((a: string) => /^(organizations:(DetachPolicy|\*)|\*)$/.test(a)) && coversFullAccess(st.Resource));
      if (!denied) out.push({ urn: rp.urn, message: `${rp.name}: may detach SCPs but is not denied detaching p-FullAWSAccess` });
    }
    return out;
  },
};

export const rules: DeployRule[] = [
  functionUrlPublicAccess,
  publicFunctionUrlGuarded,
  stackSetsOrganizationsAccess,
  emfRawUnderText,
  busPutEventsForwardersOnly,
  busRulesMatchSource,
  detachNeverFullAwsAccess,
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
