/**
 * ThirdPartyRole: the read-only role a change-tracking vendor (FireHydrant's CloudTrail integration and the like)
 * assumes to read CloudTrail, done right: trusted by the vendor's one principal only, `sts:ExternalId` required, the
 * six read actions the integration needs and nothing else.
 *
 * One CloudFormation template, deployed two ways: a stack in the management account (StackSets never deploy there)
 * and, with `organization`, a SERVICE_MANAGED StackSet to every member account (organizationStackSet). The ExternalId is a NoEcho template
 * parameter whose value Pulumi reads from Secrets Manager at deploy time: it is never in the template, in config or
 * in a plan, and CloudFormation never shows it back.
 * Confused deputy and ExternalId: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html
 */
import { THIRD_PARTY_ROLE_DEFAULTS } from "./defaults";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { organizationStackSet, type OrgContext } from "./org";
import { transformed, type Transform } from "./transform";

/** Exactly what the vendor may do: read events and the trails' configuration, and learn who it is. */
export const THIRD_PARTY_ACTIONS = [
  "cloudtrail:LookupEvents",
  "cloudtrail:GetTrailStatus",
  "cloudtrail:DescribeTrails",
  "cloudtrail:ListTags",
  "cloudtrail:GetEventSelectors",
  "sts:GetCallerIdentity",
] as const;

export const THIRD_PARTY_ROLE_NAME = "trailwatch-change-tracker-readonly";

type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };
export interface RoleTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Parameters: Record<string, { Type: string; Description: string; NoEcho?: boolean; MinLength?: number; MaxLength?: number; AllowedPattern?: string }>;
  Resources: Record<string, { Type: string; Properties: Record<string, CfnValue> }>;
  Outputs: Record<string, { Value: CfnValue }>;
}

/**
 * The role as a template. The principal and session duration are written in (they are not secret, and a reviewer
 * should see them in the plan); the ExternalId is the one parameter. IAM is global: deploy one instance per account.
 */
export function thirdPartyRoleTemplate(args: { principalArn: string; maxSessionDurationSeconds: number; roleName?: string }): RoleTemplate {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "trailwatch: read-only CloudTrail role for a change-tracking tool, ExternalId required",
    Parameters: {
      ExternalId: {
        Type: "String",
        NoEcho: true,
        Description: "The ExternalId the trusted principal must present (from the trailwatch config's Secrets Manager secret)",
        // sts:AssumeRole ExternalId: 2-1224 characters of [\w+=,.@:\/-].
        MinLength: 2,
        MaxLength: 1224,
        AllowedPattern: "^[\\w+=,.@:\\/-]+$",
      },
    },
    Resources: {
      ChangeTrackerRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: args.roleName ?? THIRD_PARTY_ROLE_NAME,
          Description: "A change-tracking tool reads CloudTrail (read-only, ExternalId required); managed by trailwatch",
          MaxSessionDuration: args.maxSessionDurationSeconds,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "TrustedPrincipalWithExternalId",
                Effect: "Allow",
                Principal: { AWS: args.principalArn },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } } },
              },
            ],
          },
          Policies: [
            {
              PolicyName: "cloudtrail-read-only",
              PolicyDocument: {
                Version: "2012-10-17",
                // LookupEvents and GetCallerIdentity take no resource; the trail reads must find trails they do not know yet.
                Statement: [{ Sid: "ReadCloudTrail", Effect: "Allow", Action: [...THIRD_PARTY_ACTIONS], Resource: "*" }],
              },
            },
          ],
        },
      },
    },
    Outputs: { RoleArn: { Value: { "Fn::GetAtt": ["ChangeTrackerRole", "Arn"] } } },
  };
}

export { THIRD_PARTY_ROLE_DEFAULTS };

export interface ThirdPartyRoleArgs {
  /** The organization: the management account's provider, the member targets, StackSet preferences, home region. */
  readonly org: OrgContext;
  /** The vendor's role or account root ARN. @example "arn:aws:iam::123456789012:role/vendor-integration" */
  readonly principalArn: string;
  /** The ExternalId, resolved from its secret at deploy time. Kept secret in state and NoEcho in CloudFormation. */
  readonly externalId: pulumi.Input<string>;
  /** The role's maximum session (3600-43200 s). @default THIRD_PARTY_ROLE_DEFAULTS.maxSessionDurationSeconds (3600) */
  readonly maxSessionDurationSeconds?: number;
  /**
   * `management`: the management account only; `organization`: also every member account under `org.memberTargets`,
   * through a StackSet (one instance per account, in the home region: the role is global).
   * @default THIRD_PARTY_ROLE_DEFAULTS.deployTo ("management")
   */
  readonly deployTo?: "management" | "organization";
  /** Customize the management account's stack and the StackSet (and its instances). */
  readonly transform?: {
    readonly stack?: Transform<aws.cloudformation.StackArgs>;
    readonly stackSet?: Transform<aws.cloudformation.StackSetArgs>;
    readonly instances?: Transform<aws.cloudformation.StackInstancesArgs>;
  };
}

/** Everything lives in the management account (the stack, and the StackSet, which never deploys there). */
export class ThirdPartyRole extends pulumi.ComponentResource {
  readonly managementStack: aws.cloudformation.Stack;
  readonly stackSet?: aws.cloudformation.StackSet;
  readonly instances?: aws.cloudformation.StackInstances;
  readonly roleName = THIRD_PARTY_ROLE_NAME;

  constructor(name: string, args: ThirdPartyRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:changes:ThirdPartyRole", name, {}, opts);
    const org = args.org;
    const p = { parent: this, provider: org.provider("management") };
    const templateBody = JSON.stringify(
      thirdPartyRoleTemplate({ principalArn: args.principalArn, maxSessionDurationSeconds: args.maxSessionDurationSeconds ?? THIRD_PARTY_ROLE_DEFAULTS.maxSessionDurationSeconds }),
    );
    const parameters = { ExternalId: pulumi.secret(args.externalId) };

    this.managementStack = new aws.cloudformation.Stack(
      ...transformed(
        args.transform?.stack,
        `${name}-management`,
        { name: `trailwatch-${pulumi.getStack()}-change-tracker-role`, templateBody, parameters, capabilities: ["CAPABILITY_NAMED_IAM"] },
        p,
      ),
    );

    if ((args.deployTo ?? THIRD_PARTY_ROLE_DEFAULTS.deployTo) === "organization") {
      const set = organizationStackSet(
        name,
        {
          stackSetName: "change-tracker-role",
          description: "trailwatch: read-only CloudTrail role for a change-tracking tool in every member account",
          template: templateBody,
          parameters,
          targets: org.memberTargets,
          regions: [org.homeRegion],
          preferences: org.stackSetPreferences,
          transform: { stackSet: args.transform?.stackSet, instances: args.transform?.instances },
        },
        p,
      );
      this.stackSet = set.stackSet;
      this.instances = set.instances;
    }
    this.registerOutputs({ managementRoleArn: this.managementStack.outputs.apply((o) => o?.RoleArn) });
  }
}
