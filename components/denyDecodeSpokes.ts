/**
 * The deny advisor's decode spokes: in every account of the organization, a role the deny processor may assume (with
 * an ExternalId) that can do one thing, `sts:DecodeAuthorizationMessage`, so EC2's encoded messages are decoded in
 * the account that produced them. Deployed like the SgRevertBot's spokes: a service-managed StackSet for the member
 * OUs (IAM is global: one region), the management account's role directly (StackSets do not deploy there).
 *
 * sts:DecodeAuthorizationMessage supports no resource-level permissions (Resource "*"):
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html
 * Only principals in the account that produced a message can decode it:
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy, policyJson, type Statement } from "./iam";
import type { CfnTemplate } from "./forwarderTemplate";
import { DECODE_SPOKE_ROLE_NAME } from "../functions/deny/decode";

export interface DenyDecodeSpokesArgs {
  /** The deny processor's role: the only principal the spokes trust. */
  processorRoleArn: pulumi.Input<string>;
  externalId: string;
  memberTargets: string[];
  homeRegion: string;
  failureTolerancePercentage: number;
  maxConcurrentPercentage: number;
  providers: { management: aws.Provider };
}

/** The spoke may decode authorization messages and nothing else. */
export const DECODE_SPOKE_PERMISSIONS: Statement[] = [{ Sid: "DecodeOnly", Effect: "Allow", Action: "sts:DecodeAuthorizationMessage", Resource: "*" }];

function decodeTrust(processorRoleArn: pulumi.Input<string>, externalId: string): Statement {
  return { Sid: "DenyProcessorWithExternalId", Effect: "Allow", Principal: { AWS: processorRoleArn }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": externalId } } };
}

export function decodeSpokeTemplate(): CfnTemplate {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "trailwatch: the role the deny advisor assumes to decode EC2 authorization failure messages in this account",
    Parameters: {
      ProcessorRoleArn: { Type: "String", Description: "The deny processor's role in the security account", AllowedPattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$" },
      ExternalId: { Type: "String", Description: "ExternalId the deny processor must present" },
    },
    Resources: {
      DecodeRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: DECODE_SPOKE_ROLE_NAME,
          Description: "trailwatch deny advisor: decode authorization failure messages (sts:DecodeAuthorizationMessage only)",
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [{ ...decodeTrust("P", "E"), Principal: { AWS: { Ref: "ProcessorRoleArn" } }, Condition: { StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } } } }] as any,
          },
          Policies: [{ PolicyName: "decode-authorization-messages", PolicyDocument: { Version: "2012-10-17", Statement: DECODE_SPOKE_PERMISSIONS as any } }],
        },
      },
    },
    Outputs: { DecodeRoleArn: { Value: { "Fn::GetAtt": ["DecodeRole", "Arn"] } } },
  };
}

export class DenyDecodeSpokes extends pulumi.ComponentResource {
  constructor(name: string, args: DenyDecodeSpokesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:deny:DenyDecodeSpokes", name, {}, opts);
    const mgmt = { parent: this, provider: args.providers.management };
    const template = decodeSpokeTemplate();
    const stackSet = new aws.cloudformation.StackSet(
      `${name}`,
      {
        name: `trailwatch-${pulumi.getStack()}-deny-decode-spokes`,
        description: "trailwatch: the role the deny advisor assumes to decode EC2 authorization failure messages",
        permissionModel: "SERVICE_MANAGED",
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        capabilities: ["CAPABILITY_NAMED_IAM"],
        templateBody: JSON.stringify(template),
        parameters: { ProcessorRoleArn: args.processorRoleArn, ExternalId: args.externalId },
        operationPreferences: { failureTolerancePercentage: args.failureTolerancePercentage, maxConcurrentPercentage: args.maxConcurrentPercentage },
        managedExecution: { active: true },
      },
      { ...mgmt, ignoreChanges: ["administrationRoleArn"] },
    );
    // IAM is global: one region deploys the role for the whole account.
    new aws.cloudformation.StackInstances(
      `${name}-instances`,
      { stackSetName: stackSet.name, deploymentTargets: { organizationalUnitIds: args.memberTargets }, regions: [args.homeRegion] },
      mgmt,
    );
    const props = template.Resources.DecodeRole.Properties as any;
    const role = new aws.iam.Role(
      `${name}-management`,
      { name: DECODE_SPOKE_ROLE_NAME, description: props.Description, maxSessionDuration: 3600, assumeRolePolicy: policyJson(policy(decodeTrust(args.processorRoleArn, args.externalId))) },
      mgmt,
    );
    new aws.iam.RolePolicy(`${name}-management`, { role: role.id, policy: policyJson(policy(...DECODE_SPOKE_PERMISSIONS)) }, mgmt);
    this.registerOutputs({});
  }
}
