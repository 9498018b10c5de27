/**
 * ConfigAggregation: AWS Config recording in every account and region, organization rules and conformance packs,
 * and an organization aggregator in the security account (the delegated administrator).
 * - Members: a SERVICE_MANAGED StackSet (components/configRecorderTemplate.ts), home region first (it holds the role);
 * - the management account: the same resources directly (StackSets never deploy to it);
 * - the central bucket and its key in the log-archive account; deliveries allowed for this organization only.
 * Non-compliance events reach the central bus through the forwarders; FindingsRouter routes them.
 */
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policy, policyJson, serviceTrust, useKey, type Statement } from "./iam";
import { accountKeyPolicy, customerKey } from "./kms";
import { secureBucket } from "./bucket";
import { organizationStackSet, type OrgContext } from "./org";
import { transformed, type Transform } from "./transform";
import { CONFIG_AGGREGATION_DEFAULTS } from "./defaults";
import { CONFIG_MANAGED_POLICY, CONFIG_RECORDER_ROLE, configRecorderTemplate } from "./configRecorderTemplate";
import { partitionOf } from "../functions/cloudtrail";

export { CONFIG_AGGREGATION_DEFAULTS };

/** An AWS managed rule deployed as an organization Config rule. */
export interface OrgRule {
  /** The rule's name in every account. @example "restricted-ssh" */
  readonly name: string;
  /** The AWS managed rule's identifier. @example "INCOMING_SSH_DISABLED" */
  readonly identifier: string;
  /** The managed rule's parameters. */
  readonly inputParameters?: Readonly<Record<string, string>>;
  /** Accounts the rule is not deployed to. */
  readonly excludedAccounts: readonly string[];
  /** Evaluated in the home region only (account-level checks such as root MFA). */
  readonly global: boolean;
}

/** An organization conformance pack from a template shipped with trailwatch. */
export interface ConformancePack {
  /** The pack's name in every account. */
  readonly name: string;
  /** A template shipped in components/conformancePacks/<template>.yaml. @example "security-services" */
  readonly template: string;
  /** Accounts the pack is not deployed to. */
  readonly excludedAccounts: readonly string[];
}

export interface ConfigAggregationArgs {
  /**
   * The organization: trusted access from the management account, the security account as delegated administrator
   * (rules, packs, aggregator), the bucket in the log-archive account, recorders in `org.regions` of every account
   * under `org.memberTargets` (StackSet, `org.stackSetPreferences`) and of the management account (directly).
   */
  readonly org: OrgContext;
  /** Organization rules deployed in every region (or the home region only, `global`). */
  readonly rules: readonly OrgRule[];
  /** Organization conformance packs deployed in every region. */
  readonly conformancePacks: readonly ConformancePack[];
  /** Regions the aggregator collects from: "all" (new regions included) or a list. @default "all" */
  readonly aggregatorRegions?: "all" | readonly string[];
  /** How often Config delivers configuration snapshots. @default "TwentyFour_Hours" */
  readonly snapshotFrequency?: string;
  /** Days configuration history and snapshots stay in the central bucket. @default 365 */
  readonly bucketExpirationDays?: number;
  /**
   * Beside Control Tower / Landing Zone Accelerator, which may own parts of Config already (docs/deploy.md):
   * `delegatedAdministrator: false` = trusted access and the security account's delegated administration exist
   * already (creating them again fails, and destroying them would break the owner); `memberRecorders` /
   * `managementRecorders: false` = those accounts record already (one recorder per account and region: a second one
   * fails); `aggregator: false` = an organization aggregator exists. @default every part true (trailwatch creates it)
   */
  readonly create?: { readonly delegatedAdministrator?: boolean; readonly memberRecorders?: boolean; readonly managementRecorders?: boolean; readonly aggregator?: boolean };
  /** Customize the children (components/transform.ts); the callback gets each child's name. */
  readonly transform?: {
    readonly key?: Transform<aws.kms.KeyArgs>;
    readonly bucket?: Transform<aws.s3.BucketArgs>;
    readonly stackSet?: Transform<aws.cloudformation.StackSetArgs>;
    readonly instances?: Transform<aws.cloudformation.StackInstancesArgs>;
    /** The management account's recorder role and the aggregator's role. */
    readonly role?: Transform<aws.iam.RoleArgs>;
    readonly recorder?: Transform<aws.cfg.RecorderArgs>;
    readonly rule?: Transform<aws.cfg.OrganizationManagedRuleArgs>;
    readonly conformancePack?: Transform<aws.cfg.OrganizationConformancePackArgs>;
    readonly aggregator?: Transform<aws.cfg.ConfigurationAggregatorArgs>;
  };
}

