/**
 * Every SERVICE_MANAGED StackSet the program declares waits on CloudFormation's organizations access being active
 * (components/stackSetsAccess.ts). One stack transformation does it for all of them (the forwarders, the Config
 * recorders, the SG revert spokes, the vendor role, and any added later); the activation resource is created with
 * the first such StackSet, so a configuration without one has none. `policy/rules.ts` checks the result.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { StackSetsOrganizationsAccess } from "../components/stackSetsAccess";

export function requireStackSetsAccess(config: StackConfig): void {
  let access: StackSetsOrganizationsAccess | undefined;
  pulumi.runtime.registerStackTransformation((args) => {
    if (args.type !== "aws:cloudformation/stackSet:StackSet" || args.props.permissionModel !== "SERVICE_MANAGED") return undefined;
    access ??= new StackSetsOrganizationsAccess("stacksets-organizations-access", {
      managementAccountId: config.accounts.management,
      region: config.homeRegion,
      roleArn: config.deployment.managementRoleArn,
    });
    return { props: args.props, opts: pulumi.mergeOptions(args.opts, { dependsOn: [access] }) };
  });
}

