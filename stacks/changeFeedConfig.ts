/**
 * `trailwatch:changeFeed`: the change feed's config. Every key has a default, so the feature can be
 * switched on with `features.changeFeed: true` alone (records then reach no webhook until `webhooks` lists one).
 * Value formats follow stacks/config.ts; credentials are never config values, only the names of Secrets Manager
 * secrets (in the security account) that hold them, read at deploy time for EventBridge connections.
 */
import { z } from "zod";
import { accountId, logRetention, secretRef, uniqueList } from "./schemaParts";
import { CHANGE_FEED_DEFAULTS, THIRD_PARTY_ROLE_DEFAULTS } from "../components/defaults";
import { DEFAULT_ENVIRONMENT } from "../functions/changeFeed/normalize";

const httpsUrl = z.string().regex(/^https:\/\/[^\s]+$/, "an https:// URL");
const environmentName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "an environment name (lowercase letters, digits, - and _; at most 32)");
/** CloudTrail event names are API operation names, some with a version suffix (CreateFunction20150331). */
const eventName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,127}$/, "a CloudTrail event name such as PutMetricData");
/** Matched against `userIdentity.invokedBy` and `sourceIPAddress`, where AWS services write their host name. */
const servicePrincipal = z.string().regex(/^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$/, "an AWS service principal such as config.amazonaws.com");
const webhookName = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "a kebab-case name (lowercase letters, digits, single dashes)").max(40);
/** Who may assume the vendor role: a role, or a whole account (`:root`), as the vendor documents it. */
const principalArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@\/-]{1,512})$/, "an IAM role ARN or account root ARN (arn:aws:iam::123456789012:root)");


const webhook = z
  .object({
    name: webhookName,
    /** The payload format: FireHydrant change events API, PagerDuty Events API v2 change events, or the change record. */
    kind: z.enum(["firehydrant", "pagerduty", "generic"]),
    url: httpsUrl,
    /**
     * Secret holding the auth value: the FireHydrant bot token (sent as `Authorization: Bearer <token>`), the PagerDuty
     * routing key (sent as `routing_key` in the body), or, for `generic`, the whole `Authorization` header value.
     */
    secret: secretRef,
    /**
     * EventBridge API destination invocation rate limit (1-300 per second). Default per kind, within the vendor's
     * limit: pagerduty 2 (120 events a minute per routing key), firehydrant 5 (50 requests per 10 s), generic 10.
     */
    rateLimitPerSecond: z.number().int().min(1).max(300).optional(),
  })
  .strict();

/** FireHydrant ids are UUIDs. */
const fireHydrantId = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "a FireHydrant id (a UUID)");

/** Links FireHydrant change events to environments and services, so FireHydrant shows them on matching incidents. */
const fireHydrant = z
  .object({
    /** Environment name (as in `environments`) -> FireHydrant environment id. */
    environments: z.record(environmentName, fireHydrantId).default({}),
    /** Owner (team), account id or environment name -> FireHydrant service ids; a change gets the union of its matches. */
    services: z.record(z.string().min(1).max(128), uniqueList(fireHydrantId, "FireHydrant service id")).default({}),
  })
  .strict();

const slackDigest = z
  .object({
    enabled: z.boolean().default(false),
    /** Environments whose changes are posted to the security Slack channel. */
    environments: uniqueList(environmentName, "environment").min(1, "at least one environment").default(["prod"]),
    /** Only changes no IaC tool (CloudFormation, Terraform, OpenTofu, Pulumi, CDK) made. */
    outsideIacOnly: z.boolean().default(CHANGE_FEED_DEFAULTS.slack.outsideIacOnly),
    /** Gather changes this many minutes (SQS batching window, at most 5) and post one digest per environment; unset = as they come. */
    everyMinutes: z.number().int().min(1).max(5).optional(),
  })
  .strict();

const thirdPartyRole = z
  .object({
    /** The vendor's role or account that may assume the read-only role. */
    principalArn,
    /** Secret (security account) holding the ExternalId the vendor must present. */
    externalIdSecret: secretRef,
    maxSessionDurationSeconds: z.number().int().min(3600).max(43200).default(THIRD_PARTY_ROLE_DEFAULTS.maxSessionDurationSeconds),
    /** `management`: the management account only; `organization`: every member account (StackSet) and the management account. */
    deployTo: z.enum(["management", "organization"]).default(THIRD_PARTY_ROLE_DEFAULTS.deployTo),
  })
  .strict();

export const changeFeedConfig = z
  .object({
    /** Account id -> its environment and owning team; every change record carries them. */
    environments: z.record(accountId, z.object({ environment: environmentName, owner: z.string().min(1).max(128).optional() }).strict()).default({}),
    /** Environment of accounts not listed in `environments`. */
    defaultEnvironment: environmentName.default(DEFAULT_ENVIRONMENT),
    /** Left out on top of the built-in noise list (functions/changeFeed/normalize.ts DEFAULT_NOISE). */
    noise: z
      .object({
        eventNames: uniqueList(eventName, "event name").default([]),
        principals: uniqueList(servicePrincipal, "principal").default([]),
      })
      .strict()
      .default({ eventNames: [], principals: [] }),
    webhooks: z.array(webhook).default([]),
    fireHydrant: fireHydrant.optional(),
    slackDigest: slackDigest.default(slackDigest.parse({})),
    thirdPartyRole: thirdPartyRole.optional(),
    /** Days the normalizer's and the Slack digest's logs are kept (a CloudWatch Logs retention value). */
    logRetentionDays: logRetention.default(CHANGE_FEED_DEFAULTS.logRetentionDays),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.webhooks.forEach((w, i) => {
      if (seen.has(w.name)) ctx.addIssue({ code: "custom", path: ["webhooks", i, "name"], message: `unique webhook names, found "${w.name}" twice`, input: w.name });
      seen.add(w.name);
    });
    // The noise names' share of the central rule's event pattern size is checked with the quota: stacks/config.ts.
  });

export type ChangeFeedConfig = z.infer<typeof changeFeedConfig>;
