/**
 * GuardDutyOrg: GuardDuty for the whole organization, in every configured region (GuardDuty is regional).
 * The management account makes the security account the delegated administrator per region; the security account's
 * detector auto-enables every account (new ones too) with the configured protection plans, exports findings to a
 * KMS-encrypted bucket in the log-archive account, and forwards its findings (which include every member's) from each
 * region to the central bus, where FindingsRouter routes them by severity.
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_organizations.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policy, policyJson, type Statement } from "./iam";
import { accountKeyPolicy, customerKey } from "./kms";
import { secureBucket } from "./bucket";
import { TARGET_RETRY } from "./forwarderTemplate";
import type { OrgContext } from "./org";
import { transformed, type Transform } from "./transform";
import { GUARD_DUTY_DEFAULTS } from "./defaults";
import { GUARDDUTY_FINDING } from "../functions/findings/severity";
import { partitionOf } from "../functions/cloudtrail";

export type ProtectionPlan = "s3" | "eks" | "runtime" | "malware" | "rds" | "lambda";

/**
 * Protection plan -> GuardDuty feature name (and the additional configurations runtime monitoring needs to manage its
 * agents). https://docs.aws.amazon.com/guardduty/latest/APIReference/API_OrganizationFeatureConfiguration.html
 */
export { GUARD_DUTY_DEFAULTS };

export const PROTECTION_FEATURES: Record<ProtectionPlan, { feature: string; additional?: string[] }> = {
  s3: { feature: "S3_DATA_EVENTS" },
  eks: { feature: "EKS_AUDIT_LOGS" },
  runtime: { feature: "RUNTIME_MONITORING", additional: ["EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT"] },
  malware: { feature: "EBS_MALWARE_PROTECTION" },
  rds: { feature: "RDS_LOGIN_EVENTS" },
  lambda: { feature: "LAMBDA_NETWORK_LOGS" },
};

export interface GuardDutyOrgArgs {
  /**
   * The organization: the management account designates the security account as GuardDuty's delegated administrator
   * in each of `org.regions` (GuardDuty is regional); findings export to a bucket in the log-archive account (home region).
   */
  readonly org: OrgContext;
  /** The central bus findings are forwarded to. */
  readonly centralBusArn: pulumi.Input<string>;
  /** How often updated findings are published (new findings always within 5 minutes). @default "FIFTEEN_MINUTES" */
  readonly findingPublishingFrequency?: "FIFTEEN_MINUTES" | "ONE_HOUR" | "SIX_HOURS";
  /** Protection plans, each on or off for every account (new ones too). @default s3, eks, malware, rds, lambda on; runtime off */
  readonly protection?: Readonly<Record<ProtectionPlan, boolean>>;
  /** Days exported findings stay in the log-archive bucket. @default 365 */
  readonly findingsExpirationDays?: number;
  /**
   * The security account is GuardDuty's delegated administrator already, with its detectors (Landing Zone
   * Accelerator, an earlier setup): only forward its findings; no detector, designation, auto-enable, protection
   * plans or export bucket. @default false
   */
  readonly existingAdministrator?: boolean;
  /** Customize the children (components/transform.ts); the callback gets each child's name (`<name>-...-<region>`). */
  readonly transform?: {
    readonly detector?: Transform<aws.guardduty.DetectorArgs>;
    /** The forwarding role. */
    readonly role?: Transform<aws.iam.RoleArgs>;
    readonly rule?: Transform<aws.cloudwatch.EventRuleArgs>;
    readonly target?: Transform<aws.cloudwatch.EventTargetArgs>;
    /** The forwarding rules' dead-letter queues. */
    readonly queue?: Transform<aws.sqs.QueueArgs>;
    readonly key?: Transform<aws.kms.KeyArgs>;
    readonly bucket?: Transform<aws.s3.BucketArgs>;
  };
}

export class GuardDutyOrg extends pulumi.ComponentResource {
  readonly detectors: Record<string, aws.guardduty.Detector> = {};
  /** Unset with `existingAdministrator` (the export is the administrator's owner's). */
  readonly findingsBucket?: aws.s3.Bucket;
  readonly findingsKey?: aws.kms.Key;

