/**
 * The whole stack config, one zod schema. Read through `pulumi.Config` (namespace `trailwatch`), validated before
 * any resource is declared; every problem is reported at once, each naming the key, what was expected and what
 * was found.
 *
 * Structured values (objects, lists) arrive from Pulumi as JSON strings; `parseStackConfig` takes that raw map so
 * it can be tested without the Pulumi runtime.
 */
import { z } from "zod";
import { LOG_RETENTION_DAYS, accountId, logRetention, secretRef, uniqueList } from "./schemaParts";
import { BUILTIN_ROW_IDS, ELEVATED_ROLE_ROW_ID, checkPattern, elevatedRoleRow } from "../functions/trailAlarms";
import { changeFeedConfig } from "./changeFeedConfig";
import { EVENT_PATTERN_MAX_CHARS } from "../functions/eventPattern";
import { writeCallsPattern } from "../functions/patterns";
import { CENTRAL_EVENT_BUS_DEFAULTS, CONFIG_AGGREGATION_DEFAULTS, GUARD_DUTY_DEFAULTS, ORG_TRAIL_DEFAULTS, STACK_SET_DEFAULTS, FINDINGS_ROUTER_DEFAULTS } from "../components/defaults";
import type { DeployedCoverage } from "../functions/coverage";
import { DENY_ADVISOR_DEFAULTS, SG_REVERT_BOT_DEFAULTS, SCP_WATCH_DEFAULTS } from "../components/defaults";

export const NAMESPACE = "trailwatch";

// ---- value formats ----------------------------------------------------------------------------------------------

/** Commercial, GovCloud and China partitions' region names (e.g. eu-west-1, us-gov-west-1, cn-north-1). */
const region = z
  .string()
  .regex(
    /^(us|eu|ap|sa|ca|me|af|il|mx|cn)-(gov-|iso-|isob-)?(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d{1,2}$/,
    "an AWS region name such as eu-west-1",
  );
const organizationId = z.string().regex(/^o-[a-z0-9]{10,32}$/, "an organization id such as o-a1b2c3d4e5");
const orgTarget = z
  .string()
  .regex(/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/, "an organization root id (r-...) or OU id (ou-...-...)");
const roleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, "an IAM role name (1-64 of letters, digits and +=,.@_-)");
const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/, "an IAM role ARN");
const slackChannel = z.string().regex(/^[CG][A-Z0-9]{8,12}$/, "a Slack channel id such as C0123ABCD45");
const slackUser = z.string().regex(/^[UW][A-Z0-9]{8,12}$/, "a Slack user id such as U0123ABCD45");
const slackUserGroup = z.string().regex(/^S[A-Z0-9]{8,12}$/, "a Slack user group id such as S0123ABCD45");
const email = z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an email address");
const days = (max: number) => z.number().int("a whole number of days").min(1).max(max);

export { LOG_RETENTION_DAYS };


// ---- sections ---------------------------------------------------------------------------------------------------

const accounts = z
  .object({
    /** The organization's management account: Organizations, trusted access, StackSets, the org trail. */
    management: accountId,
    /** The security tooling account: the central bus, bots, GuardDuty / Config delegated administrator. */
    security: accountId,
    /** The log archive account: trail and findings buckets. */
    logArchive: accountId,
  })
  .strict()
  .superRefine((a, ctx) => {
    // GuardDuty and Config cannot delegate administration to the management account.
    // https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_organizations.html
    if (a.security === a.management)
      ctx.addIssue({
        code: "custom",
        path: ["security"],
        message: `an account other than the management account (delegated administrators cannot be the management account), found "${a.security}"`,
        input: a.security,
      });
  });

const deployment = z
  .object({
    /** Role assumed in the security, log-archive and member accounts. */
    roleName: roleName.default("OrganizationAccountAccessRole"),
    /** Role assumed in the management account; unset = the deploying credentials are the management account's. */
    managementRoleArn: roleArn.optional(),
    /**
     * Preview mode (TRAILWATCH_MODE=preview, set by the pull-request workflow): every provider, the management
     * account's too, assumes this read-only role instead, so `pulumi preview` of untrusted code never holds deploy
     * credentials. The role and its policy: docs/deploy.md, "CI".
     */
    previewRoleName: roleName.default("trailwatch-preview"),
    /** Session name on every assumed role, so CloudTrail shows trailwatch deployments. */
    sessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, "an STS session name").default("trailwatch-deploy"),
  })
  .strict();

