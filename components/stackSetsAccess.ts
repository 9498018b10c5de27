/**
 * StackSetsOrganizationsAccess: CloudFormation's `ActivateOrganizationsAccess` as a resource every SERVICE_MANAGED
 * StackSet waits on (`dependsOn`). There is no provider resource for it, so a small dynamic provider runs in the
 * deployment (Pulumi engine) process with the management account's credentials, optionally through
 * `deployment.managementRoleArn`. Idempotent: where access is already ENABLED nothing is called. Deleting the
 * resource leaves access on: turning it off would break every service-managed StackSet in the organization, ours or
 * not. https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ActivateOrganizationsAccess.html
 */
import * as pulumi from "@pulumi/pulumi";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ensureOrganizationsAccess } from "../functions/stackSetsAccess";

/** The input that identifies this resource in a plan (dynamic resources all share one type). */
export const ORGANIZATIONS_ACCESS_MARKER = "cloudformation-stacksets-organizations-access";

export interface StackSetsOrganizationsAccessArgs {
  /** The management account: the provider refuses to act with credentials for any other account. */
  readonly managementAccountId: string;
  /** The region the StackSets are administered from. */
  readonly region: string;
  /** A role to assume in the management account; the deploying credentials when unset. */
  readonly roleArn?: string;
}

interface Inputs extends StackSetsOrganizationsAccessArgs {
  access: string;
}

export const stackSetsAccessProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Inputs) {
    // The provider is serialized into the state and run by the engine: SDK packages are captured as requires.
    let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
    if (inputs.roleArn) {
      const out = await new STSClient({ region: inputs.region }).send(new AssumeRoleCommand({ RoleArn: inputs.roleArn, RoleSessionName: "trailwatch-stacksets-access" }));
      const c = out.Credentials!;
      credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
    }
    const who = await new STSClient({ region: inputs.region, credentials }).send(new GetCallerIdentityCommand({}));
    if (who.Account !== inputs.managementAccountId)
      throw new Error(`StackSets organizations access must be activated from the management account ${inputs.managementAccountId}; the credentials are for ${who.Account}`);
    const outcome = await ensureOrganizationsAccess(new CloudFormationClient({ region: inputs.region, credentials }));
    return { id: `${inputs.managementAccountId}-stacksets-organizations-access`, outs: { ...inputs, outcome } };
  },
  async diff(_id: string, olds: Inputs, news: Inputs) {
    const changed = olds.managementAccountId !== news.managementAccountId || olds.region !== news.region || olds.roleArn !== news.roleArn;
    return { changes: changed, replaces: changed ? ["managementAccountId"] : [] };
  },
  async delete() {
    // Left activated on purpose (see the file comment).
  },
};

export class StackSetsOrganizationsAccess extends pulumi.dynamic.Resource {
  constructor(name: string, args: StackSetsOrganizationsAccessArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs: Inputs = { ...args, access: ORGANIZATIONS_ACCESS_MARKER };
    super(stackSetsAccessProvider, name, { ...inputs, outcome: undefined }, opts);
  }
}
