/**
 * Forwarders: rules on every account's and region's default bus that send the trailwatch streams to the central
 * bus. Two ways to deploy the same definition (components/forwarderTemplate.ts):
 * - `OrganizationForwarders`: one SERVICE_MANAGED StackSet with auto-deployment to OUs / the root, all regions;
 *   its size does not grow with the number of accounts;
 * - `MemberForwarder`: Pulumi resources in one account through explicit providers, for the management account
 *   (StackSets never deploy there) and for direct mode.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy, policyJson, serviceMay } from "./iam";
import { organizationStackSet } from "./org";
import type { OrgContext } from "./org";
import { transformed, type Transform } from "./transform";
import { forwardedStreams, forwarderTemplate, FORWARDER_ROLE_PREFIX, HEARTBEAT_SCHEDULE, STREAMS_PARAMETER, TARGET_RETRY } from "./forwarderTemplate";
import { HEARTBEAT_RULE_NAME } from "../functions/patterns";

/** Regions must include us-east-1: IAM and Organizations events exist only there. */
function requireUsEast1(component: string, regions: readonly string[]): void {
  if (!regions.includes("us-east-1")) throw new Error(`${component}: regions must include us-east-1 (IAM and Organizations events exist only there), found ${JSON.stringify(regions)}`);
}

export interface OrganizationForwardersArgs {
  /**
   * The organization: the StackSet goes to `org.memberTargets` (new accounts under them get forwarders automatically)
   * with `org.stackSetPreferences`, from the management account (`org.provider("management")` unless the options give
   * a provider).
   */
  readonly org: OrgContext;
  /** The central bus forwarders put events on. */
  readonly centralBusArn: pulumi.Input<string>;
  /** Regions to deploy every stream to; us-east-1 must be among them (IAM and Organizations events exist only there). */
  readonly regions: readonly string[];
  /** Also forward write calls for the change feed (features.changeFeed). @default false */
  readonly changes?: boolean;
  /** Regions (outside `regions`) that get the deny stream and the heartbeat only (`forwarder.denyRegions: all`). @default [] */
  readonly denyOnlyRegions?: readonly string[];
  /** Customize the StackSet and its instances (components/transform.ts). */
  readonly transform?: { readonly stackSet?: Transform<aws.cloudformation.StackSetArgs>; readonly instances?: Transform<aws.cloudformation.StackInstancesArgs> };
}

export class OrganizationForwarders extends pulumi.ComponentResource {
  readonly stackSet: aws.cloudformation.StackSet;
  /** The stack instances of every member account and forwarder region. */
  readonly instances: aws.cloudformation.StackInstances;

  constructor(name: string, args: OrganizationForwardersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:backbone:OrganizationForwarders", name, {}, { provider: args.org.provider("management"), ...opts });
    requireUsEast1("OrganizationForwarders", args.regions);
    const denyOnly = (args.denyOnlyRegions ?? []).filter((r) => !args.regions.includes(r));
    const set = organizationStackSet(
      name,
      {
        stackSetName: "forwarders",
        description: "trailwatch: forward CloudTrail streams and heartbeats to the central bus",
        template: forwarderTemplate({ changes: args.changes ?? false }),
        parameters: { CentralBusArn: args.centralBusArn },
        targets: args.org.memberTargets,
        regions: args.regions,
        preferences: args.org.stackSetPreferences,
        // Same StackSet, the Streams parameter overridden: its other rules carry the AllStreams condition.
        extraInstances: denyOnly.length > 0 ? [{ name: "deny-instances", regions: denyOnly, parameterOverrides: { [STREAMS_PARAMETER]: "denies" } }] : [],
        transform: args.transform,
      },
      { parent: this },
    );
    this.stackSet = set.stackSet;
    this.instances = set.instances;
    this.registerOutputs({ stackSetName: this.stackSet.name });
  }
}