const slack = z
  .object({
    channelId: slackChannel,
    approverUserIds: uniqueList(slackUser, "Slack user id").default([]),
    approverUserGroupId: slackUserGroup.optional(),
    /** Account names shown in every Slack message (sgRevertBot.accountNames, where set, wins for the SG review). */
    accountNames: z.record(accountId, z.string().min(1).max(64)).default({}),
    /**
     * Slack user (U…/W…) and user-group (S…) ids an IAM role's owner tag may mention; any other owner tag is shown as
     * text (whoever may tag a role would otherwise choose whom the bot pings).
     */
    mentionableIds: uniqueList(z.string().regex(/^[UWS][A-Z0-9]{8,12}$/, "a Slack user or user-group id such as U0123ABCD45"), "Slack id").default([]),
    /** Days the Slack outbox poster's and the Slack app function's logs are kept; unset: each component's default (90). */
    logRetentionDays: logRetention.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.approverUserIds.length === 0 && !s.approverUserGroupId)
      ctx.addIssue({
        code: "custom",
        path: ["approverUserIds"],
        message: "at least one approver (approverUserIds or approverUserGroupId), found none",
        input: s.approverUserIds,
      });
  });

const secrets = z
  .object({
    /**
     * Existing Secrets Manager secrets (name or ARN, in the security account). When unset, trailwatch creates
     * them from the `slackBotToken` / `slackSigningSecret` secure config values.
     */
    slackBotToken: secretRef.optional(),
    slackSigningSecret: secretRef.optional(),
  })
  .strict();

const features = z
  .object({
    orgTrail: z.boolean().default(true),
    eventBackbone: z.boolean().default(true),
    denyAdvisor: z.boolean().default(true),
    sgRevertBot: z.boolean().default(true),
    scpWatch: z.boolean().default(true),
    guardDuty: z.boolean().default(true),
    configAggregation: z.boolean().default(true),
    changeFeed: z.boolean().default(false),
  })
  .strict();

const forwarder = z
  .object({
    /** `stackset`: one SERVICE_MANAGED StackSet to `memberTargets`; `direct`: providers per `directAccounts`. */
    mode: z.enum(["stackset", "direct"]).default("stackset"),
    failureTolerancePercentage: z.number().int().min(0).max(100).default(STACK_SET_DEFAULTS.failureTolerancePercentage),
    maxConcurrentPercentage: z.number().int().min(1).max(100).default(STACK_SET_DEFAULTS.maxConcurrentPercentage),
    /** Direct mode only: the member accounts to deploy forwarders to, each with its own provider. */
    directAccounts: uniqueList(accountId, "account id").default([]),
    /**
     * Where the deny stream is forwarded: `all` = every region enabled in every account (the partition's default
     * regions, plus `regions`), so denies in regions nobody uses (where "deny outside approved regions" SCPs fire) are
     * seen; `configured` = `regions` only. The other streams always stay in `regions`.
     */
    denyRegions: z.enum(["all", "configured"]).default("all"),
  })
  .strict();

const eventBus = z
  .object({
    name: z.string().regex(/^[\w.-]{1,256}$/, "an event bus name").default(CENTRAL_EVENT_BUS_DEFAULTS.busName),
    archiveRetentionDays: days(3650).default(CENTRAL_EVENT_BUS_DEFAULTS.archiveRetentionDays),
    /** Minutes without a heartbeat from an account/region before its alarm fires. */
    heartbeatMinutes: z.number().int().min(5).max(1440).default(CENTRAL_EVENT_BUS_DEFAULTS.heartbeatMinutes),
    /** Retention of the searchable log of every forwarded event (CloudWatch Logs Insights). */
    eventLogRetentionDays: logRetention.default(90),
    /**
     * EventBridge's event pattern size quota in the security account's home region, where the central rules live:
     * 2,048 characters unless raised through Service Quotas (to 4,096 at most). Forwarder rules in member accounts
     * are always held to the default 2,048. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
     */
    maxPatternChars: z.number().int().min(EVENT_PATTERN_MAX_CHARS).max(4096).default(CENTRAL_EVENT_BUS_DEFAULTS.maxPatternChars),
  })
  .strict();

const alerts = z
  .object({
    /** Email subscriptions on the alert topics (confirmed by the recipient). */
    emails: uniqueList(email, "email").default([]),
  })
  .strict();

const denyAdvisor = z
  .object({
    /** Role tag whose value names the role's owner in the digest (a Slack user id is mentioned). */
    ownerTagKey: z.string().regex(/^[\w.:\/=+@ -]{1,128}$/, "an IAM tag key").default(DENY_ADVISOR_DEFAULTS.ownerTagKey),
    /** Seconds SQS gathers denies before one digest is posted. */
    batchWindowSeconds: z.number().int().min(0).max(300).default(DENY_ADVISOR_DEFAULTS.batchWindowSeconds),
    logRetentionDays: logRetention.default(DENY_ADVISOR_DEFAULTS.logRetentionDays),
    /** Decode EC2's encoded messages in the producing account through a decode spoke role in every account. */
    decode: z.boolean().default(DENY_ADVISOR_DEFAULTS.decode),
    /** The decode spokes' ExternalId (not a secret: it guards against the confused deputy). Default: per organization. */
    decodeExternalId: z.string().regex(/^[\w+=,.@:\/-]{2,1224}$/, "an sts:ExternalId (2-1224 characters: letters, digits, +=,.@:/-)").optional(),
  })
  .strict();

