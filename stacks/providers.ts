/**
 * One `aws.Provider` per (account, region) the program touches, built from config. Every provider pins
 * `allowedAccountIds`, so credentials for the wrong account fail the deployment instead of deploying there.
 * Components receive providers through resource options; nothing uses the default provider.
 *
 * Two modes, chosen by the environment variable TRAILWATCH_MODE:
 * - `deploy` (default, `pulumi up`): member accounts through `deployment.roleName`, the management account with the
 *   caller's credentials or `deployment.managementRoleArn`;
 * - `preview` (`pulumi preview` of a pull request, untrusted code): every account, management included, through
 *   `deployment.previewRoleName`, a read-only role, so the job never holds credentials that can change anything.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, type StackConfig } from "./config";
import type { OrgAccount, OrgContext } from "../components/org";

/** The three accounts by name (the org context's). */
export type AccountRole = OrgAccount;
export type DeploymentMode = "deploy" | "preview";
export const MODE_ENV = "TRAILWATCH_MODE";

/** The mode from the environment; anything but "deploy", "preview" or unset is a config error (a typo must not deploy). */
export function deploymentMode(env: NodeJS.ProcessEnv = process.env): DeploymentMode {
  const v = env[MODE_ENV];
  if (v === undefined || v === "" || v === "deploy") return "deploy";
  if (v === "preview") return "preview";
  throw new ConfigError([`${MODE_ENV} (environment): expected "deploy" or "preview", found ${JSON.stringify(v)}`]);
}

/** The role a provider for `accountId` assumes in `mode`; undefined = the caller's own credentials. */
export function providerRoleArn(config: StackConfig, accountId: string, mode: DeploymentMode): string | undefined {
  const { deployment, accounts } = config;
  if (mode === "preview") return `arn:aws:iam::${accountId}:role/${deployment.previewRoleName}`;
  // The management account is reached with the deploying credentials unless a role is configured: the
  // OrganizationAccountAccessRole exists only in member accounts.
  return accountId === accounts.management ? deployment.managementRoleArn : `arn:aws:iam::${accountId}:role/${deployment.roleName}`;
}

export class AccountProviders {
  private readonly cache = new Map<string, aws.Provider>();

  constructor(
    private readonly config: StackConfig,
    readonly mode: DeploymentMode = deploymentMode(),
  ) {}

  /** The provider for one of the organization's named accounts, in `region` (default: the home region). */
  of(role: AccountRole, region: string = this.config.homeRegion): aws.Provider {
    return this.forAccount(this.config.accounts[role], region, role === "logArchive" ? "log-archive" : role);
  }

  /** The provider for any account of the organization, assuming the deployment (or preview) role there. */
  forAccount(accountId: string, region: string, label: string = accountId): aws.Provider {
    const key = `${accountId}/${region}`;
    const existing = this.cache.get(key);
    if (existing) return existing;
    const roleArn = providerRoleArn(this.config, accountId, this.mode);
    const provider = new aws.Provider(`aws-${label}-${region}`, {
      region: region as aws.Region,
      allowedAccountIds: [accountId],
      assumeRoles: roleArn ? [{ roleArn, sessionName: this.config.deployment.sessionName }] : undefined,
      defaultTags: { tags: { "managed-by": "trailwatch", "trailwatch:stack": pulumi.getStack() } },
    });
    this.cache.set(key, provider);
    return provider;
  }
}

const contexts = new WeakMap<AccountProviders, OrgContext>();

/** The organization as components take it (components/org.ts), built once per program from config and the providers. */
export function orgContext(config: StackConfig, providers: AccountProviders): OrgContext {
  const known = contexts.get(providers);
  if (known) return known;
  const org: OrgContext = {
    organizationId: config.organizationId,
    accounts: config.accounts,
    homeRegion: config.homeRegion,
    regions: config.regions,
    memberTargets: config.memberTargets,
    stackSetPreferences: { failureTolerancePercentage: config.forwarder.failureTolerancePercentage, maxConcurrentPercentage: config.forwarder.maxConcurrentPercentage },
    provider: (account, region) => providers.of(account, region),
    providerForAccount: (accountId, region, label) => providers.forAccount(accountId, region, label),
  };
  contexts.set(providers, org);
  return org;
}
