/**
 * `npm run preflight -- --stack <name> [--json] [--config <file>] [--concurrency <n>]`
 *
 * Read-only, with the management account's credentials, before the first `pulumi up`: what in this organization will
 * make the deployment fail, each as pass / warn / fail with the exact fix. Exit 0 nothing failed, 1 a check failed (or
 * the config is invalid), 2 the run could not start (arguments, no credentials, credentials for another account).
 * The checks are pure functions of what the SDK calls return (`preflightChecks`), so the tests run them against
 * local stubs of each service.
 */
import {
  ListAWSServiceAccessForOrganizationCommand,
  ListDelegatedAdministratorsCommand,
  OrganizationsClient,
  type DelegatedAdministrator,
  type EnabledServicePrincipal,
} from "@aws-sdk/client-organizations";
import { CloudFormationClient, DescribeOrganizationsAccessCommand, ListStackSetsCommand, type StackSetSummary } from "@aws-sdk/client-cloudformation";
import { CloudTrailClient, DescribeTrailsCommand, type Trail } from "@aws-sdk/client-cloudtrail";
import {
  ConfigServiceClient,
  DescribeConfigurationRecordersCommand,
  DescribeDeliveryChannelsCommand,
  type ConfigurationRecorder,
  type DeliveryChannel,
} from "@aws-sdk/client-config-service";
import { GuardDutyClient, ListDetectorsCommand } from "@aws-sdk/client-guardduty";
import { GetRoleCommand, GetUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AccountClient, ListRegionsCommand, type Region } from "@aws-sdk/client-account";
import { EventBridgeClient, ListRulesCommand } from "@aws-sdk/client-eventbridge";
import type { StackConfig } from "../stacks/config";
import { forwardedStreams } from "../components/forwarderTemplate";
import {
  buildReport,
  describeError,
  exitCode,
  fail,
  formatReport,
  parseCommonArgs,
  pass,
  runChecks,
  StartError,
  warn,
  type Check,
  type Finding,
} from "./checklist";
import { AwsContext, errorName, orgRegion, partitionOf } from "./awsContext";
import { ConfigProblems, loadStack } from "./stackInput";

const USAGE = "usage: npm run preflight -- --stack <name> [--json] [--config <file>] [--concurrency <n>]";

export interface PreflightContext {
  aws: AwsContext;
  config: StackConfig;
  stack: string;
  caller: { account: string; arn: string };
}

type C = PreflightContext;

// ---- helpers -----------------------------------------------------------------------------------------------------

/** The StackSets the enabled features create (SERVICE_MANAGED: they need CloudFormation's organizations access). */
export function plannedStackSets(config: StackConfig, stack: string): { name: string; regions: string[] }[] {
  const sets: { name: string; regions: string[] }[] = [];
  const fwdRegions = [...new Set([...config.regions, "us-east-1"])].sort();
  if (config.features.eventBackbone && config.forwarder.mode === "stackset") sets.push({ name: `trailwatch-${stack}-forwarders`, regions: fwdRegions });
  if (config.features.eventBackbone && config.features.configAggregation) sets.push({ name: `trailwatch-${stack}-config`, regions: [config.homeRegion, ...config.regions.filter((r) => r !== config.homeRegion)] });
  if (config.features.eventBackbone && config.features.sgRevertBot) sets.push({ name: `trailwatch-${stack}-sg-revert-spokes`, regions: [config.homeRegion] });
  if (config.features.eventBackbone && config.features.changeFeed && config.changeFeed.thirdPartyRole?.deployTo === "organization")
    sets.push({ name: `trailwatch-${stack}-change-tracker-role`, regions: [config.homeRegion] });
  return sets;
}

/**
 * The organization's services the enabled features use, and whether trailwatch turns trusted access on itself
 * (components declare `aws.organizations.AwsServiceAccess`; designating GuardDuty's delegated administrator enables it: "This enables GuardDuty as a trusted service in AWS
 * Organizations", https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html).
 */
