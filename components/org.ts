/**
 * The organization as components see it, passed once (`org: OrgContext`) instead of loose account ids, regions,
 * targets and three shapes of providers; and the organization StackSet, the one way trailwatch puts the same
 * CloudFormation stack in every member account.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CfnTemplate } from "./forwarderTemplate";
import { transformed, type Transform } from "./transform";
import { STACK_SET_DEFAULTS } from "./defaults";

export type OrgAccount = "management" | "security" | "logArchive";

export interface OrgContext {
  /** The organization's id (`o-...`). */
  readonly organizationId: string;
  /** The three accounts trailwatch deploys into by name. */
  readonly accounts: Readonly<Record<OrgAccount, string>>;
  /** Where the central resources live. */
  readonly homeRegion: string;
  /** The regions the organization uses (homeRegion among them). */
  readonly regions: readonly string[];
  /** The root (`r-...`) or OU ids whose accounts get the StackSets' stacks, new accounts included. */
  readonly memberTargets: readonly string[];
  /** How fast StackSet operations may go, and how many failures they may tolerate. */
  readonly stackSetPreferences: { readonly failureTolerancePercentage: number; readonly maxConcurrentPercentage: number };
  /** The provider for one of the named accounts in `region` (default: homeRegion). Every provider pins its account. */
  provider(account: OrgAccount, region?: string): aws.Provider;
  /** The provider for any account of the organization in `region`. */
  providerForAccount(accountId: string, region: string, label?: string): aws.Provider;
}

export interface OrganizationStackSetArgs {
  /** The StackSet's name after `trailwatch-<stack>-` (e.g. `forwarders`). */
  readonly stackSetName: string;
  /** The StackSet's description in CloudFormation. */
  readonly description: string;
  /** The template every stack instance deploys (typed data, or its JSON/YAML text). */
  readonly template: CfnTemplate | string;
  /** Values of the template's parameters, shared by every instance. */
  readonly parameters?: Record<string, pulumi.Input<string>>;
  /** Root or OU ids (SERVICE_MANAGED deploys to accounts under them, never to the management account). */
  readonly targets: readonly string[];
  /** Regions each account gets a stack in. IAM-only templates need one (IAM is global). */
  readonly regions: readonly string[];
  /** How fast operations may go, and how many failures they tolerate (usually `org.stackSetPreferences`). */
  readonly preferences: OrgContext["stackSetPreferences"];
  /** `PARALLEL` (default) or a region order for templates whose home-region stack must exist first. */
  readonly regionOrder?: { readonly type: "PARALLEL" } | { readonly type: "SEQUENTIAL"; readonly regions: readonly string[] };
  /** More instances of the same StackSet with parameters overridden (they wait for the main ones: one operation at a time). */
  readonly extraInstances?: readonly { readonly name: string; readonly regions: readonly string[]; readonly parameterOverrides: Record<string, pulumi.Input<string>> }[];
  /** The StackSet resource's name where it predates this block. @default `${name}-stackset` */
  readonly resourceName?: string;
  /** Customize the StackSet and its (main) instances (components/transform.ts). */
  readonly transform?: { readonly stackSet?: Transform<aws.cloudformation.StackSetArgs>; readonly instances?: Transform<aws.cloudformation.StackInstancesArgs> };
}

export interface OrganizationStackSet {
  readonly stackSet: aws.cloudformation.StackSet;
  readonly instances: aws.cloudformation.StackInstances;
}

/**
 * A SERVICE_MANAGED StackSet with automatic deployment: accounts that join the targets get the stack, accounts that
 * leave lose it. Created in the management account (or a delegated administrator) and never deployed to it, so what the
 * management account needs is created there directly by the caller.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html#stacksets-concepts-stackset-permission-models
 * Children: `<resourceName ?? name-stackset>` and `<name>-instances` (one StackInstances over all targets and regions).
 */
