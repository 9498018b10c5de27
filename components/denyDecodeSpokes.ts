/**
 * The deny advisor's decode spokes: in every account of the organization, a role the deny processor may assume (with
 * an ExternalId) that can do one thing, `sts:DecodeAuthorizationMessage`, so EC2's encoded messages are decoded in
 * the account that produced them. Deployed like the SgRevertBot's spokes (components/orgRole.ts): a service-managed
 * StackSet for the member OUs, the management account's role directly.
 *
 * sts:DecodeAuthorizationMessage supports no resource-level permissions (Resource "*"):
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html
 * Only principals in the account that produced a message can decode it:
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 */
import * as pulumi from "@pulumi/pulumi";
import type { Statement } from "./iam";
import type { OrgContext } from "./org";
import { organizationRole, type OrgRole, type OrgRoleArgs, type OrgRoleSpec } from "./orgRole";
import { DECODE_SPOKE_ROLE_NAME } from "../functions/deny/decode";

export interface DenyDecodeSpokesArgs {
  /** The organization: member targets, home region, StackSet preferences, the management account. */
  readonly org: OrgContext;
  /** The deny processor's role: the only principal the spokes trust. */
  readonly processorRoleArn: pulumi.Input<string>;
  /** The ExternalId the processor presents. */
  readonly externalId: string;
  /** Customize the StackSet, its instances, or the management account's role and policy. */
  readonly transform?: OrgRoleArgs["transform"];
}

/** The spoke may decode authorization messages and nothing else. */
export const DECODE_SPOKE_PERMISSIONS: Statement[] = [{ Sid: "DecodeOnly", Effect: "Allow", Action: "sts:DecodeAuthorizationMessage", Resource: "*" }];

/** The decode role in every account, trusted by the deny processor's role alone. */
export const DECODE_SPOKE_ROLE: OrgRoleSpec = {
  roleName: DECODE_SPOKE_ROLE_NAME,
  roleDescription: "trailwatch deny advisor: decode authorization failure messages (sts:DecodeAuthorizationMessage only)",
  logicalId: "DecodeRole",
  templateDescription: "trailwatch: the role the deny advisor assumes to decode EC2 authorization failure messages in this account",
  principalParameter: "ProcessorRoleArn",
  principalDescription: "The deny processor's role in the security account",
  externalIdDescription: "ExternalId the deny processor must present",
  trustSid: "DenyProcessorWithExternalId",
  policyName: "decode-authorization-messages",
  permissions: DECODE_SPOKE_PERMISSIONS,
};

export class DenyDecodeSpokes extends pulumi.ComponentResource {
  /** The StackSet, its instances and the management account's role. */
  readonly nodes: OrgRole;

  constructor(name: string, args: DenyDecodeSpokesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:deny:DenyDecodeSpokes", name, {}, opts);
    this.nodes = organizationRole(
      name,
      {
        org: args.org,
        spec: DECODE_SPOKE_ROLE,
        principalArn: args.processorRoleArn,
        externalId: args.externalId,
        stackSetName: "deny-decode-spokes",
        stackSetDescription: "trailwatch: the role the deny advisor assumes to decode EC2 authorization failure messages",
        stackSetResourceName: name,
        transform: args.transform,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