export interface ServiceAccessNeed {
  principal: string;
  feature: string;
  enabledByTrailwatch: boolean;
  /** The stack's `aws.organizations.AwsServiceAccess` resource for it, when the stack owns the setting. */
  resource?: string;
}
export function neededServiceAccess(config: StackConfig): ServiceAccessNeed[] {
  const f = config.features;
  const out: ServiceAccessNeed[] = [];
  if (f.orgTrail) out.push({ principal: "cloudtrail.amazonaws.com", feature: "orgTrail", enabledByTrailwatch: true, resource: "org-trail-trusted-access" });
  if (f.guardDuty && f.eventBackbone) out.push({ principal: "guardduty.amazonaws.com", feature: "guardDuty", enabledByTrailwatch: true });
  if (f.configAggregation && f.eventBackbone) {
    out.push({ principal: "config.amazonaws.com", feature: "configAggregation", enabledByTrailwatch: true, resource: "config-trusted-config" });
    out.push({ principal: "config-multiaccountsetup.amazonaws.com", feature: "configAggregation", enabledByTrailwatch: true, resource: "config-trusted-config-multiaccountsetup" });
  }
  return out;
}

/** Regions an account lists as ENABLED or ENABLED_BY_DEFAULT. */
async function enabledRegions(ctx: C, account: string): Promise<Set<string>> {
  const enabled = new Set<string>();
  let NextToken: string | undefined;
  do {
    const page = await ctx.aws.send<AccountClient, { Regions?: Region[]; NextToken?: string }>(
      AccountClient,
      account,
      ctx.config.homeRegion,
      new ListRegionsCommand({ RegionOptStatusContains: ["ENABLED", "ENABLED_BY_DEFAULT"], NextToken, MaxResults: 50 }),
    );
    for (const r of page.Regions ?? []) if (r.RegionName) enabled.add(r.RegionName);
    NextToken = page.NextToken;
  } while (NextToken);
  return enabled;
}

/** The region a secret reference lives in: an ARN names it, a name means the home region. */
function secretRegion(ref: string, home: string): string {
  const m = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(ref);
  return m ? m[1] : home;
}

const ORGS = OrganizationsClient;

// ---- the checks --------------------------------------------------------------------------------------------------

