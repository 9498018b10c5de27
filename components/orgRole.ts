/**
 * A role with the same name in every account of the organization, that one principal in the security account may
 * assume with an ExternalId: the spoke of a hub-and-spoke responder (the SgRevertBot's revoke role, the deny
 * advisor's decode role). Member accounts get it from a SERVICE_MANAGED StackSet (organizationStackSet: accounts that
 * join the targets get it, accounts that leave lose it); the management account, which a SERVICE_MANAGED StackSet
 * never deploys to, gets the same role created directly.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
 *
 * IAM is global (role ARNs name no region): one region, the home region, deploys the role for the whole account.
 *
 * The ExternalId in the trust policy keeps another party's use of the hub from reaching the spokes (the confused
 * deputy): https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy, policyJson, type Statement } from "./iam";
import type { CfnTemplate } from "./forwarderTemplate";
import { organizationStackSet, type OrgContext } from "./org";
import { transformed, type Transform } from "./transform";

/** What the role is: the same in the member template and in the management account. */
export interface OrgRoleSpec {
  /** The role's name in every account (the hub builds the spoke's ARN from it). */
  readonly roleName: string;
  /** The role's description. */
  readonly roleDescription: string;
  /** The role's logical id in the member template; its ARN is the output `<logicalId>Arn`. @example "SpokeRole" */
  readonly logicalId: string;
  /** The member template's description. */
  readonly templateDescription: string;
  /** The template parameter that carries the trusted principal's role ARN. @example "HubRoleArn" */
  readonly principalParameter: string;
  /** That parameter's description. */
  readonly principalDescription: string;
  /** The ExternalId parameter's description. */
  readonly externalIdDescription: string;
  /** The Sid of the trust statement. */
  readonly trustSid: string;
  /** The name of the role's inline policy in the member template. */
  readonly policyName: string;
  /** What the role may do: nothing else. */
  readonly permissions: readonly Statement[];
}

/** The trust statement: the one principal, with the ExternalId. */
export function orgRoleTrust(spec: Pick<OrgRoleSpec, "trustSid">, principalArn: unknown, externalId: unknown): Statement {
  return {
    Sid: spec.trustSid,
    Effect: "Allow",
    Principal: { AWS: principalArn as pulumi.Input<string> },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "sts:ExternalId": externalId as pulumi.Input<string> } },
  };
}

/** The member accounts' CloudFormation template: the role, its trust policy and its inline policy. */
export function orgRoleTemplate(spec: OrgRoleSpec): CfnTemplate {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: spec.templateDescription,
    Parameters: {
      [spec.principalParameter]: { Type: "String", Description: spec.principalDescription, AllowedPattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$" },
      ExternalId: { Type: "String", Description: spec.externalIdDescription },
    },
    Resources: {
      [spec.logicalId]: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: spec.roleName,
          Description: spec.roleDescription,
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [orgRoleTrust(spec, { Ref: spec.principalParameter }, { Ref: "ExternalId" })] as any,
          },
          Policies: [{ PolicyName: spec.policyName, PolicyDocument: { Version: "2012-10-17", Statement: spec.permissions as any } }],
        },
      },
    },
    Outputs: { [`${spec.logicalId}Arn`]: { Value: { "Fn::GetAtt": [spec.logicalId, "Arn"] } } },
  };
}

export interface OrgRoleArgs {
  /** The organization: member targets, home region, StackSet preferences, the management account's provider. */
  readonly org: OrgContext;
  /** The role. */
  readonly spec: OrgRoleSpec;
  /** The one principal the role trusts (a role in the security account). */
  readonly principalArn: pulumi.Input<string>;
  /** The ExternalId that principal presents. */
  readonly externalId: pulumi.Input<string>;
  /** The StackSet's name after `trailwatch-<stack>-`. */
  readonly stackSetName: string;
  /** The StackSet's description. */
  readonly stackSetDescription: string;
  /** The StackSet resource's name where it predates this block. @default `${name}-stackset` */
  readonly stackSetResourceName?: string;
  /** The management account's role (and its policy) resource name. @default `${name}-management` */
  readonly managementResourceName?: string;
  /** Customize the StackSet, its instances, or the management account's role and policy. */
  readonly transform?: {
    readonly stackSet?: Transform<aws.cloudformation.StackSetArgs>;
    readonly instances?: Transform<aws.cloudformation.StackInstancesArgs>;
    readonly managementRole?: Transform<aws.iam.RoleArgs>;
    readonly managementPolicy?: Transform<aws.iam.RolePolicyArgs>;
  };
}

export interface OrgRole {
  readonly stackSet: aws.cloudformation.StackSet;
  readonly instances: aws.cloudformation.StackInstances;
  /** The role in the management account. */
  readonly managementRole: aws.iam.Role;
  readonly managementPolicy: aws.iam.RolePolicy;
}

/**
 * Children: the StackSet `<stackSetResourceName ?? name-stackset>`, its instances `<name>-instances` (the member
 * targets, the home region), and the management account's role and inline policy `<managementResourceName ??
 * name-management>`. `opts.parent` is the owning component; the management account's provider comes from `org`.
 */
export function organizationRole(name: string, args: OrgRoleArgs, opts: { parent: pulumi.Resource }): OrgRole {
  const { org, spec } = args;
  const mgmt = { parent: opts.parent, provider: org.provider("management") };
  const { stackSet, instances } = organizationStackSet(
    name,
    {
      stackSetName: args.stackSetName,
      description: args.stackSetDescription,
      template: orgRoleTemplate(spec),
      parameters: { [spec.principalParameter]: args.principalArn, ExternalId: args.externalId },
      targets: org.memberTargets,
      regions: [org.homeRegion],
      preferences: org.stackSetPreferences,
      resourceName: args.stackSetResourceName,
      transform: { stackSet: args.transform?.stackSet, instances: args.transform?.instances },
    },
    mgmt,
  );
  const managementName = args.managementResourceName ?? `${name}-management`;
  const managementRole = new aws.iam.Role(
    ...transformed(
      args.transform?.managementRole,
      managementName,
      { name: spec.roleName, description: spec.roleDescription, maxSessionDuration: 3600, assumeRolePolicy: policyJson(policy(orgRoleTrust(spec, args.principalArn, args.externalId))) },
      mgmt,
    ),
  );
  const managementPolicy = new aws.iam.RolePolicy(
    ...transformed(args.transform?.managementPolicy, managementName, { role: managementRole.id, policy: policyJson(policy(...spec.permissions)) }, mgmt),
  );
  return { stackSet, instances, managementRole, managementPolicy };
}
