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

export const rules: DeployRule[] = [functionUrlPublicAccess, publicFunctionUrlGuarded, stackSetsOrganizationsAccess, emfRawUnderText];

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