/**
 * An event source CloudTrail logs network activity events for (advanced event selector field `eventSource`, Equals
 * only, one source per selector). AWS adds services to the list (CloudTrail, EC2, KMS, Secrets Manager at preview;
 * S3 network activity records exist, e.g. Panther's VpceAccessDenied fixture): check the current list at
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-network-events-with-cloudtrail.html
 */
const networkActivityEventSource = z.string().regex(/^[a-z0-9-]+\.amazonaws\.com$/, "a service event source such as ec2.amazonaws.com");

const alarmRowId = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "a row id of lowercase letters, digits and dashes");
const filterRow = z
  .object({
    id: alarmRowId,
    title: z.string().min(1).max(100),
    /** A CloudWatch Logs JSON filter pattern, checked here so a bad one fails the plan, not the deploy. */
    pattern: z.string().superRefine((p, ctx) => {
      const problem = checkPattern(p);
      if (problem) ctx.addIssue({ code: "custom", message: `a CloudWatch Logs JSON filter pattern ({ $.field = "value" && ... }): ${problem}`, input: p });
    }),
    description: z.string().min(1).max(500),
    docLink: z.string().default(""),
  })
  .strict();

const orgTrail = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][\w.-]{2,127}$/, "a trail name (3-128 of letters, digits, . _ -)").default(ORG_TRAIL_DEFAULTS.trailName),
    /**
     * `delegated`: also register the security account as CloudTrail delegated administrator, so the security team
     * manages the organization's trails and event data stores from there. The management account stays the owner.
     */
    administrator: z.enum(["management", "delegated"]).default("management"),
    /** Days log files stay in the bucket (CIS asks at least 365). */
    bucketExpirationDays: days(3650).default(ORG_TRAIL_DEFAULTS.bucketExpirationDays),
    /** Days an overwritten or deleted log file's old version is kept. */
    noncurrentVersionExpirationDays: days(3650).default(ORG_TRAIL_DEFAULTS.noncurrentVersionExpirationDays),
    /** Retention of the trail's CloudWatch Logs group (the metric filters' input). */
    logRetentionDays: logRetention.default(ORG_TRAIL_DEFAULTS.logRetentionDays),
    /** Roles or users (ARNs) that may decrypt and read log files. */
    readerArns: uniqueList(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@\/-]{1,512}$/, "an IAM role or user ARN"), "ARN").default([]),
    dataEvents: z
      .object({ s3Objects: z.boolean().default(false), lambdaInvokes: z.boolean().default(false) })
      .strict()
      .default({ s3Objects: false, lambdaInvokes: false }),
    /**
     * Network activity events for these VPC endpoint event sources (one advanced event selector each, as CloudTrail
     * requires): a VPC endpoint policy deny is a network activity event, so without them the `VpceAccessDenied`
     * denies never reach EventBridge. `deniesOnly` logs only `errorCode: VpceAccessDenied` (billed per event).
     * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-network-events-with-cloudtrail.html
     */
    networkActivity: z
      .object({
        eventSources: uniqueList(networkActivityEventSource, "event source").default([]),
        deniesOnly: z.boolean().default(true),
      })
      .strict()
      .default({ eventSources: [], deniesOnly: true }),
    /** CloudTrail Insights (API call rate and error rate anomalies). */
    insights: z.boolean().default(ORG_TRAIL_DEFAULTS.insights),
    /** Minutes without any event delivered by the trail before the "CloudTrail silent" alarm (5-minute steps). */
    silenceMinutes: z.number().int().min(15).max(1440).default(ORG_TRAIL_DEFAULTS.silenceMinutes),
    /** Days a CloudTrail Lake event data store keeps the organization's management events; unset = no event data store. */
    lakeRetentionDays: z.number().int().min(7).max(3653).optional(),
    /**
     * An organization trail exists already (Control Tower: `aws-controltower/CloudTrailLogs`; Landing Zone
     * Accelerator; an earlier setup): trailwatch creates no trail, bucket or trail keys and puts the alarm rows on this
     * CloudWatch Logs group of the management account (home region). The keys that shape a trail must stay unset.
     */
    existingLogGroup: z.string().regex(/^[\w\-.\/#]{1,512}$/, "a CloudWatch Logs group name such as aws-controltower/CloudTrailLogs").optional(),
    alarms: z
      .object({
        /** Email subscriptions on the alarm topic; unset = alerts.emails. */
        emails: uniqueList(email, "email").optional(),
        /** Built-in rows to switch off, by id. */
        disabled: uniqueList(z.enum([ELEVATED_ROLE_ROW_ID, ...BUILTIN_ROW_IDS]), "row id").default([]),
        /** Role names whose assumption raises "elevated role assumed"; a trailing * matches a suffix. */
        elevatedRoles: uniqueList(z.string().regex(/^[\w+=,.@-]{1,64}\*?$/, "an IAM role name, optionally ending in *"), "role name").default([]),
        custom: z
          .array(filterRow)
          .superRefine((rows, ctx) => {
            const taken = new Set<string>([...BUILTIN_ROW_IDS, ELEVATED_ROLE_ROW_ID]);
            rows.forEach((row, i) => {
              if (taken.has(row.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `a row id not used by another row, found "${row.id}"`, input: row.id });
              taken.add(row.id);
            });
          })
          .default([]),
      })
      .strict()
      .default({ disabled: [], elevatedRoles: [], custom: [] }),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.existingLogGroup !== undefined) {
      // These shape the trail trailwatch would create; with an existing trail they would silently do nothing.
      const shaping: [string[], boolean, string][] = [
        [["administrator"], t.administrator !== "management", `"${t.administrator}"`],
        [["readerArns"], t.readerArns.length > 0, `a list of ${t.readerArns.length}`],
        [["dataEvents", "s3Objects"], t.dataEvents.s3Objects, "true"],
        [["dataEvents", "lambdaInvokes"], t.dataEvents.lambdaInvokes, "true"],
        [["insights"], t.insights, "true"],
        [["lakeRetentionDays"], t.lakeRetentionDays !== undefined, String(t.lakeRetentionDays)],
      ];
      for (const [path, set, found] of shaping)
        if (set)
          ctx.addIssue({
            code: "custom",
            path,
            message: `unset while orgTrail.existingLogGroup is set (it configures the trail trailwatch creates; set it on the existing trail instead), found ${found}`,
            input: found,
          });
    }
    if (t.alarms.elevatedRoles.length > 0) {
      const problem = checkPattern(elevatedRoleRow(t.alarms.elevatedRoles).pattern);
      if (problem)
        ctx.addIssue({ code: "custom", path: ["alarms", "elevatedRoles"], message: `fewer role names (the filter pattern they make is too long: ${problem})`, input: t.alarms.elevatedRoles });
    }
  });