export function conformancePackTemplate(template: string): string {
  return fs.readFileSync(path.join(__dirname, "conformancePacks", `${template}.yaml`), "utf8");
}

export class ConfigAggregation extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly key: aws.kms.Key;
  /** Unset when member accounts record already (`create.memberRecorders: false`). */
  readonly stackSet?: aws.cloudformation.StackSet;
  /** Unset when an organization aggregator exists already (`create.aggregator: false`). */
  readonly aggregator?: aws.cfg.ConfigurationAggregator;

  constructor(name: string, args: ConfigAggregationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:baseline:ConfigAggregation", name, {}, opts);
    const { org } = args;
    const t = args.transform ?? {};
    const { management: managementAccountId, security: securityAccountId, logArchive: logArchiveAccountId } = org.accounts;
    const home = org.homeRegion;
    const snapshotFrequency = args.snapshotFrequency ?? CONFIG_AGGREGATION_DEFAULTS.snapshotFrequency;
    const partition = partitionOf(home);
    const mgmtHome = { parent: this, provider: org.provider("management", home) };
    const secHome = { parent: this, provider: org.provider("security", home) };
    const archive = { parent: this, provider: org.provider("logArchive") };
    const create = { delegatedAdministrator: true, memberRecorders: true, managementRecorders: true, aggregator: true, ...args.create };

    // ---- trusted access and delegated administration (management account) -----------------------------------------
    // https://docs.aws.amazon.com/config/latest/developerguide/set-up-aggregator-cli.html#register-a-delegated-administrator-cli
    const prerequisites: pulumi.Resource[] = [];
    for (const principal of create.delegatedAdministrator ? ["config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"] : []) {
      const id = principal.split(".")[0];
      const access = new aws.organizations.AwsServiceAccess(`${name}-trusted-${id}`, { servicePrincipal: principal }, mgmtHome);
      prerequisites.push(
        new aws.organizations.DelegatedAdministrator(
          `${name}-delegated-${id}`,
          { accountId: securityAccountId, servicePrincipal: principal },
          { ...mgmtHome, dependsOn: [access] },
        ),
      );
    }

    // ---- central bucket and key (log-archive account) --------------------------------------------------------------
    // Config delivers with the recorder role, or as config.amazonaws.com when the role cannot: both allowed, for this
    // organization only. https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html
    const recorderRoles = { StringEquals: { "aws:PrincipalOrgID": org.organizationId }, ArnLike: { "aws:PrincipalArn": [`arn:${partition}:iam::*:role/${CONFIG_RECORDER_ROLE}`, `arn:${partition}:iam::*:role/${CONFIG_RECORDER_ROLE}-*`] } };
    const configService = { StringEquals: { "aws:SourceOrgID": org.organizationId } };
    this.key = customerKey(
      `${name}-key`,
      {
        description: "trailwatch AWS Config deliveries",
        policy: accountKeyPolicy(logArchiveAccountId, home, [], [
          { Sid: "ConfigServiceEncrypts", Effect: "Allow", Principal: { Service: "config.amazonaws.com" }, Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: "*", Condition: configService },
          { Sid: "RecorderRolesEncrypt", Effect: "Allow", Principal: { AWS: "*" }, Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: "*", Condition: recorderRoles },
        ]),
        transform: t.key,
      },
      archive,
    );
    const central = secureBucket(
      `${name}-bucket`,
      { encryption: this.key.arn, expirationDays: args.bucketExpirationDays ?? CONFIG_AGGREGATION_DEFAULTS.bucketExpirationDays, noncurrentVersionExpirationDays: 30, transform: t.bucket },
      archive,
    );
    this.bucket = central.bucket;
    const arn = this.bucket.arn;
    const deliveries = pulumi.interpolate`${arn}/AWSLogs/*/Config/*`;
    const writers = (sid: string, principal: Statement["Principal"], condition: Statement["Condition"]): Statement[] => [
      { Sid: `${sid}AclCheck`, Effect: "Allow", Principal: principal, Action: ["s3:GetBucketAcl", "s3:ListBucket"], Resource: arn, Condition: condition },
      {
        Sid: `${sid}Delivery`,
        Effect: "Allow",
        Principal: principal,
        Action: "s3:PutObject",
        Resource: deliveries,
        Condition: { ...condition, StringEquals: { ...(condition?.StringEquals ?? {}), "s3:x-amz-acl": "bucket-owner-full-control" } },
      },
    ];
    const bucketPolicy = new aws.s3.BucketPolicy(
      `${name}-bucket-policy`,
      {
        bucket: this.bucket.id,
        policy: policyJson(
          policy(
            ...writers("ConfigService", { Service: "config.amazonaws.com" }, configService),
            ...writers("RecorderRoles", { AWS: "*" }, recorderRoles),
            denyInsecureTransport([arn, pulumi.interpolate`${arn}/*`]),
          ),
        ),
      },
      { ...archive, dependsOn: central.ready },
    );

    // ---- recorders: members through the StackSet, the management account directly ---------------------------------
    const otherRegions = org.regions.filter((r) => r !== home).sort();
    const recorders = !create.memberRecorders
      ? undefined
      : organizationStackSet(
          name,
          {
            stackSetName: "config",
            description: "trailwatch: AWS Config recorder and delivery channel in every member account and region",
            template: configRecorderTemplate(),
            parameters: { BucketName: this.bucket.id, KmsKeyArn: this.key.arn, HomeRegion: home, SnapshotFrequency: snapshotFrequency },
            targets: org.memberTargets,
            regions: [home, ...otherRegions],
            preferences: org.stackSetPreferences,
            // Each region's stack has its own role (configRecorderTemplate); the home region still goes first.
            regionOrder: { type: "SEQUENTIAL", regions: [home, ...otherRegions] },
            transform: { stackSet: t.stackSet, instances: t.instances },
          },
          { ...mgmtHome, dependsOn: [bucketPolicy] },
        );
    this.stackSet = recorders?.stackSet;
    const instances = recorders?.instances;

    const mgmtRole = !create.managementRecorders ? undefined : new aws.iam.Role(
      ...transformed(
        t.role,
        `${name}-recorder`,
        {
          name: CONFIG_RECORDER_ROLE,
          description: "AWS Config records resources and delivers them to the trailwatch central bucket",
          assumeRolePolicy: serviceTrust("config.amazonaws.com", managementAccountId),
          managedPolicyArns: [`arn:${partition}:iam::aws:policy/${CONFIG_MANAGED_POLICY}`],
        },
        mgmtHome,
      ),
    );
    const deliveryPolicy = !mgmtRole ? undefined : new aws.iam.RolePolicy(
      `${name}-recorder-delivery`,
      {
        role: mgmtRole.id,
        policy: policyJson(
          policy(
            { Sid: "DeliverToCentralBucket", Effect: "Allow", Action: "s3:PutObject", Resource: pulumi.interpolate`${arn}/AWSLogs/${managementAccountId}/Config/*` },
            { Sid: "CheckCentralBucket", Effect: "Allow", Action: "s3:GetBucketAcl", Resource: arn },
            useKey(this.key.arn, "EncryptDeliveries"),
          ),
        ),
      },
      mgmtHome,
    );
    const recording: pulumi.Resource[] = instances ? [instances] : [];
    for (const region of mgmtRole ? [home, ...otherRegions] : []) {
      const mgmt = { parent: this, provider: org.provider("management", region) };
      const recorder = new aws.cfg.Recorder(
        ...transformed(
          t.recorder,
          `${name}-recorder-${region}`,
          { name: "trailwatch", roleArn: mgmtRole!.arn, recordingGroup: { allSupported: true, includeGlobalResourceTypes: region === home } },
          mgmt,
        ),
      );
      const channel = new aws.cfg.DeliveryChannel(
        `${name}-channel-${region}`,
        { name: "trailwatch", s3BucketName: this.bucket.id, s3KmsKeyArn: this.key.arn, snapshotDeliveryProperties: { deliveryFrequency: snapshotFrequency } },
        // PutDeliveryChannel checks the role may write the bucket: wait for that policy, not for the provider to retry.
        // https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html
        { ...mgmt, dependsOn: [recorder, bucketPolicy, deliveryPolicy!] },
      );
      recording.push(new aws.cfg.RecorderStatus(`${name}-recording-${region}`, { name: recorder.name, isEnabled: true }, { ...mgmt, dependsOn: [channel] }));
    }

    // ---- organization rules and conformance packs (security account, delegated administrator) ----------------------
    for (const region of [home, ...otherRegions]) {
      const sec = { parent: this, provider: org.provider("security", region), dependsOn: [...prerequisites, ...recording] };
      for (const rule of args.rules) {
        if (rule.global && region !== home) continue;
        new aws.cfg.OrganizationManagedRule(
          ...transformed(
            t.rule,
            `${name}-rule-${rule.name}-${region}`,
            {
              name: rule.name,
              ruleIdentifier: rule.identifier,
              inputParameters: rule.inputParameters ? JSON.stringify(rule.inputParameters) : undefined,
              excludedAccounts: rule.excludedAccounts.length > 0 ? [...rule.excludedAccounts] : undefined,
            },
            sec,
          ),
        );
      }
      for (const pack of args.conformancePacks)
        new aws.cfg.OrganizationConformancePack(
          ...transformed(
            t.conformancePack,
            `${name}-pack-${pack.name}-${region}`,
            { name: pack.name, templateBody: conformancePackTemplate(pack.template), excludedAccounts: pack.excludedAccounts.length > 0 ? [...pack.excludedAccounts] : undefined },
            sec,
          ),
        );
    }

    // ---- the organization aggregator (security account) ------------------------------------------------------------
    const aggregatorRole = !create.aggregator ? undefined : new aws.iam.Role(
      ...transformed(
        t.role,
        `${name}-aggregator`,
        {
          description: "AWS Config reads the organization's accounts for the trailwatch aggregator",
          assumeRolePolicy: serviceTrust("config.amazonaws.com", securityAccountId),
          managedPolicyArns: [`arn:${partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations`],
        },
        secHome,
      ),
    );
    const aggregatorRegions = args.aggregatorRegions ?? CONFIG_AGGREGATION_DEFAULTS.aggregatorRegions;
    this.aggregator = !aggregatorRole ? undefined : new aws.cfg.ConfigurationAggregator(
      ...transformed(
        t.aggregator,
        `${name}-aggregator`,
        {
          name: `trailwatch-${pulumi.getStack()}-organization`,
          organizationAggregationSource:
            aggregatorRegions === "all" ? { allRegions: true, roleArn: aggregatorRole.arn } : { regions: [...aggregatorRegions], roleArn: aggregatorRole.arn },
        },
        { ...secHome, dependsOn: prerequisites },
      ),
    );
    this.registerOutputs({ bucket: this.bucket.id, aggregator: this.aggregator?.arn, stackSet: this.stackSet?.name });
  }
}
