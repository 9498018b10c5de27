/**
 * ChangeFeed (issue 10): every write management event from the central bus, minus noise, as a change record tagged
 * with its environment and owner, delivered in real time to change-tracking tools through EventBridge API
 * destinations, and optionally posted to Slack.
 *
 *   central bus: API calls with readOnly false (noise event names left out by the pattern)
 *     -> normalizer Lambda (retry, DLQ): isChange + toChangeRecord + one payload per webhook kind; returns it
 *     -> Lambda destination (on success AND on failure): the central bus, "Lambda Function Invocation Result - ..."
 *   per webhook: rule on those results (this function, this account, schema trailwatch.change/v1)
 *     -> API destination (connection: auth from a Secrets Manager secret, KMS; rate limit), input path to the
 *        kind's payload, retry policy and the bus's delivery DLQ
 *   optional: rule on the results of the Slack environments -> SQS (KMS, DLQ) -> Slack digest Lambda
 *
 * The normalizer never calls an AWS API itself: Lambda puts its return value on the bus (destinations use the
 * function's role, which may only events:PutEvents on the central bus), so the function needs no SDK, no secret and
 * no network access, and what it returns is exactly what the webhooks get. Costs: one more event on the bus (and in
 * its archive) per write call, null results included; an invocation record (the CloudTrail event plus the payload)
 * must fit EventBridge's 256 KB event size, which CloudTrail management events stay far below.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * API destinations: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction } from "./lambda";
import type { CentralEventBus } from "./centralEventBus";
import { policy, policyJson, serviceTrust } from "./iam";
import { accountKeyPolicy } from "./kms";
import { TARGET_RETRY } from "./forwarderTemplate";
import { CHANGE_SCHEMA, INVOCATION_FAILURE, INVOCATION_SUCCESS, changeResultPattern, invocationResultPattern, writeCallsPattern } from "../functions/patterns";
import {
  DEFAULT_NOISE,
  fireHydrantChangeEvent,
  genericWebhook,
  isChange,
  pagerDutyChangeEvent,
  slackDigest,
  toChangeRecord,
  type ChangeRecord,
  type EnvironmentMap,
} from "../functions/changeFeed";
import { cloudTrailRecordOf, type CloudTrailRecord } from "../functions/cloudtrail";
import { envNoticeSender } from "../functions/slack/outboxAdapters";
import { changeDigestNotice } from "../functions/slack/notices";
import type { SlackOutbox } from "./slackOutbox";
import { destinationFailureAlarm } from "./asyncFailures";
import { LIST_ACCOUNTS_STATEMENT, accountNamesEnvironment } from "./accountDirectory";
import { ACCOUNT_LIST_EVENTS, envAccountDirectory } from "../functions/accounts/directory";

export type WebhookKind = "firehydrant" | "pagerduty" | "generic";

export interface ChangeFeedWebhook {
  /** kebab-case, used in resource names. */
  readonly name: string;
  readonly kind: WebhookKind;
  /** https:// endpoint, e.g. https://api.firehydrant.io/v1/changes/events or https://events.pagerduty.com/v2/change/enqueue */
  readonly url: string;
  /** Secrets Manager secret (name or ARN, this account) holding the auth value; read at deploy time into the connection. */
  readonly secret: string;
  /** @default WEBHOOK_RATE_LIMITS[kind] */
  readonly rateLimitPerSecond?: number;
}

/**
 * Default invocation rate per kind, within what each vendor allows:
 * - PagerDuty Events API: 120 events per minute, enforced per integration (routing) key (PagerDuty staff on the
 *   community forum; the Events API v2 overview https://developer.pagerduty.com/docs/events-api-v2-overview lists the
 *   API's limits), 429 beyond;
 * - FireHydrant API: 50 requests every 10 seconds per account, shared by every key of the account, 429 with
 *   Retry-After beyond (https://docs.firehydrant.com/reference/firehydrant-api, rate limiting);
 * - generic: a modest 10 per second.
 * EventBridge holds events back (and retries them) beyond the destination's rate; it does not drop them.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html
 */
export const WEBHOOK_RATE_LIMITS: Record<WebhookKind, number> = { pagerduty: 2, firehydrant: 5, generic: 10 };