export const preflightChecks: Check<C>[] = [
  {
    id: "caller",
    title: "Caller is the management account",
    // caller() already refused any other account (exit 2); this line records who ran it.
    async run(ctx) {
      return [pass(`${ctx.caller.arn} in ${ctx.caller.account} (trailwatch:accounts.management)`)];
    },
  },
  {
    id: "organization",
    title: "Organization has all features",
    // Delegated administrators, trusted access and organization trails need all features.
    // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_org_support-all-features.html
    async run(ctx) {
      const org = await ctx.aws.organization();
      const out: Finding[] = [];
      if (org.Id !== ctx.config.organizationId)
        out.push(fail(`the caller's organization is ${org.Id}, the config names ${ctx.config.organizationId}`, `set trailwatch:organizationId: ${org.Id} (or use the credentials of ${ctx.config.organizationId}'s management account)`));
      if (org.FeatureSet !== "ALL")
        out.push(
          fail(
            `organization ${org.Id} has feature set ${org.FeatureSet} (consolidated billing only)`,
            "aws organizations enable-all-features, then have every member account accept the handshake (Organizations console, Settings)",
          ),
        );
      if (out.length === 0) out.push(pass(`${org.Id}, all features, management account ${org.MasterAccountId}`));
      return out;
    },
  },
  {
    id: "trusted-access",
    title: "Trusted access and StackSets organizations access",
    async run(ctx) {
      const enabled = new Map<string, EnabledServicePrincipal>();
      let NextToken: string | undefined;
      do {
        const page = await ctx.aws.send<OrganizationsClient, { EnabledServicePrincipals?: EnabledServicePrincipal[]; NextToken?: string }>(
          ORGS,
          ctx.config.accounts.management,
          orgRegion(ctx.config.homeRegion),
          new ListAWSServiceAccessForOrganizationCommand({ NextToken }),
        );
        for (const p of page.EnabledServicePrincipals ?? []) enabled.set(p.ServicePrincipal!, p);
        NextToken = page.NextToken;
      } while (NextToken);
      // A stack that declares the trusted access owns it: deleting the resource (pulumi destroy, the feature switched off)
      // calls DisableAWSServiceAccess, for every other user of it too (Control Tower, other tools).
      // https://docs.aws.amazon.com/organizations/latest/APIReference/API_DisableAWSServiceAccess.html
      const out: Finding[] = neededServiceAccess(ctx.config).map(({ principal, feature, enabledByTrailwatch, resource }) =>
        enabled.has(principal)
          ? resource
            ? warn(
                `${principal} is already enabled (since ${enabled.get(principal)!.DateEnabled?.toISOString().slice(0, 10) ?? "?"}): the stack takes it over as ${resource}, and pulumi destroy or features.${feature}: false would disable it for the whole organization`,
                `nothing to do before pulumi up; before a destroy, pulumi state delete the ${resource} resource (its URN: pulumi stack --show-urns) so trusted access stays on for the others`,
              )
            : pass(`${principal} enabled`)
          : enabledByTrailwatch
            ? pass(`${principal} not enabled yet: pulumi up enables it (features.${feature})`)
            : fail(`${principal} (features.${feature}) is not enabled`, `aws organizations enable-aws-service-access --service-principal ${principal}`),
      );
      // SERVICE_MANAGED StackSets need CloudFormation's organizations access, which trailwatch does not turn on.
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html
      const sets = plannedStackSets(ctx.config, ctx.stack);
      if (sets.length > 0) {
        const access = await ctx.aws.send<CloudFormationClient, { Status?: string }>(
          CloudFormationClient,
          ctx.config.accounts.management,
          ctx.config.homeRegion,
          new DescribeOrganizationsAccessCommand({}),
        );
        out.push(
          access.Status === "ENABLED"
            ? pass("CloudFormation StackSets organizations access enabled")
            : fail(
                `CloudFormation StackSets organizations access is ${access.Status ?? "unknown"}: ${sets.map((s) => s.name).join(", ")} cannot be created`,
                `aws cloudformation activate-organizations-access --region ${ctx.config.homeRegion} (management account)`,
              ),
        );
      }
      return out;
    },
  },
  {
    id: "delegated-admins",
    title: "Delegated administrators",
    async run(ctx) {
      const { accounts, features, orgTrail } = ctx.config;
      const security = accounts.security;
      const wanted: { principal: string; want: string | null; deregister: (acct: string) => string }[] = [];
      const orgsDeregister = (principal: string) => (acct: string) => `aws organizations deregister-delegated-administrator --account-id ${acct} --service-principal ${principal}`;
      if (features.guardDuty && features.eventBackbone)
        wanted.push({
          principal: "guardduty.amazonaws.com",
          want: security,
          deregister: (acct) => `aws guardduty disable-organization-admin-account --admin-account-id ${acct} --region <each region>`,
        });
      if (features.configAggregation && features.eventBackbone)
        for (const p of ["config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"]) wanted.push({ principal: p, want: security, deregister: orgsDeregister(p) });
      if (features.orgTrail)
        wanted.push({
          principal: "cloudtrail.amazonaws.com",
          want: orgTrail.administrator === "delegated" ? security : null,
          deregister: (acct) => `aws cloudtrail deregister-organization-delegated-admin --delegated-admin-account-id ${acct}`,
        });
      const out: Finding[] = [];
      await Promise.all(
        wanted.map(async ({ principal, want, deregister }) => {
          const admins: DelegatedAdministrator[] = [];
          let NextToken: string | undefined;
          do {
            const page = await ctx.aws.send<OrganizationsClient, { DelegatedAdministrators?: DelegatedAdministrator[]; NextToken?: string }>(
              ORGS,
              accounts.management,
              orgRegion(ctx.config.homeRegion),
              new ListDelegatedAdministratorsCommand({ ServicePrincipal: principal, NextToken }),
            );
            admins.push(...(page.DelegatedAdministrators ?? []));
            NextToken = page.NextToken;
          } while (NextToken);
          const others = admins.filter((a) => a.Id !== want);
          if (want && others.length > 0)
            for (const a of others)
              out.push(
                fail(
                  `${principal}: ${a.Id} (${a.Name ?? "?"}) is the delegated administrator; trailwatch makes the security account ${want} the administrator and AWS allows one`,
                  `${deregister(a.Id!)} (this also stops that account's organization-wide use of the service), or set trailwatch:accounts.security: "${a.Id}"`,
                ),
              );
          else if (!want && others.length > 0)
            for (const a of others)
              out.push(warn(`${principal}: ${a.Id} is a delegated administrator; orgTrail.administrator is management, so it keeps its rights`, `nothing to do unless you want the security account to administer trails: set trailwatch:orgTrail.administrator: delegated after ${deregister(a.Id!)}`));
          else if (want && admins.some((a) => a.Id === want))
            out.push(
              warn(
                `${principal}: the security account ${want} is already the delegated administrator; pulumi up registers it again and the call fails (AccountAlreadyRegisteredException)`,
                `import the registration into the stack before pulumi up (pulumi import), or ${deregister(want)}`,
              ),
            );
          else out.push(pass(`${principal}: none yet${want ? `, pulumi up registers ${want}` : ""}`));
        }),
      );
      return out.sort((a, b) => a.message.localeCompare(b.message));
    },
  },
  {
    id: "org-trails",
    title: "Existing organization trails",
    async run(ctx) {
      if (!ctx.config.features.orgTrail) return [pass("features.orgTrail is off")];
      const name = ctx.config.orgTrail.name;
      const out = await ctx.aws.send<CloudTrailClient, { trailList?: Trail[] }>(
        CloudTrailClient,
        ctx.config.accounts.management,
        ctx.config.homeRegion,
        new DescribeTrailsCommand({ includeShadowTrails: true }),
      );
      const findings: Finding[] = [];
      for (const t of out.trailList ?? []) {
        // A multi-region trail shows in every region (shadow trails): a name taken anywhere is taken.
        if (t.Name === name)
          findings.push(
            fail(
              `a trail named ${name} already exists (${t.TrailARN}); pulumi up creates one with that name and fails (TrailAlreadyExistsException)`,
              `set trailwatch:orgTrail.name to another name, or aws cloudtrail delete-trail --name ${t.TrailARN} --region ${t.HomeRegion}`,
            ),
          );
        else if (t.IsOrganizationTrail)
          // Each further trail copy of management events is billed: https://aws.amazon.com/cloudtrail/pricing/
          findings.push(
            warn(
              `organization trail ${t.Name} (${t.TrailARN}) already exists: trailwatch adds a second one, and every further copy of management events is billed`,
              `delete it once trailwatch's trail delivers (aws cloudtrail delete-trail --name ${t.TrailARN} --region ${t.HomeRegion}), or set trailwatch:features.orgTrail: false`,
            ),
          );
      }
      return findings.length > 0 ? findings : [pass(`no organization trail yet, no trail named ${name}`)];
    },
  },
  {
    id: "config-recorders",
    title: "Existing Config recorders and delivery channels",
    // One customer managed configuration recorder and one delivery channel per account and region.
    // https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html
    // https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html
    async run(ctx) {
      const { features } = ctx.config;
      if (!features.configAggregation || !features.eventBackbone) return [pass("features.configAggregation is off")];
      const accounts = [...new Set([ctx.config.accounts.management, ...(await ctx.aws.targetAccounts())])].sort();
      const { results, unreachable } = await ctx.aws.eachPair(accounts, ctx.config.regions, async (account, region) => {
        const [rec, ch] = await Promise.all([
          ctx.aws.send<ConfigServiceClient, { ConfigurationRecorders?: ConfigurationRecorder[] }>(ConfigServiceClient, account, region, new DescribeConfigurationRecordersCommand({})),
          ctx.aws.send<ConfigServiceClient, { DeliveryChannels?: DeliveryChannel[] }>(ConfigServiceClient, account, region, new DescribeDeliveryChannelsCommand({})),
        ]);
        return { recorders: rec.ConfigurationRecorders ?? [], channels: ch.DeliveryChannels ?? [] };
      });
      const findings: Finding[] = [...unreachable];
      let clean = 0;
      for (const { account, region, value } of results) {
        // "One customer managed configuration recorder per account per Region"; service-linked recorders (servicePrincipal
        // set) are another kind and do not take its place (same page as above).
        const recorders = value.recorders.filter((r) => !r.servicePrincipal);
        const where = `${account} ${region}`;
        const controlTower = recorders.some((r) => /controltower/i.test(r.name ?? ""));
        const away = controlTower
          ? `this account is enrolled in AWS Control Tower, which owns the recorder: leave it, and set trailwatch:features.configAggregation: false or take its OU out of trailwatch:memberTargets`
          : undefined;
        for (const r of recorders)
          findings.push(
            fail(
              `${where}: Config recorder "${r.name}" exists; trailwatch creates recorder "trailwatch" and AWS allows one per region (MaxNumberOfConfigurationRecordersExceededException)`,
              away ?? `in ${account}: aws configservice delete-configuration-recorder --configuration-recorder-name ${r.name} --region ${region}, or set trailwatch:features.configAggregation: false`,
            ),
          );
        for (const c of value.channels)
          findings.push(
            fail(
              `${where}: delivery channel "${c.name}" (bucket ${c.s3BucketName}) exists; AWS allows one per region (MaxNumberOfDeliveryChannelsExceededException)`,
              away ?? `in ${account}: aws configservice delete-delivery-channel --delivery-channel-name ${c.name} --region ${region} (after its recorder)`,
            ),
          );
        if (recorders.length === 0 && value.channels.length === 0) clean++;
      }
      findings.push(pass(`${clean} account/region pairs have no recorder or channel`));
      return findings;
    },
  },
  {
    id: "guardduty-detectors",
    title: "Existing GuardDuty detectors",
    // One detector per account and region: https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html
    async run(ctx) {
      const { features, accounts } = ctx.config;
      if (!features.guardDuty || !features.eventBackbone) return [pass("features.guardDuty is off")];
      const all = (await ctx.aws.orgAccounts()).map((a) => a.Id!);
      const { results, unreachable } = await ctx.aws.eachPair(all.sort(), ctx.config.regions, async (account, region) => {
        const out = await ctx.aws.send<GuardDutyClient, { DetectorIds?: string[] }>(GuardDutyClient, account, region, new ListDetectorsCommand({}));
        return out.DetectorIds ?? [];
      });
      const findings: Finding[] = [...unreachable];
      let members = 0;
      for (const { account, region, value } of results) {
        if (value.length === 0) continue;
        if (account === accounts.security)
          findings.push(
            fail(
              `${account} ${region}: the security account already has detector ${value[0]}; pulumi up creates the administrator's detector there and fails (a detector already exists)`,
              `pulumi import aws:guardduty/detector:Detector guardduty-detector-${region} ${value[0]} (before pulumi up), or in ${account}: aws guardduty delete-detector --detector-id ${value[0]} --region ${region} (deletes its findings)`,
            ),
          );
        else members++;
      }
      findings.push(pass(`${members} member account/region pairs already have a detector (they become members of the administrator, their settings follow the organization)`));
      return findings;
    },
  },
  {
    id: "deployment-role",
    title: "Deployment role can be assumed",
    async run(ctx) {
      const { accounts, deployment, forwarder } = ctx.config;
      const targets = [
        { account: accounts.security, what: "security" },
        { account: accounts.logArchive, what: "log archive" },
        ...(forwarder.mode === "direct" ? forwarder.directAccounts.filter((a) => a !== accounts.management).map((a) => ({ account: a, what: "direct-mode member" })) : []),
      ];
      const seen = new Set<string>();
      return Promise.all(
        targets
          .filter((t) => !seen.has(t.account) && seen.add(t.account))
          .map(async ({ account, what }) => {
            const arn = `arn:${partitionOf(ctx.config.homeRegion)}:iam::${account}:role/${deployment.roleName}`;
            try {
              await ctx.aws.credentialsFor(account);
              return pass(`${arn} (${what})`);
            } catch (err) {
              return fail(
                `cannot assume ${arn} (${what} account): ${describeError(err).split("\n")[0]}`,
                `create role ${deployment.roleName} in ${account} with AdministratorAccess and a trust policy allowing arn:${partitionOf(ctx.config.homeRegion)}:iam::${accounts.management}:root to sts:AssumeRole (accounts created by Organizations have OrganizationAccountAccessRole), or set trailwatch:deployment.roleName`,
              );
            }
          }),
      );
    },
  },
  {
    id: "references",
    title: "Principals and secrets named in config exist",
    async run(ctx) {
      const { config } = ctx;
      const security = config.accounts.security;
      const out: Finding[] = [];
      const orgIds = new Set((await ctx.aws.orgAccounts()).map((a) => a.Id!));
      // Reader ARNs: the role or user must exist in its account (a key policy naming a missing principal is refused).
      // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
      const readers = config.features.orgTrail ? config.orgTrail.readerArns : [];
      const secrets: { ref: string; key: string }[] = [];
      for (const key of ["slackBotToken", "slackSigningSecret"] as const) if (config.secrets[key]) secrets.push({ ref: config.secrets[key]!, key: `secrets.${key}` });
      if (config.features.changeFeed) {
        config.changeFeed.webhooks.forEach((w, i) => secrets.push({ ref: w.secret, key: `changeFeed.webhooks[${i}].secret (${w.name})` }));
        if (config.changeFeed.thirdPartyRole) secrets.push({ ref: config.changeFeed.thirdPartyRole.externalIdSecret, key: "changeFeed.thirdPartyRole.externalIdSecret" });
      }
      await Promise.all([
        ...readers.map(async (arn) => {
          const [, , , , account, resource] = arn.split(":");
          const [kind, ...rest] = resource.split("/");
          const name = rest[rest.length - 1];
          if (!orgIds.has(account)) {
            out.push(warn(`orgTrail.readerArns: ${arn} is outside the organization, not checked`, `check by hand that ${arn} exists (aws iam get-${kind} --${kind}-name ${name} in ${account})`));
            return;
          }
          try {
            await ctx.aws.send(IAMClient, account, config.homeRegion, kind === "role" ? new GetRoleCommand({ RoleName: name }) : new GetUserCommand({ UserName: name }));
            out.push(pass(`orgTrail.readerArns: ${arn}`));
          } catch (err) {
            if (errorName(err) === "NoSuchEntityException" || errorName(err) === "NoSuchEntity")
              out.push(fail(`orgTrail.readerArns: ${arn} does not exist`, `create the ${kind} ${name} in ${account}, or remove it from trailwatch:orgTrail.readerArns`));
            else out.push(warn(`orgTrail.readerArns: ${arn} not checked: ${describeError(err).split("\n")[0]}`, `check by hand: aws iam get-${kind} --${kind}-name ${name} (in ${account})`));
          }
        }),
        ...secrets.map(async ({ ref, key }) => {
          const region = secretRegion(ref, config.homeRegion);
          try {
            await ctx.aws.send(SecretsManagerClient, security, region, new DescribeSecretCommand({ SecretId: ref }));
            out.push(pass(`${key}: ${ref}`));
          } catch (err) {
            if (errorName(err) === "ResourceNotFoundException")
              out.push(fail(`${key}: secret ${ref} does not exist in the security account ${security} (${region})`, `in ${security}: aws secretsmanager create-secret --name ${ref} --secret-string '<value>' --region ${region}`));
            else out.push(warn(`${key}: secret ${ref} not checked: ${describeError(err).split("\n")[0]}`, `check by hand: aws secretsmanager describe-secret --secret-id ${ref} --region ${region} (in ${security})`));
          }
        }),
      ]);
      if (readers.length === 0 && secrets.length === 0) out.push(pass("config names no existing principal or secret"));
      return out.sort((a, b) => a.message.localeCompare(b.message));
    },
  },
  {
    id: "regions",
    title: "Configured regions are enabled in every account",
    // Opt-in regions must be enabled per account before anything can be deployed there.
    // https://docs.aws.amazon.com/accounts/latest/reference/API_ListRegions.html
    async run(ctx) {
      const accounts = await ctx.aws.touchedAccounts();
      const wanted = ctx.aws.forwarderRegions();
      const { results, unreachable } = await ctx.aws.eachPair(accounts, [ctx.config.homeRegion], (account) => enabledRegions(ctx, account));
      const out: Finding[] = [...unreachable];
      let ok = 0;
      for (const { account, value } of results) {
        const missing = wanted.filter((r) => !value.has(r));
        if (missing.length === 0) ok++;
        for (const r of missing)
          out.push(
            fail(
              `${account}: region ${r} is not enabled (trailwatch deploys there: trailwatch:regions${r === "us-east-1" ? ", forwarders always add us-east-1" : ""})`,
              `aws account enable-region --account-id ${account} --region-name ${r} (management account; takes minutes to hours), or remove ${r} from trailwatch:regions`,
            ),
          );
      }
      out.push(pass(`${ok} of ${accounts.length} accounts have ${wanted.join(", ")} enabled`));
      return out;
    },
  },
  {
    id: "quotas",
    title: "Quotas trailwatch comes close to",
    async run(ctx) {
      const out: Finding[] = [];
      const { config } = ctx;
      // EventBridge: 300 rules per event bus by default (100 in af-south-1 and eu-south-1), adjustable; 30 rules with
      // wildcard filters per bus, not adjustable. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
      const rulesPerBus = (region: string) => (["af-south-1", "eu-south-1"].includes(region) ? 100 : 300);
      const WILDCARD_RULES = 30;
      const streams = forwardedStreams({ changes: true });
      const added = streams.length + 1; // + the heartbeat rule
      const addedWildcard = streams.filter((s) => JSON.stringify(s.pattern).includes('"wildcard"')).length;
      if (config.features.eventBackbone) {
        const accounts = await ctx.aws.forwarderAccounts();
        const { results, unreachable } = await ctx.aws.eachPair(accounts, ctx.aws.forwarderRegions(), async (account, region) => {
          let n = 0;
          let wildcard = 0;
          let NextToken: string | undefined;
          do {
            const page = await ctx.aws.send<EventBridgeClient, { Rules?: { Name?: string; EventPattern?: string }[]; NextToken?: string }>(
              EventBridgeClient,
              account,
              region,
              new ListRulesCommand({ EventBusName: "default", NextToken, Limit: 100 }),
            );
            // trailwatch's own rules (a re-run after a deploy) are counted once, in `added`.
            const others = (page.Rules ?? []).filter((r) => !(r.Name ?? "").startsWith("trailwatch-"));
            n += others.length;
            wildcard += others.filter((r) => (r.EventPattern ?? "").includes('"wildcard"')).length;
            NextToken = page.NextToken;
          } while (NextToken);
          return { n, wildcard };
        });
        out.push(...unreachable);
        let ok = 0;
        for (const { account, region, value } of results) {
          const limit = rulesPerBus(region);
          const after = value.n + added;
          const fix = `request more in Service Quotas (Amazon EventBridge, "Maximum number of rules per event bus") for ${account} ${region}, or delete unused rules`;
          const problems: Finding[] = [];
          if (after > limit) problems.push(fail(`${account} ${region}: the default bus has ${value.n} rules, the forwarder adds ${added}: ${after} is over the default quota of ${limit}`, fix));
          else if (after > limit * 0.8) problems.push(warn(`${account} ${region}: the default bus will have ${after} of ${limit} rules (default quota)`, fix));
          if (value.wildcard + addedWildcard > WILDCARD_RULES)
            problems.push(
              fail(
                `${account} ${region}: the default bus has ${value.wildcard} rules with wildcard filters, the forwarder adds ${addedWildcard}: over the fixed limit of ${WILDCARD_RULES}`,
                `in ${account} ${region}: rewrite or delete ${value.wildcard + addedWildcard - WILDCARD_RULES} of the other wildcard rules (this quota cannot be raised)`,
              ),
            );
          if (problems.length === 0) ok++;
          out.push(...problems);
        }
        out.push(pass(`${ok} account/region default buses have room for the forwarder's ${added} rules`));
      }
      // StackSets: 1,000 stack sets per administrator account, 100,000 instances per stack set (defaults).
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
      const planned = plannedStackSets(config, ctx.stack);
      if (planned.length > 0) {
        const STACK_SETS = 1000;
        const INSTANCES = 100000;
        const existing: StackSetSummary[] = [];
        let NextToken: string | undefined;
        do {
          const page = await ctx.aws.send<CloudFormationClient, { Summaries?: StackSetSummary[]; NextToken?: string }>(
            CloudFormationClient,
            config.accounts.management,
            config.homeRegion,
            new ListStackSetsCommand({ Status: "ACTIVE", NextToken }),
          );
          existing.push(...(page.Summaries ?? []));
          NextToken = page.NextToken;
        } while (NextToken);
        const names = new Set(existing.map((s) => s.StackSetName));
        const after = existing.length + planned.filter((p) => !names.has(p.name)).length;
        const setFix = "request more in Service Quotas (AWS CloudFormation, \"Stack sets per administrator account\"), or delete unused stack sets";
        if (after > STACK_SETS) out.push(fail(`the management account has ${existing.length} stack sets, trailwatch adds ${after - existing.length}: over the default quota of ${STACK_SETS}`, setFix));
        else if (after > STACK_SETS * 0.8) out.push(warn(`the management account will have ${after} of ${STACK_SETS} stack sets`, setFix));
        else out.push(pass(`${after} of ${STACK_SETS} stack sets after pulumi up`));
        const members = (await ctx.aws.targetAccounts()).length;
        for (const p of planned) {
          const n = members * p.regions.length;
          const fix = `request more in Service Quotas (AWS CloudFormation, "Stack instances per stack set"), or narrow trailwatch:memberTargets / trailwatch:regions`;
          if (n > INSTANCES) out.push(fail(`${p.name}: ${members} accounts x ${p.regions.length} regions = ${n} stack instances, over the default quota of ${INSTANCES}`, fix));
          else if (n > INSTANCES * 0.8) out.push(warn(`${p.name}: ${n} of ${INSTANCES} stack instances`, fix));
        }
        out.push(pass(`largest stack set: ${Math.max(...planned.map((p) => members * p.regions.length))} of ${INSTANCES} instances`));
      }
      return out;
    },
  },
];