export function organizationStackSet(name: string, args: OrganizationStackSetArgs, opts: pulumi.CustomResourceOptions): OrganizationStackSet {
  const order = args.regionOrder ?? { type: "PARALLEL" as const };
  const operationPreferences = {
    failureTolerancePercentage: args.preferences.failureTolerancePercentage,
    maxConcurrentPercentage: args.preferences.maxConcurrentPercentage,
    regionConcurrencyType: order.type,
    ...(order.type === "SEQUENTIAL" ? { regionOrders: [...order.regions] } : {}),
  };
  const stackSet = new aws.cloudformation.StackSet(
    ...transformed(
      args.transform?.stackSet,
      args.resourceName ?? `${name}-stackset`,
      {
        name: `trailwatch-${pulumi.getStack()}-${args.stackSetName}`,
        description: args.description,
        permissionModel: "SERVICE_MANAGED",
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        capabilities: ["CAPABILITY_NAMED_IAM"],
        templateBody: typeof args.template === "string" ? args.template : JSON.stringify(args.template),
        parameters: args.parameters,
        operationPreferences,
        // Concurrent operations queue instead of failing (auto-deployment runs alongside pulumi up's updates).
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html#stackset-ops-managed-execution
        managedExecution: { active: true },
      },
      // SERVICE_MANAGED StackSets have no administration role; AWS reports one back, which must not show as a diff.
      { ...opts, ignoreChanges: [...(opts.ignoreChanges ?? []), "administrationRoleArn"] },
    ),
  );
  const regions = order.type === "SEQUENTIAL" ? [...order.regions] : [...args.regions].sort();
  const instances = new aws.cloudformation.StackInstances(
    ...transformed(
      args.transform?.instances,
      `${name}-instances`,
      { stackSetName: stackSet.name, deploymentTargets: { organizationalUnitIds: [...args.targets] }, regions, operationPreferences },
      { ...opts, dependsOn: undefined },
    ),
  );
  for (const extra of args.extraInstances ?? [])
    new aws.cloudformation.StackInstances(
      `${name}-${extra.name}`,
      {
        stackSetName: stackSet.name,
        deploymentTargets: { organizationalUnitIds: [...args.targets] },
        regions: [...extra.regions].sort(),
        parameterOverrides: extra.parameterOverrides,
        operationPreferences,
      },
      { ...opts, dependsOn: [instances] },
    );
  return { stackSet, instances };
}

export interface OrganizationArgs {
  /** The organization's id. @example "o-a1b2c3d4e5" */
  readonly organizationId: string;
  /** The management, security and log-archive accounts. */
  readonly accounts: Readonly<Record<OrgAccount, string>>;
  /** Where the central resources live. @example "eu-west-1" */
  readonly homeRegion: string;
  /** The regions the organization uses. @default [homeRegion] */
  readonly regions?: readonly string[];
  /** Root or OU ids the StackSets deploy to. @default [] (no member stacks) */
  readonly memberTargets?: readonly string[];
  /** @default STACK_SET_DEFAULTS (10% failure tolerance, 25% concurrency) */
  readonly stackSetPreferences?: OrgContext["stackSetPreferences"];
  /**
   * The role each provider assumes in member accounts (e.g. `OrganizationAccountAccessRole`); unset: the caller's
   * own credentials everywhere. The management account is always reached with the caller's credentials.
   */
  readonly roleName?: string;
}

/**
 * An OrgContext for a program of your own: one provider per (account, region), created when first asked for, each
 * pinned to its account with `allowedAccountIds` (credentials for the wrong account fail instead of deploying there).
 * trailwatch's own stacks build theirs from the stack config (stacks/providers.ts).
 * @example
 * const org = organization({ organizationId: "o-a1b2c3d4e5", homeRegion: "eu-west-1",
 *   accounts: { management: "111111111111", security: "222222222222", logArchive: "333333333333" } });
 * new CentralEventBus("central", { org });
 */
export function organization(args: OrganizationArgs): OrgContext {
  const cache = new Map<string, aws.Provider>();
  const forAccount = (accountId: string, region: string, label: string = accountId): aws.Provider => {
    const key = `${accountId}/${region}`;
    let provider = cache.get(key);
    if (!provider) {
      const assume = args.roleName && accountId !== args.accounts.management ? [{ roleArn: `arn:aws:iam::${accountId}:role/${args.roleName}` }] : undefined;
      provider = new aws.Provider(`aws-${label}-${region}`, { region: region as aws.Region, allowedAccountIds: [accountId], assumeRoles: assume });
      cache.set(key, provider);
    }
    return provider;
  };
  return {
    organizationId: args.organizationId,
    accounts: args.accounts,
    homeRegion: args.homeRegion,
    regions: args.regions ?? [args.homeRegion],
    memberTargets: args.memberTargets ?? [],
    stackSetPreferences: args.stackSetPreferences ?? STACK_SET_DEFAULTS,
    provider: (account, region = args.homeRegion) => forAccount(args.accounts[account], region, account === "logArchive" ? "log-archive" : account),
    providerForAccount: forAccount,
  };
}
