/**
 * One `aws.Provider` per (account, region) the program touches, built from config. Every provider pins
 * `allowedAccountIds`, so credentials for the wrong account fail the deployment instead of deploying there.
 * Components receive providers through resource options; nothing uses the default provider.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";

export type AccountRole = "management" | "security" | "logArchive";

export class AccountProviders {
  private readonly cache = new Map<string, aws.Provider>();

  constructor(private readonly config: StackConfig) {}

  /** The provider for one of the organization's named accounts, in `region` (default: the home region). */
  of(role: AccountRole, region: string = this.config.homeRegion): aws.Provider {
    return this.forAccount(this.config.accounts[role], region, role === "logArchive" ? "log-archive" : role);
  }

  /** The provider for any account of the organization, assuming the deployment role there. */
  forAccount(accountId: string, region: string, label: string = accountId): aws.Provider {
    const key = `${accountId}/${region}`;
    const existing = this.cache.get(key);
    if (existing) return existing;
    const { deployment, accounts } = this.config;
    // The management account is reached with the deploying credentials unless a role is configured: the
    // OrganizationAccountAccessRole exists only in member accounts.
    const roleArn =
      accountId === accounts.management
        ? deployment.managementRoleArn
        : `arn:aws:iam::${accountId}:role/${deployment.roleName}`;
    const provider = new aws.Provider(`aws-${label}-${region}`, {
      region: region as aws.Region,
      allowedAccountIds: [accountId],
      assumeRoles: roleArn ? [{ roleArn, sessionName: deployment.sessionName }] : undefined,
      defaultTags: { tags: { "managed-by": "trailwatch", "trailwatch:stack": pulumi.getStack() } },
    });
    this.cache.set(key, provider);
    return provider;
  }
}