/** FireHydrant ids for the change events: environment name -> environment id; owner / account id / environment -> service ids. */
export interface FireHydrantMapping {
  readonly environments: Record<string, string>;
  readonly services: Record<string, string[]>;
}

export interface ChangeFeedArgs {
  readonly bus: CentralEventBus;
  /** The security account (the bus's account) and home region. */
  readonly accountId: string;
  readonly region: string;
  readonly environments: EnvironmentMap;
  /** On top of DEFAULT_NOISE. */
  readonly noise: { eventNames: string[]; principals: string[] };
  readonly webhooks: ChangeFeedWebhook[];
  /** Links FireHydrant change events to environments and services (so they show on incidents). */
  readonly fireHydrant?: FireHydrantMapping;
  /** Post changes of these environments to Slack (one digest per environment per SQS batch). */
  readonly slack?: {
    /** Digests go through the Slack outbox. */
    outbox: SlackOutbox;
    channelId: string;
    environments: string[];
    outsideIacOnly: boolean;
    /** SQS batching window in minutes (at most 5); unset = post as they come. */
    everyMinutes?: number;
    /** Account id -> name from config; they win over the organization's (ListAccounts). */
    accountNames?: Record<string, string>;
  };
  readonly logRetentionDays?: number;
}

/** The `schema` of every payload the normalizer returns (rules match on it), and Lambda destinations' detail-types. */
export { CHANGE_SCHEMA, INVOCATION_FAILURE, INVOCATION_SUCCESS };

export interface NormalizerSettings {
  environments: EnvironmentMap;
  extraNoise: { eventNames: string[]; principals: string[] };
  kinds: WebhookKind[];
  fireHydrant?: { environments: Record<string, string>; services: Record<string, string[]> };
}

export interface ChangePayload {
  schema: typeof CHANGE_SCHEMA;
  change: ChangeRecord;
  firehydrant?: ReturnType<typeof fireHydrantChangeEvent>;
  /** Without `routing_key`: the PagerDuty target's input transformer adds it (pagerDutyInputTransformer). */
  pagerduty?: Omit<ReturnType<typeof pagerDutyChangeEvent>, "routing_key">;
  generic?: ReturnType<typeof genericWebhook>;
}

/**
 * What the normalizer returns for one central-bus event (the CloudTrail record is its `detail`): null for anything
 * that is not a change, else the change record and one ready-to-send body per configured webhook kind.
 */
export function changePayload(detail: unknown, s: NormalizerSettings): ChangePayload | null {
  // The bus event's detail, as delivered: through the boundary first (fields of the wrong type are absent after it).
  const record: CloudTrailRecord = cloudTrailRecordOf(detail) ?? {};
  if (!isChange(record, DEFAULT_NOISE, s.extraNoise)) return null;
  const change = toChangeRecord(record, s.environments);
  const out: ChangePayload = { schema: CHANGE_SCHEMA, change };
  if (s.kinds.includes("firehydrant")) out.firehydrant = fireHydrantChangeEvent(change, fireHydrantIds(change, s.fireHydrant));
  if (s.kinds.includes("pagerduty")) {
    const { routing_key: _fromConnection, ...body } = pagerDutyChangeEvent(change, "");
    out.pagerduty = body;
  }
  if (s.kinds.includes("generic")) out.generic = genericWebhook(change);
  return out;
}

/** The FireHydrant environment and service ids of a change: services by owner, then account id, then environment. */
export function fireHydrantIds(change: ChangeRecord, m?: NormalizerSettings["fireHydrant"]): { environmentIds?: Record<string, string>; serviceIds?: string[] } {
  if (!m) return {};
  const own = (o: Record<string, string[]>, k: string | null) => (k !== null && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : []);
  const serviceIds = [...new Set([...own(m.services, change.where.owner), ...own(m.services, change.where.account), ...own(m.services, change.where.environment)])];
  return { environmentIds: m.environments, serviceIds };
}