export interface MemberForwarderArgs {
  /** The organization: the provider for this account (`org.providerForAccount`). */
  readonly org: OrgContext;
  /** The account the forwarder goes to. */
  readonly accountId: string;
  /** How the account's providers are labelled (`aws-<label>-<region>`). @default accountId */
  readonly accountLabel?: string;
  /** The central bus forwarders put events on. */
  readonly centralBusArn: pulumi.Input<string>;
  /** Regions to deploy every stream to; us-east-1 must be among them. */
  readonly regions: readonly string[];
  /** Also forward write calls for the change feed (features.changeFeed). @default false */
  readonly changes?: boolean;
  /** Regions (outside `regions`) that get the deny stream and the heartbeat only. @default [] */
  readonly denyOnlyRegions?: readonly string[];
  /** Customize the children (components/transform.ts); the callback gets each child's name (`<name>-<region>-<stream>`). */
  readonly transform?: {
    readonly role?: Transform<aws.iam.RoleArgs>;
    readonly queue?: Transform<aws.sqs.QueueArgs>;
    readonly rule?: Transform<aws.cloudwatch.EventRuleArgs>;
    readonly target?: Transform<aws.cloudwatch.EventTargetArgs>;
  };
}

export class MemberForwarder extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  /** Every forwarding and heartbeat rule, by child name. */
  readonly rules: Record<string, aws.cloudwatch.EventRule> = {};

  constructor(name: string, args: MemberForwarderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:backbone:MemberForwarder", name, {}, opts);
    requireUsEast1("MemberForwarder", args.regions);
    const t = args.transform ?? {};
    const providerFor = (region: string) => args.org.providerForAccount(args.accountId, region, args.accountLabel ?? args.accountId);
    const global = { parent: this, provider: providerFor("us-east-1") };
    this.role = new aws.iam.Role(
      ...transformed(
        t.role,
        `${name}-role`,
        {
          name: FORWARDER_ROLE_PREFIX,
          description: "EventBridge puts forwarded CloudTrail events on the trailwatch central bus",
          assumeRolePolicy: policyJson(
            policy(serviceMay(undefined, "events.amazonaws.com", "sts:AssumeRole", undefined, { StringEquals: { "aws:SourceAccount": args.accountId } })),
          ),
        },
        global,
      ),
    );
    new aws.iam.RolePolicy(
      `${name}-put-events`,
      { role: this.role.id, policy: policyJson(policy({ Effect: "Allow", Action: "events:PutEvents", Resource: args.centralBusArn })) },
      global,
    );
    const denyOnly = new Set((args.denyOnlyRegions ?? []).filter((r) => !args.regions.includes(r)));
    for (const region of [...args.regions, ...denyOnly].sort()) {
      const p = { parent: this, provider: providerFor(region) };
      const dlq = new aws.sqs.Queue(...transformed(t.queue, `${name}-${region}-dlq`, { name: "trailwatch-forwarder-dlq", sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 }, p));
      new aws.sqs.QueuePolicy(
        `${name}-${region}-dlq-policy`,
        {
          queueUrl: dlq.url,
          policy: policyJson(
            policy(serviceMay(undefined, "events.amazonaws.com", "sqs:SendMessage", dlq.arn, { StringEquals: { "aws:SourceAccount": args.accountId } })),
          ),
        },
        p,
      );
      const forward = (id: string, ruleArgs: aws.cloudwatch.EventRuleArgs) => {
        const rule = new aws.cloudwatch.EventRule(...transformed(t.rule, `${name}-${region}-${id}`, ruleArgs, p));
        this.rules[`${name}-${region}-${id}`] = rule;
        new aws.cloudwatch.EventTarget(
          ...transformed(
            t.target,
            `${name}-${region}-${id}-target`,
            { rule: rule.name, arn: args.centralBusArn, roleArn: this.role.arn, deadLetterConfig: { arn: dlq.arn }, retryPolicy: TARGET_RETRY },
            p,
          ),
        );
      };
      for (const s of forwardedStreams({ changes: args.changes ?? false }).filter((x) => x.denyOnly || !denyOnly.has(region)))
        forward(s.ruleName.replace(/^trailwatch-/, ""), { name: s.ruleName, description: s.description, eventPattern: JSON.stringify(s.pattern), state: s.state });
      forward("heartbeat", { name: HEARTBEAT_RULE_NAME, description: "trailwatch forwarder heartbeat", scheduleExpression: HEARTBEAT_SCHEDULE, state: "ENABLED" });
    }
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