// ---- the command -------------------------------------------------------------------------------------------------

export interface RunIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Run preflight with these arguments; returns the exit code. */
export async function preflight(argv: string[], io: RunIo): Promise<number> {
  const started = Date.now();
  let ctx: PreflightContext | undefined;
  try {
    const args = parseCommonArgs(argv, USAGE);
    const { config } = await loadStack(args.stack, args.config);
    const aws = new AwsContext(config, args.stack, args.concurrency);
    try {
      const caller = await aws.caller();
      ctx = { aws, config, stack: args.stack, caller };
      const checks = await runChecks(preflightChecks, ctx);
      const report = buildReport("preflight", args.stack, checks, started);
      if (args.json) io.out(JSON.stringify(report) + "\n");
      else
        io.out(
          formatReport(
            report,
            `trailwatch preflight: stack ${args.stack}, organization ${config.organizationId}, ${(await aws.touchedAccounts()).length} accounts x ${aws.forwarderRegions().length} regions (${aws.calls} AWS calls, at most ${args.concurrency} at once)`,
          ),
        );
      return exitCode(report);
    } finally {
      aws.destroy();
    }
  } catch (err) {
    if (err instanceof StartError) {
      io.err(`preflight: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigProblems) {
      io.err(`preflight: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  // The SDK's notice about future Node versions would come between the checklist's lines; the README names Node 22.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  preflight(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`preflight: failed: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
