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
import { policy, policyJson } from "./iam";
import { forwardedStreams, forwarderTemplate, FORWARDER_ROLE_PREFIX, HEARTBEAT_SCHEDULE, STREAMS_PARAMETER, TARGET_RETRY } from "./forwarderTemplate";
import { HEARTBEAT_RULE_NAME } from "../functions/heartbeat";

export interface OrganizationForwardersArgs {
  readonly centralBusArn: pulumi.Input<string>;
  /** Organization root (r-...) or OU ids; new accounts under them get forwarders automatically. */
  readonly targets: string[];
  /** Regions to deploy to; us-east-1 must be among them (IAM and Organizations events exist only there). */
  readonly regions: string[];
  readonly failureTolerancePercentage: number;
  readonly maxConcurrentPercentage: number;
  /** Also forward write calls for the change feed. */
  readonly changes?: boolean;
  /** Regions (outside `regions`) that get the deny stream and the heartbeat only (`forwarder.denyRegions: all`). */
  readonly denyOnlyRegions?: string[];
}

export class OrganizationForwarders extends pulumi.ComponentResource {
  readonly stackSet: aws.cloudformation.StackSet;

  constructor(name: string, args: OrganizationForwardersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:backbone:OrganizationForwarders", name, {}, opts);
    if (!args.regions.includes("us-east-1")) throw new Error("OrganizationForwarders: regions must include us-east-1");
    const operationPreferences = {
      failureTolerancePercentage: args.failureTolerancePercentage,
      maxConcurrentPercentage: args.maxConcurrentPercentage,
      regionConcurrencyType: "PARALLEL",
    };
    this.stackSet = new aws.cloudformation.StackSet(
      `${name}-stackset`,
      {
        name: `trailwatch-${pulumi.getStack()}-forwarders`,
        description: "trailwatch: forward CloudTrail streams and heartbeats to the central bus",
        permissionModel: "SERVICE_MANAGED",
        // New accounts in the targets get forwarders; accounts that leave lose them.
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        capabilities: ["CAPABILITY_NAMED_IAM"],
        templateBody: JSON.stringify(forwarderTemplate({ changes: args.changes ?? false })),
        parameters: { CentralBusArn: args.centralBusArn },
        operationPreferences,
        managedExecution: { active: true },
      },
      { parent: this, ignoreChanges: ["administrationRoleArn"] },
    );
    const full = new aws.cloudformation.StackInstances(
      `${name}-instances`,
      {
        stackSetName: this.stackSet.name,
        deploymentTargets: { organizationalUnitIds: args.targets },
        regions: [...args.regions].sort(),
        operationPreferences,
      },
      { parent: this },
    );
    const denyOnly = (args.denyOnlyRegions ?? []).filter((r) => !args.regions.includes(r)).sort();
    if (denyOnly.length > 0)
      // Same StackSet, the Streams parameter overridden: its other rules carry the AllStreams condition. A StackSet
      // runs one operation at a time, so these instances wait for the full ones.
      new aws.cloudformation.StackInstances(
        `${name}-deny-instances`,
        {
          stackSetName: this.stackSet.name,
          deploymentTargets: { organizationalUnitIds: args.targets },
          regions: denyOnly,
          parameterOverrides: { [STREAMS_PARAMETER]: "denies" },
          operationPreferences,
        },
        { parent: this, dependsOn: [full] },
      );
    this.registerOutputs({ stackSetName: this.stackSet.name });
  }
}

export interface MemberForwarderArgs {
  readonly centralBusArn: pulumi.Input<string>;
  readonly accountId: string;
  readonly regions: string[];
  /** The provider for this account in a region. */
  readonly providerFor: (region: string) => aws.Provider;
  /** Also forward write calls for the change feed. */
  readonly changes?: boolean;
  /** Regions (outside `regions`) that get the deny stream and the heartbeat only. */
  readonly denyOnlyRegions?: string[];
}

export class MemberForwarder extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;

  constructor(name: string, args: MemberForwarderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:backbone:MemberForwarder", name, {}, opts);
    if (!args.regions.includes("us-east-1")) throw new Error("MemberForwarder: regions must include us-east-1");
    const global = { parent: this, provider: args.providerFor("us-east-1") };
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        name: FORWARDER_ROLE_PREFIX,
        description: "EventBridge puts forwarded CloudTrail events on the trailwatch central bus",
        assumeRolePolicy: policyJson(
          policy({
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
          }),
        ),
      },
      global,
    );
    new aws.iam.RolePolicy(
      `${name}-put-events`,
      { role: this.role.id, policy: policyJson(policy({ Effect: "Allow", Action: "events:PutEvents", Resource: args.centralBusArn })) },
      global,
    );
    const denyOnly = new Set((args.denyOnlyRegions ?? []).filter((r) => !args.regions.includes(r)));
    for (const region of [...args.regions, ...denyOnly].sort()) {
      const p = { parent: this, provider: args.providerFor(region) };
      const dlq = new aws.sqs.Queue(`${name}-${region}-dlq`, { name: "trailwatch-forwarder-dlq", sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 }, p);
      new aws.sqs.QueuePolicy(
        `${name}-${region}-dlq-policy`,
        {
          queueUrl: dlq.url,
          policy: policyJson(
            policy({
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: dlq.arn,
              Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
            }),
          ),
        },
        p,
      );
      const toCentralBus = (rule: aws.cloudwatch.EventRule, id: string) =>
        new aws.cloudwatch.EventTarget(
          `${name}-${region}-${id}-target`,
          { rule: rule.name, arn: args.centralBusArn, roleArn: this.role.arn, deadLetterConfig: { arn: dlq.arn }, retryPolicy: TARGET_RETRY },
          p,
        );
      for (const s of forwardedStreams({ changes: args.changes ?? false }).filter((x) => x.denyOnly || !denyOnly.has(region))) {
        const id = s.ruleName.replace(/^trailwatch-/, "");
        const rule = new aws.cloudwatch.EventRule(
          `${name}-${region}-${id}`,
          { name: s.ruleName, description: s.description, eventPattern: JSON.stringify(s.pattern), state: s.state },
          p,
        );
        toCentralBus(rule, id);
      }
      const beat = new aws.cloudwatch.EventRule(
        `${name}-${region}-heartbeat`,
        { name: HEARTBEAT_RULE_NAME, description: "trailwatch forwarder heartbeat", scheduleExpression: HEARTBEAT_SCHEDULE, state: "ENABLED" },
        p,
      );
      toCentralBus(beat, "heartbeat");
    }
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