const band = z.enum(["low", "medium", "high", "critical"]);
const httpsUrl = z.string().regex(/^https:\/\/[^\s]+$/, "an https:// URL");
const topicSubscriptions = z
  .object({ emails: uniqueList(email, "email").default([]), https: uniqueList(httpsUrl, "URL").default([]) })
  .strict()
  .default({ emails: [], https: [] });

/** Where GuardDuty findings and Config non-compliance go: an SNS topic per severity band, and Slack from a band up. */
const findings = z
  .object({
    /** Findings at or above this band are posted to the Slack channel (deduplicated on finding id). */
    slackMinSeverity: band.default(FINDINGS_ROUTER_DEFAULTS.slackMinSeverity),
    /** Config non-compliance goes to this band's topic. */
    configNonCompliantBand: band.default(FINDINGS_ROUTER_DEFAULTS.configNonCompliantBand),
    /** Config non-compliance is also posted to Slack (once per rule and resource). */
    configToSlack: z.boolean().default(FINDINGS_ROUTER_DEFAULTS.configToSlack),
    /** Days the findings notifier's log group keeps its logs. */
    logRetentionDays: logRetention.default(FINDINGS_ROUTER_DEFAULTS.logRetentionDays),
    topics: z
      .object({ low: topicSubscriptions, medium: topicSubscriptions, high: topicSubscriptions, critical: topicSubscriptions })
      .strict()
      .default({ low: { emails: [], https: [] }, medium: { emails: [], https: [] }, high: { emails: [], https: [] }, critical: { emails: [], https: [] } }),
  })
  .strict();