/**
 * The PagerDuty target's input transformer: Events API v2 takes the routing key in the JSON body, which the
 * normalizer's result must not carry (it would sit on the bus and in its archive). EventBridge's input transformer
 * is the documented way to shape an API destination's body: the template holds the key, the variables insert the
 * normalizer's payload and links as JSON. The key is then part of this rule target's configuration (readable with
 * events:ListTargetsByRule in the security account, and in Pulumi state as a secret).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 * https://developer.pagerduty.com/docs/send-change-event (routing_key, payload.summary, payload.source required)
 */
export function pagerDutyInputTransformer(routingKey: string): { inputPaths: Record<string, string>; inputTemplate: string } {
  // PagerDuty integration keys are 32 characters of letters and digits; anything else would break the template.
  if (!/^[A-Za-z0-9]{20,64}$/.test(routingKey)) throw new Error("the PagerDuty webhook's secret must hold the routing (integration) key: 32 letters and digits");
  return {
    inputPaths: { payload: "$.detail.responsePayload.pagerduty.payload", links: "$.detail.responsePayload.pagerduty.links" },
    inputTemplate: `{"routing_key": ${JSON.stringify(routingKey)}, "payload": <payload>, "links": <links>}`,
  };
}

/**
 * One Slack digest per environment for a batch of SQS messages, each a central-bus "invocation result" event
 * carrying a change payload. Unreadable messages are logged and dropped (they cannot succeed on retry).
 */
export async function postChangeDigests(
  records: { messageId: string; body: string }[],
  opts: {
    outsideIacOnly: boolean;
    post: (m: { text: string; blocks: object[] }, environment: string, messageIds: string[]) => Promise<void>;
    log: (entry: object) => void;
    /** Account id -> name for this batch's changes (the account directory). */
    accountNames?: (changes: ChangeRecord[]) => Promise<Record<string, string>>;
  },
): Promise<{ posted: number; changes: number; batchItemFailures: { itemIdentifier: string }[] }> {
  const byEnvironment: Record<string, ChangeRecord[]> = {};
  const idsByEnvironment: Record<string, string[]> = {};
  const batchItemFailures: { itemIdentifier: string }[] = [];
  let changes = 0;
  for (const r of records) {
    let change: ChangeRecord | undefined;
    try {
      change = JSON.parse(r.body)?.detail?.responsePayload?.change;
    } catch {
      opts.log({ dropped: r.messageId, reason: "not JSON" });
      continue;
    }
    const env = change?.where?.environment;
    if (!change || typeof env !== "string") {
      opts.log({ dropped: r.messageId, reason: "no change record" });
      continue;
    }
    (byEnvironment[env] = byEnvironment[env] ?? []).push(change);
    (idsByEnvironment[env] = idsByEnvironment[env] ?? []).push(r.messageId);
    changes++;
  }
  let posted = 0;
  const accountNames = opts.accountNames ? await opts.accountNames(Object.values(byEnvironment).flat()) : {};
  for (const env of Object.keys(byEnvironment).sort()) {
    const list = byEnvironment[env].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const message = slackDigest(list, env, { outsideIacOnly: opts.outsideIacOnly, accountNames });
    if (message.blocks.length <= 2) continue; // every change was filtered out
    try {
      await opts.post(message, env, idsByEnvironment[env]);
      posted++;
    } catch (err) {
      // Only this environment's messages come back (partial batch response); the others' digests are not re-sent.
      opts.log({ level: "ERROR", message: "digest not queued", environment: env, error: (err as Error).message });
      batchItemFailures.push(...idsByEnvironment[env].map((itemIdentifier) => ({ itemIdentifier })));
    }
  }
  return { posted, changes, batchItemFailures };
}

/** The change feed's patterns (the pattern registry's). */
export { changeResultPattern, invocationResultPattern, writeCallsPattern };

export class ChangeFeed extends pulumi.ComponentResource {
  readonly normalizer: InlineFunction;
  readonly connectionKey?: aws.kms.Key;
  readonly destinations: Record<string, aws.cloudwatch.EventApiDestination> = {};
  readonly slackQueue?: aws.sqs.Queue;