  constructor(name: string, args: GuardDutyOrgArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:baseline:GuardDutyOrg", name, {}, opts);
    const { org } = args;
    const t = args.transform ?? {};
    const defaults = GUARD_DUTY_DEFAULTS;
    const security = org.accounts.security;
    const partition = partitionOf(org.homeRegion);
    const archive = { parent: this, provider: org.provider("logArchive") };
    const detectorArns = `arn:${partition}:guardduty:*:${security}:detector/*`;
    const fromDetectors = { StringEquals: { "aws:SourceAccount": security }, ArnLike: { "aws:SourceArn": detectorArns } };

    // ---- forwarding: the security account's findings (every member's) from each region to the central bus ------------
    const secHome = { parent: this, provider: org.provider("security") };
    const forwarderRole = new aws.iam.Role(
      ...transformed(
        t.role,
        `${name}-forwarder`,
        {
          description: "EventBridge forwards GuardDuty findings from every region to the trailwatch central bus",
          assumeRolePolicy: policyJson(
            policy({ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": security } } }),
          ),
        },
        secHome,
      ),
    );
    new aws.iam.RolePolicy(
      `${name}-forwarder`,
      { role: forwarderRole.id, policy: policyJson(policy({ Sid: "PutOnCentralBus", Effect: "Allow", Action: "events:PutEvents", Resource: args.centralBusArn })) },
      secHome,
    );
    for (const region of org.regions) {
      const sec = { parent: this, provider: org.provider("security", region) };
      const rule = new aws.cloudwatch.EventRule(
        ...transformed(
          t.rule,
          `${name}-findings-${region}`,
          { description: "trailwatch: GuardDuty findings of the organization to the central bus", eventPattern: JSON.stringify(GUARDDUTY_FINDING) },
          sec,
        ),
      );
      // Findings the central bus could not take after retries wait here instead of being dropped (a DLQ lives in the
      // rule's region). https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
      const dlq = new aws.sqs.Queue(...transformed(t.queue, `${name}-findings-dlq-${region}`, { sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 }, sec));
      new aws.sqs.QueuePolicy(
        `${name}-findings-dlq-${region}`,
        {
          queueUrl: dlq.url,
          policy: policyJson(
            policy({ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: dlq.arn, Condition: { ArnEquals: { "aws:SourceArn": rule.arn } } }),
          ),
        },
        sec,
      );
      new aws.cloudwatch.EventTarget(
        ...transformed(
          t.target,
          `${name}-findings-${region}`,
          { rule: rule.name, arn: args.centralBusArn, roleArn: forwarderRole.arn, deadLetterConfig: { arn: dlq.arn }, retryPolicy: TARGET_RETRY },
          sec,
        ),
      );
    }
    // An administrator that exists already (Landing Zone Accelerator, an earlier setup): its detectors, auto-enable,
    // protection plans and export stay its owner's; trailwatch only forwards. A second detector in the account cannot
    // be created (one detector per account and region), and a designation trailwatch does not own it must not destroy.
    // https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_organizations.html
    if (args.existingAdministrator ?? defaults.existingAdministrator) {
      this.registerOutputs({ detectors: {} });
      return;
    }

    // ---- findings export (log-archive account, home region) ---------------------------------------------------------
    // https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_exportfindings.html
    const keyStatements: Statement[] = [
      { Sid: "GuardDutyEncryptsFindings", Effect: "Allow", Principal: { Service: "guardduty.amazonaws.com" }, Action: "kms:GenerateDataKey", Resource: "*", Condition: fromDetectors },
    ];
    this.findingsKey = customerKey(
      `${name}-findings-key`,
      { description: "trailwatch GuardDuty findings export", policy: accountKeyPolicy(org.accounts.logArchive, org.homeRegion, [], keyStatements), transform: t.key },
      archive,
    );
    const findings = secureBucket(
      `${name}-findings`,
      { encryption: this.findingsKey.arn, expirationDays: args.findingsExpirationDays ?? defaults.findingsExpirationDays, noncurrentVersionExpirationDays: 30, transform: t.bucket },
      archive,
    );
    this.findingsBucket = findings.bucket;
    const bucketArn = this.findingsBucket.arn;
    const bucketPolicy = new aws.s3.BucketPolicy(
      `${name}-findings-policy`,
      {
        bucket: this.findingsBucket.id,
        policy: policyJson(
          policy(
            { Sid: "GuardDutyLocatesBucket", Effect: "Allow", Principal: { Service: "guardduty.amazonaws.com" }, Action: "s3:GetBucketLocation", Resource: bucketArn, Condition: fromDetectors },
            { Sid: "GuardDutyWritesFindings", Effect: "Allow", Principal: { Service: "guardduty.amazonaws.com" }, Action: "s3:PutObject", Resource: pulumi.interpolate`${bucketArn}/*`, Condition: fromDetectors },
            {
              Sid: "DenyUnencryptedFindings",
              Effect: "Deny",
              Principal: { Service: "guardduty.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${bucketArn}/*`,
              Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
            },
            {
              Sid: "DenyOtherKeys",
              Effect: "Deny",
              Principal: { Service: "guardduty.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${bucketArn}/*`,
              Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": this.findingsKey.arn } },
            },
            denyInsecureTransport([bucketArn, pulumi.interpolate`${bucketArn}/*`]),
          ),
        ),
      },
      { ...archive, dependsOn: findings.ready },
    );

    // ---- per region: delegated admin, detector, org auto-enable, protection plans, export ---------------------------
    const protection = args.protection ?? defaults.protection;
    for (const region of org.regions) {
      const mgmt = { parent: this, provider: org.provider("management", region) };
      const sec = { parent: this, provider: org.provider("security", region) };
      // The administrator's detector first: designating an account without one makes GuardDuty create a detector
      // there itself, which this program could then not create (it would already exist).
      const detector = new aws.guardduty.Detector(
        ...transformed(t.detector, `${name}-detector-${region}`, { enable: true, findingPublishingFrequency: args.findingPublishingFrequency ?? defaults.findingPublishingFrequency }, sec),
      );
      const admin = new aws.guardduty.OrganizationAdminAccount(`${name}-admin-${region}`, { adminAccountId: security }, { ...mgmt, dependsOn: [detector] });
      this.detectors[region] = detector;
      new aws.guardduty.OrganizationConfiguration(
        `${name}-org-${region}`,
        { detectorId: detector.id, autoEnableOrganizationMembers: "ALL" },
        { ...sec, dependsOn: [admin] },
      );
      for (const [plan, { feature, additional }] of Object.entries(PROTECTION_FEATURES) as [ProtectionPlan, (typeof PROTECTION_FEATURES)[ProtectionPlan]][]) {
        const on = protection[plan];
        new aws.guardduty.OrganizationConfigurationFeature(
          `${name}-${plan}-${region}`,
          {
            detectorId: detector.id,
            name: feature,
            autoEnable: on ? "ALL" : "NONE",
            additionalConfigurations: additional?.map((a) => ({ name: a, autoEnable: on ? "ALL" : "NONE" })),
          },
          { ...sec, dependsOn: [admin] },
        );
        // The administrator's own detector is not an organization member: its plans are set directly.
        new aws.guardduty.DetectorFeature(
          `${name}-${plan}-admin-${region}`,
          { detectorId: detector.id, name: feature, status: on ? "ENABLED" : "DISABLED", additionalConfigurations: additional?.map((a) => ({ name: a, status: on ? "ENABLED" : "DISABLED" })) },
          sec,
        );
      }
      new aws.guardduty.PublishingDestination(
        `${name}-export-${region}`,
        { detectorId: detector.id, destinationArn: bucketArn, kmsKeyArn: this.findingsKey.arn, destinationType: "S3" },
        { ...sec, dependsOn: [bucketPolicy] },
      );
    }
    this.registerOutputs({ findingsBucket: findings.bucket.id, detectors: Object.fromEntries(Object.entries(this.detectors).map(([r, d]) => [r, d.id])) });
  }
}