const guardDuty = z
  .object({
    findingPublishingFrequency: z.enum(["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"]).default(GUARD_DUTY_DEFAULTS.findingPublishingFrequency),
    /** Protection plans, each on or off for every account of the organization (new ones included). */
    protection: z
      .object({
        s3: z.boolean().default(GUARD_DUTY_DEFAULTS.protection.s3),
        eks: z.boolean().default(GUARD_DUTY_DEFAULTS.protection.eks),
        runtime: z.boolean().default(GUARD_DUTY_DEFAULTS.protection.runtime),
        malware: z.boolean().default(GUARD_DUTY_DEFAULTS.protection.malware),
        rds: z.boolean().default(GUARD_DUTY_DEFAULTS.protection.rds),
        lambda: z.boolean().default(GUARD_DUTY_DEFAULTS.protection.lambda),
      })
      .strict()
      .default({ ...GUARD_DUTY_DEFAULTS.protection }),
    /** Days exported findings stay in the log-archive bucket. */
    findingsExpirationDays: days(3650).default(GUARD_DUTY_DEFAULTS.findingsExpirationDays),
    /**
     * The security account is GuardDuty's delegated administrator already, with its detectors (Landing Zone
     * Accelerator, an earlier setup): trailwatch only forwards its findings; detectors, auto-enable, protection plans
     * (the keys above) and export stay with their owner.
     */
    existingAdministrator: z.boolean().default(GUARD_DUTY_DEFAULTS.existingAdministrator),
  })
  .strict();

/** AWS managed rules deployed as organization rules unless config lists its own. `global`: evaluated in the home region only. */
export const DEFAULT_ORG_RULES = [
  { name: "restricted-ssh", identifier: "INCOMING_SSH_DISABLED", global: false },
  { name: "restricted-common-ports", identifier: "RESTRICTED_INCOMING_TRAFFIC", global: false },
  { name: "s3-bucket-public-read-prohibited", identifier: "S3_BUCKET_PUBLIC_READ_PROHIBITED", global: false },
  { name: "encrypted-volumes", identifier: "ENCRYPTED_VOLUMES", global: false },
  { name: "root-account-mfa-enabled", identifier: "ROOT_ACCOUNT_MFA_ENABLED", global: true },
  { name: "iam-password-policy", identifier: "IAM_PASSWORD_POLICY", global: true },
  { name: "cloudtrail-enabled", identifier: "CLOUD_TRAIL_ENABLED", global: true },
];
/** Conformance pack templates shipped in components/conformancePacks/<name>.yaml. */
export const SHIPPED_CONFORMANCE_PACKS = ["security-services"] as const;

const configRuleName = z.string().regex(/^[A-Za-z0-9][\w-]{0,63}$/, "a Config rule name (letters, digits, - and _; at most 64)");
const configAggregation = z
  .object({
    rules: z
      .array(
        z
          .object({
            name: configRuleName,
            identifier: z.string().regex(/^[A-Z0-9_]{3,256}$/, "an AWS managed rule identifier such as INCOMING_SSH_DISABLED"),
            inputParameters: z.record(z.string(), z.string()).optional(),
            excludedAccounts: uniqueList(accountId, "account id").default([]),
            global: z.boolean().default(false),
          })
          .strict(),
      )
      .default(DEFAULT_ORG_RULES.map((r) => ({ ...r, excludedAccounts: [] }))),
    conformancePacks: z
      .array(
        z
          .object({
            name: configRuleName,
            template: z.enum(SHIPPED_CONFORMANCE_PACKS),
            excludedAccounts: uniqueList(accountId, "account id").default([]),
          })
          .strict(),
      )
      .default([{ name: "security-services", template: "security-services", excludedAccounts: [] }]),
    /** Regions the aggregator collects from: "all" (new regions included) or a list. */
    aggregatorRegions: z.union([z.literal("all"), uniqueList(region, "region")]).default(CONFIG_AGGREGATION_DEFAULTS.aggregatorRegions),
    snapshotFrequency: z.enum(["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"]).default(CONFIG_AGGREGATION_DEFAULTS.snapshotFrequency),
    /** Days configuration history and snapshots stay in the central bucket. */
    bucketExpirationDays: days(3650).default(CONFIG_AGGREGATION_DEFAULTS.bucketExpirationDays),
    /**
     * What exists already beside Control Tower / Landing Zone Accelerator, so trailwatch neither creates it again
     * (which fails) nor destroys it on uninstall: `delegatedAdministrator` (Config trusted access and the security
     * account's delegated administration), `memberRecorders` (recorders in the member accounts: no recorder StackSet;
     * Control Tower records every enrolled account), `managementRecorders` (a recorder in the management account),
     * `aggregator` (an organization aggregator). Rules and conformance packs deploy either way.
     */
    existing: z
      .object({
        delegatedAdministrator: z.boolean().default(false),
        memberRecorders: z.boolean().default(false),
        managementRecorders: z.boolean().default(false),
        aggregator: z.boolean().default(false),
      })
      .strict()
      .default({ delegatedAdministrator: false, memberRecorders: false, managementRecorders: false, aggregator: false }),
  })
  .strict();