  constructor(name: string, args: ChangeFeedArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:changes:ChangeFeed", name, {}, opts);
    const p = { parent: this };
    const bus = args.bus;
    const logRetentionDays = args.logRetentionDays ?? 90;

    const settings: NormalizerSettings = {
      environments: { accounts: { ...args.environments.accounts }, defaultEnvironment: args.environments.defaultEnvironment },
      extraNoise: { eventNames: [...args.noise.eventNames], principals: [...args.noise.principals] },
      kinds: [...new Set(args.webhooks.map((w) => w.kind))].sort(),
      ...(args.fireHydrant ? { fireHydrant: { environments: { ...args.fireHydrant.environments }, services: { ...args.fireHydrant.services } } } : {}),
    };
    const normalizerName = `${name}-normalizer`;
    // InlineFunction's naming: the result rules must name the function before it exists.
    const functionName = `tw-${pulumi.getStack()}-${normalizerName}`.slice(0, 64);
    this.normalizer = new InlineFunction(
      normalizerName,
      {
        description: "Change feed: write events to change records for the webhooks (returned to the bus by Lambda destinations)",
        // Pure code: no SDK, no secret, no network.
        logRetentionDays,
        timeout: 10,
        memorySize: 256,
        statements: [{ Sid: "ResultsToTheCentralBusOnly", Effect: "Allow", Action: "events:PutEvents", Resource: [bus.busArn] }],
        callbackFactory: () => {
          // A plain object captured by value (no Map/Set: they do not survive serialization).
          const s = settings;
          return async (event: { id?: string; detail?: unknown }) => {
            const payload = changePayload(event?.detail, s);
            if (payload) console.log(JSON.stringify({ change: payload.change.eventId, environment: payload.change.where.environment, event: payload.change.what.eventName }));
            return payload;
          };
        },
      },
      p,
    );
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-normalizer-results`,
      {
        functionName: this.normalizer.function.name,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 21600,
        destinationConfig: { onSuccess: { destination: bus.busArn }, onFailure: { destination: bus.busArn } },
      },
      // Lambda checks the role may PutEvents when the destinations are set: wait for its policy.
      { parent: this, dependsOn: [this.normalizer] },
    );
    // A result the bus refuses (over 256 KB, or a permission problem) is lost: alarm on it.
    destinationFailureAlarm(`${name}-normalizer`, this.normalizer.function.name, bus.alertTopic.arn, this);
    bus.subscribe(
      `${name}-writes`,
      writeCallsPattern(args.noise.eventNames),
      { kind: "lambda", function: this.normalizer.function },
      "Write management events for the change feed (noise event names left out)",
    );
    // Invocations that failed after Lambda's retries land here, for inspection and redrive; the alarm says so.
    bus.subscribe(
      `${name}-failures`,
      invocationResultPattern(INVOCATION_FAILURE, args.accountId, args.region, functionName),
      { kind: "sqs", visibilityTimeoutSeconds: 60 },
      "Change feed events the normalizer failed on after retries",
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-normalizer-errors`,
      {
        alarmDescription: `trailwatch: the change feed normalizer failed; the events wait in the ${name}-failures queue`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: this.normalizer.function.name },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [bus.alertTopic.arn],
        okActions: [bus.alertTopic.arn],
      },
      p,
    );

    if (args.webhooks.length > 0) {
      // EventBridge stores each connection's auth in a Secrets Manager secret of its own; this key encrypts them.
      // https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-connections.html
      this.connectionKey = new aws.kms.Key(
        `${name}-connections-key`,
        {
          description: "trailwatch change feed: EventBridge connection secrets (webhook credentials)",
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          tags: { EventBridgeApiDestinations: "true" },
          policy: policyJson(
            accountKeyPolicy(args.accountId, args.region, [], [
              {
                Sid: "EventBridgeConnectionSecretsOnly",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${args.accountId}:root` },
                Action: ["kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"],
                Resource: "*",
                Condition: {
                  StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com", "kms:EncryptionContext:SecretARN": ["arn:aws*:secretsmanager:*:*:secret:events!connection/*"] },
                },
              },
            ]),
          ),
        },
        p,
      );
      new aws.kms.Alias(`${name}-connections-key-alias`, { name: `alias/trailwatch-${pulumi.getStack()}-change-feed-connections`, targetKeyId: this.connectionKey.keyId }, p);

      for (const w of args.webhooks) {
        const secretValue = aws.secretsmanager.getSecretVersionOutput({ secretId: w.secret }, p).secretString;
        const connection = new aws.cloudwatch.EventConnection(
          `${name}-${w.name}`,
          {
            name: `tw-${pulumi.getStack()}-${w.name}`.slice(0, 64),
            description: `trailwatch change feed to ${w.name} (${w.kind}); auth from Secrets Manager secret ${w.secret}`,
            authorizationType: "API_KEY",
            authParameters: connectionAuth(w.kind, secretValue),
            kmsKeyIdentifier: this.connectionKey.arn,
          },
          p,
        );
        this.destinations[w.name] = new aws.cloudwatch.EventApiDestination(
          `${name}-${w.name}`,
          {
            name: `tw-${pulumi.getStack()}-${w.name}`.slice(0, 64),
            description: `trailwatch change feed: ${w.kind} change events`,
            connectionArn: connection.arn,
            invocationEndpoint: w.url,
            httpMethod: "POST",
            invocationRateLimitPerSecond: w.rateLimitPerSecond ?? WEBHOOK_RATE_LIMITS[w.kind],
          },
          p,
        );
      }
      // EventBridge calls the API destinations with this role; it may call these and nothing else.
      const invokeRole = new aws.iam.Role(`${name}-invoke`, { assumeRolePolicy: serviceTrust("events.amazonaws.com", args.accountId) }, p);
      new aws.iam.RolePolicy(
        `${name}-invoke`,
        {
          role: invokeRole.id,
          policy: policyJson(
            policy({ Sid: "TheseApiDestinationsOnly", Effect: "Allow", Action: "events:InvokeApiDestination", Resource: Object.values(this.destinations).map((d) => d.arn) }),
          ),
        },
        p,
      );
      for (const w of args.webhooks) {
        const rule = new aws.cloudwatch.EventRule(
          `${name}-${w.name}-rule`,
          {
            eventBusName: bus.bus.name,
            eventPattern: JSON.stringify(changeResultPattern(args.accountId, args.region, functionName)),
            description: `Change records to ${w.name} (${w.kind})`,
          },
          p,
        );
        new aws.cloudwatch.EventTarget(
          `${name}-${w.name}-target`,
          {
            rule: rule.name,
            eventBusName: bus.bus.name,
            arn: this.destinations[w.name].arn,
            roleArn: invokeRole.arn,
            // The body the normalizer built for this kind of receiver; PagerDuty's gets the routing key added.
            ...(w.kind === "pagerduty"
              ? { inputTransformer: pulumi.secret(aws.secretsmanager.getSecretVersionOutput({ secretId: w.secret }, p).secretString.apply((v) => pagerDutyInputTransformer(v ?? PLAN_PLACEHOLDER_KEY))) }
              : { inputPath: `$.detail.responsePayload.${w.kind}` }),
            // An idempotency key per change where the receiver takes one (IETF Idempotency-Key header; the value is a
            // dynamic path into the event). PagerDuty change events have no dedup key; FireHydrant's carry external_id.
            // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html#dynamic-path-parameters
            ...(w.kind === "generic" ? { httpTarget: { headerParameters: GENERIC_IDEMPOTENCY_HEADER } } : {}),
            deadLetterConfig: { arn: bus.deliveryDeadLetter.arn },
            retryPolicy: TARGET_RETRY,
          },
          p,
        );
      }
    }

    if (args.slack) {
      const s = args.slack;
      const windowSeconds = (s.everyMinutes ?? 0) * 60;
      const sub = bus.subscribe(
        `${name}-slack`,
        changeResultPattern(args.accountId, args.region, functionName, {
          change: { where: { environment: [...s.environments] }, ...(s.outsideIacOnly ? { who: { via: [{ "anything-but": "iac" }] } } : {}) },
        }),
        { kind: "sqs", visibilityTimeoutSeconds: 180, maxReceiveCount: 5 },
        `Changes in ${s.environments.join(", ")}${s.outsideIacOnly ? " made outside IaC" : ""}, for Slack`,
      );
      this.slackQueue = sub.queue!;
      const outsideIacOnly = s.outsideIacOnly;
      const poster = new InlineFunction(
        `${name}-slack`,
        {
          description: "Change feed: hands a digest of changes per environment to the Slack outbox",
          timeout: 30,
          logRetentionDays,
          environment: { SLACK_CHANNEL_ID: s.channelId, ...s.outbox.senderEnvironment(), ...accountNamesEnvironment(s.accountNames) },
          statements: [
            { Sid: "ReceiveChanges", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [this.slackQueue.arn] },
            { Sid: "QueueKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [bus.key.arn] },
            ...s.outbox.senderStatements(),
            LIST_ACCOUNTS_STATEMENT,
          ],
          callbackFactory: () => {
            const iacFiltered = outsideIacOnly;
            const outbox = envNoticeSender();
            // Account names: config over Organizations, cached an hour per container; an account created, closed,
            // invited or moved in this batch's changes (an environment that covers the management account) lists again.
            const directory = envAccountDirectory();
            const accountListEvents = ACCOUNT_LIST_EVENTS;
            return async (event: { Records: { messageId: string; body: string }[] }) => {
              const out = await postChangeDigests(event.Records ?? [], {
                outsideIacOnly: iacFiltered,
                accountNames: async (changes) => {
                  if (changes.some((c) => c.what?.service === "organizations" && accountListEvents.includes(c.what?.eventName))) directory.invalidate();
                  return directory.names();
                },
                post: (m, environment, messageIds) => outbox.send(changeDigestNotice(m, environment, messageIds, { channel: process.env.SLACK_CHANNEL_ID! })),
                log: (e) => console.log(JSON.stringify(e)),
              });
              console.log(JSON.stringify({ level: "INFO", message: "batch done", posted: out.posted, changes: out.changes, failed: out.batchItemFailures.length }));
              return { batchItemFailures: out.batchItemFailures };
            };
          },
        },
        p,
      );
      new aws.lambda.EventSourceMapping(
        `${name}-slack-source`,
        {
          eventSourceArn: this.slackQueue.arn,
          functionName: poster.function.name,
          // SQS allows more than 10 per batch only with a batching window.
          batchSize: windowSeconds > 0 ? 100 : 10,
          maximumBatchingWindowInSeconds: windowSeconds,
          // One environment's failed hand-over returns only its messages; the others are not posted twice.
          functionResponseTypes: ["ReportBatchItemFailures"],
        },
        p,
      );
    }

    this.registerOutputs({
      normalizer: this.normalizer.function.name,
      apiDestinations: Object.fromEntries(Object.entries(this.destinations).map(([k, d]) => [k, d.arn])),
    });
  }
}

/** The generic webhook's idempotency key: the CloudTrail event id of the change, a dynamic path into the event. */
export const GENERIC_IDEMPOTENCY_HEADER = { "Idempotency-Key": "$.detail.responsePayload.change.eventId" };

/** Under the mock runtime (npm run plan) the secret has no value: the template shows this instead. */
const PLAN_PLACEHOLDER_KEY = "PLANROUTINGKEYPLACEHOLDER0000000";

/**
 * The connection's auth, from the secret's value (a Secrets Manager read at deploy time; Pulumi keeps it secret in
 * state, EventBridge in its own KMS-encrypted secret):
 * - FireHydrant: `Authorization: Bearer <bot token>` (a value that already names its scheme is sent as is);
 * - PagerDuty: Events API v2 takes the routing key in the JSON body (`routing_key`), which the target's input
 *   transformer writes (pagerDutyInputTransformer); connections require an auth method, so the key also goes in an
 *   `X-Routing-Key` header, to PagerDuty only, which PagerDuty ignores;
 * - generic: the secret is the whole `Authorization` header value (`Bearer ...`, `Basic ...`).
 */
function connectionAuth(kind: WebhookKind, secretValue: pulumi.Output<string>): pulumi.Input<aws.types.input.cloudwatch.EventConnectionAuthParameters> {
  const value = pulumi.secret(secretValue);
  if (kind === "firehydrant")
    return { apiKey: { key: "Authorization", value: pulumi.secret(secretValue.apply((v) => (/^(Bearer|Basic|Token)\s/i.test(v ?? "") ? v : `Bearer ${v}`))) } };
  if (kind === "pagerduty") return { apiKey: { key: "X-Routing-Key", value } };
  return { apiKey: { key: "Authorization", value } };
}
