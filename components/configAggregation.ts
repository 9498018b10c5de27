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
import { denyInsecureTransport, policy, policyJson, serviceTrust, type Statement } from "./iam";
import { accountKeyPolicy } from "./kms";
import { secureBucket } from "./bucket";
import { CONFIG_MANAGED_POLICY, CONFIG_RECORDER_ROLE, configRecorderTemplate } from "./configRecorderTemplate";
import { partitionOf } from "../functions/cloudtrail";

export interface OrgRule {
  name: string;
  identifier: string;
  inputParameters?: Record<string, string>;
  excludedAccounts: string[];
  /** Evaluated in the home region only (account-level checks such as root MFA). */
  global: boolean;
}

export interface ConformancePack {
  name: string;
  /** A template shipped in components/conformancePacks/<template>.yaml. */
  template: string;
  excludedAccounts: string[];
}

export interface ConfigAggregationArgs {
  organizationId: string;
  managementAccountId: string;
  securityAccountId: string;
  logArchiveAccountId: string;
  homeRegion: string;
  regions: string[];
  memberTargets: string[];
  rules: OrgRule[];
  conformancePacks: ConformancePack[];
  aggregatorRegions: "all" | string[];
  snapshotFrequency: string;
  bucketExpirationDays: number;
  failureTolerancePercentage: number;
  maxConcurrentPercentage: number;
  /**
   * Beside Control Tower / Landing Zone Accelerator, which may own parts of Config already (docs/deploy.md):
   * `delegatedAdministrator: false` = trusted access and the security account's delegated administration exist
   * already (creating them again fails, and destroying them would break the owner); `memberRecorders` /
   * `managementRecorders: false` = those accounts record already (one recorder per account and region: a second one
   * fails); `aggregator: false` = an organization aggregator exists. Unset = true (trailwatch creates it).
   */
  create?: { delegatedAdministrator?: boolean; memberRecorders?: boolean; managementRecorders?: boolean; aggregator?: boolean };
  providers: {
    management: (region: string) => aws.Provider;
    security: (region: string) => aws.Provider;
    logArchive: aws.Provider;
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
    const home = args.homeRegion;
    const partition = partitionOf(home);
    const mgmtHome = { parent: this, provider: args.providers.management(home) };
    const secHome = { parent: this, provider: args.providers.security(home) };
    const archive = { parent: this, provider: args.providers.logArchive };
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
          { accountId: args.securityAccountId, servicePrincipal: principal },
          { ...mgmtHome, dependsOn: [access] },
        ),
      );
    }

    // ---- central bucket and key (log-archive account) --------------------------------------------------------------
    // Config delivers with the recorder role, or as config.amazonaws.com when the role cannot: both allowed, for this
    // organization only. https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html
    const recorderRoles = { StringEquals: { "aws:PrincipalOrgID": args.organizationId }, ArnLike: { "aws:PrincipalArn": [`arn:${partition}:iam::*:role/${CONFIG_RECORDER_ROLE}`, `arn:${partition}:iam::*:role/${CONFIG_RECORDER_ROLE}-*`] } };
    const configService = { StringEquals: { "aws:SourceOrgID": args.organizationId } };
    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "trailwatch AWS Config deliveries",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyJson(
          accountKeyPolicy(args.logArchiveAccountId, home, [], [
            { Sid: "ConfigServiceEncrypts", Effect: "Allow", Principal: { Service: "config.amazonaws.com" }, Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: "*", Condition: configService },
            { Sid: "RecorderRolesEncrypt", Effect: "Allow", Principal: { AWS: "*" }, Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: "*", Condition: recorderRoles },
          ]),
        ),
      },
      archive,
    );
    const central = secureBucket(
      `${name}-bucket`,
      { encryption: this.key.arn, expirationDays: args.bucketExpirationDays, noncurrentVersionExpirationDays: 30 },
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
    const otherRegions = args.regions.filter((r) => r !== home).sort();
    const operationPreferences = {
      failureTolerancePercentage: args.failureTolerancePercentage,
      maxConcurrentPercentage: args.maxConcurrentPercentage,
      // Each region's stack has its own role (configRecorderTemplate); the home region still goes first.
      regionConcurrencyType: "SEQUENTIAL",
      regionOrders: [home, ...otherRegions],
    };
    this.stackSet = !create.memberRecorders ? undefined : new aws.cloudformation.StackSet(
      `${name}-stackset`,
      {
        name: `trailwatch-${pulumi.getStack()}-config`,
        description: "trailwatch: AWS Config recorder and delivery channel in every member account and region",
        permissionModel: "SERVICE_MANAGED",
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        capabilities: ["CAPABILITY_NAMED_IAM"],
        templateBody: JSON.stringify(configRecorderTemplate()),
        parameters: { BucketName: this.bucket.id, KmsKeyArn: this.key.arn, HomeRegion: home, SnapshotFrequency: args.snapshotFrequency },
        operationPreferences,
        managedExecution: { active: true },
      },
      { ...mgmtHome, dependsOn: [bucketPolicy], ignoreChanges: ["administrationRoleArn"] },
    );
    const instances = !this.stackSet ? undefined : new aws.cloudformation.StackInstances(
      `${name}-instances`,
      { stackSetName: this.stackSet.name, deploymentTargets: { organizationalUnitIds: args.memberTargets }, regions: [home, ...otherRegions], operationPreferences },
      mgmtHome,
    );

    const mgmtRole = !create.managementRecorders ? undefined : new aws.iam.Role(
      `${name}-recorder`,
      {
        name: CONFIG_RECORDER_ROLE,
        description: "AWS Config records resources and delivers them to the trailwatch central bucket",
        assumeRolePolicy: serviceTrust("config.amazonaws.com", args.managementAccountId),
        managedPolicyArns: [`arn:${partition}:iam::aws:policy/${CONFIG_MANAGED_POLICY}`],
      },
      mgmtHome,
    );
    const deliveryPolicy = !mgmtRole ? undefined : new aws.iam.RolePolicy(
      `${name}-recorder-delivery`,
      {
        role: mgmtRole.id,
        policy: policyJson(
          policy(
            { Sid: "DeliverToCentralBucket", Effect: "Allow", Action: "s3:PutObject", Resource: pulumi.interpolate`${arn}/AWSLogs/${args.managementAccountId}/Config/*` },
            { Sid: "CheckCentralBucket", Effect: "Allow", Action: "s3:GetBucketAcl", Resource: arn },
            { Sid: "EncryptDeliveries", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: this.key.arn },
          ),
        ),
      },
      mgmtHome,
    );
    const recording: pulumi.Resource[] = instances ? [instances] : [];
    for (const region of mgmtRole ? [home, ...otherRegions] : []) {
      const mgmt = { parent: this, provider: args.providers.management(region) };
      const recorder = new aws.cfg.Recorder(
        `${name}-recorder-${region}`,
        { name: "trailwatch", roleArn: mgmtRole!.arn, recordingGroup: { allSupported: true, includeGlobalResourceTypes: region === home } },
        mgmt,
      );
      const channel = new aws.cfg.DeliveryChannel(
        `${name}-channel-${region}`,
        { name: "trailwatch", s3BucketName: this.bucket.id, s3KmsKeyArn: this.key.arn, snapshotDeliveryProperties: { deliveryFrequency: args.snapshotFrequency } },
        // PutDeliveryChannel checks the role may write the bucket: wait for that policy, not for the provider to retry.
        // https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html
        { ...mgmt, dependsOn: [recorder, bucketPolicy, deliveryPolicy!] },
      );
      recording.push(new aws.cfg.RecorderStatus(`${name}-recording-${region}`, { name: recorder.name, isEnabled: true }, { ...mgmt, dependsOn: [channel] }));
    }

    // ---- organization rules and conformance packs (security account, delegated administrator) ----------------------
    for (const region of [home, ...otherRegions]) {
      const sec = { parent: this, provider: args.providers.security(region), dependsOn: [...prerequisites, ...recording] };
      for (const rule of args.rules) {
        if (rule.global && region !== home) continue;
        new aws.cfg.OrganizationManagedRule(
          `${name}-rule-${rule.name}-${region}`,
          {
            name: rule.name,
            ruleIdentifier: rule.identifier,
            inputParameters: rule.inputParameters ? JSON.stringify(rule.inputParameters) : undefined,
            excludedAccounts: rule.excludedAccounts.length > 0 ? rule.excludedAccounts : undefined,
          },
          sec,
        );
      }
      for (const pack of args.conformancePacks)
        new aws.cfg.OrganizationConformancePack(
          `${name}-pack-${pack.name}-${region}`,
          { name: pack.name, templateBody: conformancePackTemplate(pack.template), excludedAccounts: pack.excludedAccounts.length > 0 ? pack.excludedAccounts : undefined },
          sec,
        );
    }

    // ---- the organization aggregator (security account) ------------------------------------------------------------
    const aggregatorRole = !create.aggregator ? undefined : new aws.iam.Role(
      `${name}-aggregator`,
      {
        description: "AWS Config reads the organization's accounts for the trailwatch aggregator",
        assumeRolePolicy: serviceTrust("config.amazonaws.com", args.securityAccountId),
        managedPolicyArns: [`arn:${partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations`],
      },
      secHome,
    );
    this.aggregator = !aggregatorRole ? undefined : new aws.cfg.ConfigurationAggregator(
      `${name}-aggregator`,
      {
        name: `trailwatch-${pulumi.getStack()}-organization`,
        organizationAggregationSource:
          args.aggregatorRegions === "all" ? { allRegions: true, roleArn: aggregatorRole.arn } : { regions: args.aggregatorRegions, roleArn: aggregatorRole.arn },
      },
      { ...secHome, dependsOn: prerequisites },
    );
    this.registerOutputs({ bucket: this.bucket.id, aggregator: this.aggregator?.arn, stackSet: this.stackSet?.name });
  }
}