const cidr = z.string().regex(/^([0-9]{1,3}(\.[0-9]{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/, "a CIDR such as 203.0.113.0/24");
const sgRevertBot = z
  .object({
    /** Changes below this risk are recorded, not posted. */
    minRisk: z.enum(["low", "medium", "high", "critical"]).default(SG_REVERT_BOT_DEFAULTS.minRisk),
    /** Sources that never raise the risk (office, VPN egress). */
    trustedCidrs: uniqueList(cidr, "CIDR").default([...SG_REVERT_BOT_DEFAULTS.trustedCidrs]),
    /** Undecided reviews expire (the rules stay) after this many minutes. */
    expireAfterMinutes: z.number().int().min(5).max(10080).default(SG_REVERT_BOT_DEFAULTS.expireAfterMinutes),
    /** World-open ingress to these ports is reverted at once, still posted; empty = off. */
    autoRevertPorts: z.array(z.number().int().min(0).max(65535)).default([...SG_REVERT_BOT_DEFAULTS.autoRevertPorts]),
    /** The ExternalId the hub presents to spoke roles; unset = derived from the organization id. */
    externalId: z.string().regex(/^[\w+=,.@:\/-]{2,1224}$/, "an STS ExternalId (2-1224 of letters, digits and +=,.@:/-)").optional(),
    /** Account names shown in messages. */
    accountNames: z.record(accountId, z.string().min(1).max(64)).default({}),
    logRetentionDays: logRetention.default(SG_REVERT_BOT_DEFAULTS.logRetentionDays),
  })
  .strict();

const scpWatch = z
  .object({
    /** Minutes a rollout window stays open after an Organizations policy change. */
    windowMinutes: z.number().int().min(5).max(1440).default(SCP_WATCH_DEFAULTS.windowMinutes),
    /** Minutes between digests in an open window's thread. */
    digestMinutes: z.number().int().min(1).max(60).default(SCP_WATCH_DEFAULTS.digestMinutes),
    /** Denies caused by the policy within its window that raise the alert. */
    threshold: z.number().int().min(1).default(SCP_WATCH_DEFAULTS.threshold),
    /** Offer approvers "Detach policy" in the alert (a management-account role that may only detach SCPs). */
    rollback: z.boolean().default(SCP_WATCH_DEFAULTS.rollback),
    /** Actions that keep their own Action metric value each day; the rest count as "other". */
    topActions: z.number().int().min(1).max(100).default(SCP_WATCH_DEFAULTS.topActions),
    logRetentionDays: logRetention.default(SCP_WATCH_DEFAULTS.logRetentionDays),
  })
  .strict();

/**
 * Features that only work through Slack, and why: with `slack` unset they must be off. GuardDuty / Config findings
 * and the change feed do not need Slack (their SNS topics and webhooks work alone); they simply do not post.
 */
export const SLACK_FEATURES = {
  denyAdvisor: "the deny advisor posts its digests to the Slack channel",
  sgRevertBot: "security-group changes are reviewed with buttons in the Slack channel",
  scpWatch: "rollout windows, digests and /trailwatch-watch live in the Slack channel",
} as const;

export const stackConfigSchema = z
  .object({
    organizationId,
    accounts,
    homeRegion: region,
    /** Regions to cover; us-east-1 is always added for forwarders (IAM and Organizations events exist only there). */
    regions: uniqueList(region, "region").min(1, "at least one region"),
    /** Organization root or OU ids the StackSets deploy to. */
    memberTargets: uniqueList(orgTarget, "target").min(1, "at least one root or OU id"),
    deployment: deployment.default(deployment.parse({})),
    /**
     * The Slack channel and approvers. Unset = Slack off: nothing is posted, no Slack secret is needed, and the
     * features that work through Slack (SLACK_FEATURES) must be off. The two secrets may come after the first
     * `pulumi up` (docs/deploy.md, "Slack"): until then the secrets exist without a value.
     */
    slack: slack.optional(),
    secrets: secrets.default({}),
    features: features.default(features.parse({})),
    forwarder: forwarder.default(forwarder.parse({})),
    eventBus: eventBus.default(eventBus.parse({})),
    alerts: alerts.default({ emails: [] }),
    denyAdvisor: denyAdvisor.default(denyAdvisor.parse({})),
    orgTrail: orgTrail.default(orgTrail.parse({})),
    guardDuty: guardDuty.default(guardDuty.parse({})),
    configAggregation: configAggregation.default(configAggregation.parse({})),
    findings: findings.default(findings.parse({})),
    changeFeed: changeFeedConfig.default(changeFeedConfig.parse({})),
    sgRevertBot: sgRevertBot.default(sgRevertBot.parse({})),
    scpWatch: scpWatch.default(scpWatch.parse({})),
  })
  .superRefine((c, ctx) => {
    if (!c.regions.includes(c.homeRegion))
      ctx.addIssue({
        code: "custom",
        path: ["regions"],
        message: `a list that includes homeRegion "${c.homeRegion}", found [${c.regions.join(", ")}]`,
        input: c.regions,
      });
    for (const f of ["denyAdvisor", "sgRevertBot", "scpWatch", "changeFeed", "guardDuty", "configAggregation"] as const)
      if (c.features[f] && !c.features.eventBackbone)
        ctx.addIssue({
          code: "custom",
          path: ["features", f],
          message: `false while features.eventBackbone is false (${f} uses the central bus), found true`,
          input: true,
        });
    if (!c.slack) {
      for (const [f, why] of Object.entries(SLACK_FEATURES))
        if (c.features[f as keyof typeof SLACK_FEATURES])
          ctx.addIssue({
            code: "custom",
            path: ["features", f],
            message: `false while trailwatch:slack is unset (${why}), found true; or set trailwatch:slack (channelId and approvers: the Slack secrets can follow after the first pulumi up)`,
            input: true,
          });
      if (c.features.changeFeed && c.changeFeed.slackDigest.enabled)
        ctx.addIssue({
          code: "custom",
          path: ["changeFeed", "slackDigest", "enabled"],
          message: "false while trailwatch:slack is unset (the digest is posted to the Slack channel), found true",
          input: true,
        });
    }
    // The central change-feed rule leaves the noise event names out in its pattern, so they count against the quota.
    const writes = writeCallsPatternChars(c.changeFeed.noise.eventNames);
    if (writes > c.eventBus.maxPatternChars)
      ctx.addIssue({
        code: "custom",
        path: ["changeFeed", "noise", "eventNames"],
        message:
          `fewer event names: with the built-in ones they make the change feed's rule pattern ${writes} characters, more than ` +
          `EventBridge's event pattern size quota of ${c.eventBus.maxPatternChars} (trailwatch:eventBus.maxPatternChars, once the quota is raised)`,
        input: c.changeFeed.noise.eventNames,
      });
    if (c.forwarder.mode === "direct" && c.forwarder.directAccounts.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["forwarder", "directAccounts"],
        message: 'at least one account id when mode is "direct", found none',
        input: c.forwarder.directAccounts,
      });
  });

export type StackConfig = z.infer<typeof stackConfigSchema>;

/** Keys read with `getSecret` and never validated as plain values (they hold credentials). */
export const SECRET_KEYS = ["slackBotToken", "slackSigningSecret"] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** What a value looks like in an error message: short, typed, never the whole object. */
function describe(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function keyOf(path: PropertyKey[]): string {
  let key = NAMESPACE + ":";
  path.forEach((p, i) => {
    if (typeof p === "number") key += `[${p}]`;
    else key += (i === 0 ? "" : ".") + String(p);
  });
  return key;
}

/** Turn one zod issue into "trailwatch:<key>: expected <what>, found <what>". */
function formatIssue(issue: z.core.$ZodIssue): string {
  const key = keyOf(issue.path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "invalid_type":
      return input === undefined
        ? `${key}: required key is missing (expected ${issue.expected})`
        : `${key}: expected ${issue.expected}, found ${describe(input)}${
            issue.expected === "string" && typeof input === "number" ? " (quote ids in YAML so they stay strings)" : ""
          }`;
    case "unrecognized_keys":
      return `${key}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling against README's config table)`;
    case "invalid_value":
      return `${key}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, found ${describe(input)}`;
    case "too_small":
    case "too_big":
      return `${key}: expected ${issue.message.replace(/^Too (small|big): expected /, "")}, found ${describe(input)}`;
    case "custom":
      return `${key}: expected ${issue.message}`;
    default:
      return `${key}: expected ${issue.message}, found ${describe(input)}`;
  }
}

/**
 * Validate the raw config map (`trailwatch:key` -> string, as `pulumi.runtime.allConfig()` returns it).
 * Returns every problem, sorted by key, or the typed config.
 */
export function parseStackConfig(raw: Record<string, string>): { ok: true; config: StackConfig } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const data: Record<string, unknown> = {};
  const known = new Set<string>([...Object.keys(stackConfigSchema.shape), ...SECRET_KEYS]);
  for (const [fullKey, value] of Object.entries(raw)) {
    const [ns, key] = fullKey.split(":", 2);
    if (ns !== NAMESPACE || key === undefined) continue; // aws:*, pulumi:* belong to others
    if (!known.has(key)) {
      problems.push(`${fullKey}: unknown key (expected one of ${[...known].sort().join(", ")})`);
      continue;
    }
    if ((SECRET_KEYS as readonly string[]).includes(key)) continue;
    data[key] = decode(value);
  }
  const result = stackConfigSchema.safeParse(data, { reportInput: true });
  if (!result.success) problems.push(...result.error.issues.map(formatIssue));
  if (data.slack === undefined) {
    // Slack off: a Slack credential here would be stored and never used, which is a mistake worth naming.
    const refs = (typeof data.secrets === "object" && data.secrets !== null ? data.secrets : {}) as Record<string, unknown>;
    for (const key of SECRET_KEYS) {
      if (raw[`${NAMESPACE}:${key}`] !== undefined)
        problems.push(`${NAMESPACE}:${key}: set while ${NAMESPACE}:slack is unset (nothing would use it): set ${NAMESPACE}:slack or remove the key (pulumi config rm ${NAMESPACE}:${key})`);
      if (refs[key] !== undefined)
        problems.push(`${NAMESPACE}:secrets.${key}: set while ${NAMESPACE}:slack is unset (nothing would use it): set ${NAMESPACE}:slack or remove the key`);
    }
  }
  // With Slack on, each credential is an existing secret (secrets.<key>), a secure value, or neither yet: then the
  // secret is created without a value and the stack output slackSetup says what is left to do (stacks/slackSecrets.ts).
  if (problems.length > 0) return { ok: false, problems: problems.sort() };
  return { ok: true, config: (result as { data: StackConfig }).data };
}

/** Pulumi hands structured values over as JSON; plain strings stay strings ("123" must stay a string id). */
function decode(value: string): unknown {
  const t = value.trim();
  if (t.startsWith("{") || t.startsWith("[") || t === "true" || t === "false" || /^-?\d+(\.\d+)?$/.test(t)) {
    // An account id written unquoted in YAML would arrive as a number: keep 12-digit ids as strings.
    if (/^\d{12}$/.test(t)) return t;
    try {
      return JSON.parse(t);
    } catch {
      return value;
    }
  }
  return value;
}

/**
 * Characters of the central change-feed rule's pattern (functions/patterns.ts writeCallsPattern: write calls minus
 * the built-in and configured noise event names); tests/changeFeedPlan.test.ts holds it to the deployed rule.
 */
export function writeCallsPatternChars(extraNoiseEventNames: string[]): number {
  return JSON.stringify(writeCallsPattern(extraNoiseEventNames)).length;
}

/** The list of regions forwarders go to: the configured ones plus us-east-1, sorted, unique. */
export function forwarderRegions(c: StackConfig): string[] {
  return [...new Set([...c.regions, "us-east-1"])].sort();
}

/**
 * The regions enabled in every account of a partition: those launched before March 20, 2019 ("default Regions", which
 * cannot be disabled); later ones are opt-in and disabled unless enabled, so a deny forwarder can only be deployed
 * there once they are (list them in `regions`).
 * https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
 */
export const DEFAULT_REGIONS: Record<"aws" | "aws-us-gov" | "aws-cn", readonly string[]> = {
  aws: [
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1",
    "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
  ],
  "aws-us-gov": ["us-gov-east-1", "us-gov-west-1"],
  "aws-cn": ["cn-north-1", "cn-northwest-1"],
};

export function partitionOf(region: string): keyof typeof DEFAULT_REGIONS {
  return region.startsWith("us-gov-") ? "aws-us-gov" : region.startsWith("cn-") ? "aws-cn" : "aws";
}

/**
 * Regions that get a deny-only forwarder (the deny stream and the heartbeat, no other stream): with
 * `forwarder.denyRegions: all`, the partition's default regions that `forwarderRegions` does not already cover.
 */
export function denyOnlyRegions(c: StackConfig): string[] {
  if (c.forwarder.denyRegions !== "all") return [];
  const full = new Set(forwarderRegions(c));
  return DEFAULT_REGIONS[partitionOf(c.homeRegion)].filter((r) => !full.has(r)).sort();
}

/** What the deployed pipeline can see (replay marks findings it would not have): trail selectors and forwarded regions. */
export function deployedCoverage(c: StackConfig): DeployedCoverage {
  return {
    dataEvents: c.orgTrail.dataEvents,
    networkActivity: c.orgTrail.networkActivity,
    denyRegions: [...forwarderRegions(c), ...denyOnlyRegions(c)].sort(),
    otherRegions: forwarderRegions(c),
  };
}

/**
 * The coverage of a stack with every default and unknown regions (replay without --stack): no data events, no network
 * activity events, denies from the commercial partition's default regions (`denyRegions: all`), other streams unknown.
 */
export const DEFAULT_COVERAGE: DeployedCoverage = {
  dataEvents: { s3Objects: false, lambdaInvokes: false },
  networkActivity: { eventSources: [], deniesOnly: true },
  denyRegions: DEFAULT_REGIONS.aws,
  otherRegions: null,
};
