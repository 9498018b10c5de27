/**
 * ChangeFeed: every write management event from the central bus, minus noise, as a change record tagged with its
 * environment and owner, delivered in real time to change-tracking tools through EventBridge API destinations, and
 * optionally posted to Slack.
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
 * The handlers and the payloads they build: functions/changeFeed/ (handler.ts, payload.ts, digest.ts).
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * API destinations: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html
 */
import { CHANGE_FEED_DEFAULTS } from "./defaults";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InlineFunction, type FunctionTransforms } from "./lambda";
import type { CentralEventBus } from "./centralEventBus";
import { policy, policyJson, serviceTrust, useKey } from "./iam";
import { accountKeyPolicy } from "./kms";
import { TARGET_RETRY } from "./forwarderTemplate";
import { DEFAULT_NOISE, type EnvironmentMap } from "../functions/changeFeed";
import { CHANGE_SCHEMA, INVOCATION_FAILURE, INVOCATION_SUCCESS, type NormalizerSettings, type WebhookKind } from "../functions/changeFeed/payload";
import { DIGEST_CHANNEL_ENV, DIGEST_OUTSIDE_IAC_ONLY_ENV, makeChangeDigestHandler, makeChangeNormalizerHandler } from "../functions/changeFeed/handler";
import { changeResultPattern, invocationResultPattern, writeCallsPattern } from "../functions/patterns";
import type { SlackOutbox } from "./slackOutbox";
import type { OrgContext } from "./org";
import { destinationFailureAlarm } from "./asyncFailures";
import { LIST_ACCOUNTS_STATEMENT, accountNamesEnvironment } from "./accountDirectory";
import { transformed, type Transform } from "./transform";
import { alertAlarm } from "./alarm";

export { CHANGE_SCHEMA, INVOCATION_FAILURE, INVOCATION_SUCCESS, type WebhookKind };

/** One receiver of change events: an EventBridge connection and API destination, and the rule that feeds it. */
export interface ChangeFeedWebhook {
  /** kebab-case, used in resource names. @example "firehydrant" */
  readonly name: string;
  /** The payload format the receiver takes. */
  readonly kind: WebhookKind;
  /** The https:// endpoint. @example "https://events.pagerduty.com/v2/change/enqueue" */
  readonly url: string;
  /** Secrets Manager secret (name or ARN, this account) holding the auth value; read at deploy time into the connection. */
  readonly secret: string;
  /** Invocations per second EventBridge allows the destination. @default WEBHOOK_RATE_LIMITS[kind] */
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

/** FireHydrant ids for the change events. */
export interface FireHydrantMapping {
  /** Environment name -> FireHydrant environment id. */
  readonly environments: Readonly<Record<string, string>>;
  /** Owner, account id or environment name -> FireHydrant service ids (a change gets the union of its matches). */
  readonly services: Readonly<Record<string, readonly string[]>>;
}

export { CHANGE_FEED_DEFAULTS };

/** Posting changes of some environments to Slack. */
export interface ChangeFeedSlackArgs {
  /** Digests go through the Slack outbox. */
  readonly outbox: SlackOutbox;
  /** The channel the digests go to. @example "C0123ABCD45" */
  readonly channelId: string;
  /** Environments whose changes are posted. @example ["prod"] */
  readonly environments: readonly string[];
  /** Only changes no IaC tool made. @default CHANGE_FEED_DEFAULTS.slack.outsideIacOnly (true) */
  readonly outsideIacOnly?: boolean;
  /** SQS batching window in minutes (at most 5): one digest per environment per window. Unset: post as they come. */
  readonly everyMinutes?: number;
  /** Account id -> name from config; they win over the organization's (ListAccounts). @default {} */
  readonly accountNames?: Readonly<Record<string, string>>;
}

export interface ChangeFeedArgs {
  /** The central bus: the write events come from it, the normalizer's results go back to it. */
  readonly bus: CentralEventBus;
  /** The organization: the feed runs in its security account and home region (the bus's). */
  readonly org: OrgContext;
  /** Account id -> environment and owner; `defaultEnvironment` for the rest (unset: DEFAULT_ENVIRONMENT, "unknown"). */
  readonly environments: EnvironmentMap;
  /** Left out on top of DEFAULT_NOISE. @default no more */
  readonly noise?: { readonly eventNames: readonly string[]; readonly principals: readonly string[] };
  /** The receivers. @default [] (records reach the bus only) */
  readonly webhooks?: readonly ChangeFeedWebhook[];
  /** Links FireHydrant change events to environments and services (so they show on incidents). */
  readonly fireHydrant?: FireHydrantMapping;
  /** Post changes of these environments to Slack (one digest per environment per SQS batch). Unset: no Slack. */
  readonly slack?: ChangeFeedSlackArgs;
  /** Days the feed's functions keep their logs. @default CHANGE_FEED_DEFAULTS.logRetentionDays (90) */
  readonly logRetentionDays?: number;
  /**
   * Customize the children: both functions (the callback gets `<name>-normalizer` or `<name>-slack`), their roles and
   * log groups, every webhook's connection, API destination, rule and target.
   */
  readonly transform?: FunctionTransforms & {
    readonly connection?: Transform<aws.cloudwatch.EventConnectionArgs>;
    readonly apiDestination?: Transform<aws.cloudwatch.EventApiDestinationArgs>;
    readonly rule?: Transform<aws.cloudwatch.EventRuleArgs>;
    readonly target?: Transform<aws.cloudwatch.EventTargetArgs>;
  };
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

/** The change feed's patterns (the pattern registry's). */
export { changeResultPattern, invocationResultPattern, writeCallsPattern };

export class ChangeFeed extends pulumi.ComponentResource {
  readonly normalizer: InlineFunction;
  readonly connectionKey?: aws.kms.Key;
  readonly destinations: Record<string, aws.cloudwatch.EventApiDestination> = {};
  /** The queue of changes for Slack, and the function that posts their digests (with `slack` only). */
  readonly slackQueue?: aws.sqs.Queue;
  readonly slackPoster?: InlineFunction;
  /** Per webhook name: its connection and the rule that feeds its API destination. */
  readonly connections: Record<string, aws.cloudwatch.EventConnection> = {};
  readonly rules: Record<string, aws.cloudwatch.EventRule> = {};

  constructor(name: string, args: ChangeFeedArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:changes:ChangeFeed", name, {}, opts);
    const p = { parent: this };
    const bus = args.bus;
    const logRetentionDays = args.logRetentionDays ?? CHANGE_FEED_DEFAULTS.logRetentionDays;
    const accountId = args.org.accounts.security;
    const region = args.org.homeRegion;
    const noise = { eventNames: [...(args.noise?.eventNames ?? [])], principals: [...(args.noise?.principals ?? [])] };
    const webhooks = args.webhooks ?? [];
    const t = args.transform;
    const functionTransforms: FunctionTransforms = { function: t?.function, role: t?.role, logGroup: t?.logGroup };

    const settings: NormalizerSettings = {
      environments: {
        accounts: { ...args.environments.accounts },
        ...(args.environments.defaultEnvironment !== undefined ? { defaultEnvironment: args.environments.defaultEnvironment } : {}),
      },
      extraNoise: noise,
      kinds: [...new Set(webhooks.map((w) => w.kind))].sort(),
      ...(args.fireHydrant
        ? {
            fireHydrant: {
              environments: { ...args.fireHydrant.environments },
              services: Object.fromEntries(Object.entries(args.fireHydrant.services).map(([k, v]) => [k, [...v]])),
            },
          }
        : {}),
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
        callbackFactory: () => makeChangeNormalizerHandler(settings),
        transform: functionTransforms,
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
      writeCallsPattern(noise.eventNames),
      { kind: "lambda", function: this.normalizer.function },
      "Write management events for the change feed (noise event names left out)",
    );
    // Invocations that failed after Lambda's retries land here, for inspection and redrive; the alarm says so.
    bus.subscribe(
      `${name}-failures`,
      invocationResultPattern(INVOCATION_FAILURE, accountId, region, functionName),
      { kind: "sqs", visibilityTimeoutSeconds: 60 },
      "Change feed events the normalizer failed on after retries",
    );
    alertAlarm(
      `${name}-normalizer-errors`,
      {
        description: `trailwatch: the change feed normalizer failed; the events wait in the ${name}-failures queue`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: this.normalizer.function.name },
        statistic: "Sum",
        treatMissingData: "notBreaching",
        topicArn: bus.alertTopic.arn,
      },
      p,
    );

    if (webhooks.length > 0) {
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
            accountKeyPolicy(accountId, region, [], [
              {
                Sid: "EventBridgeConnectionSecretsOnly",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${accountId}:root` },
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

      for (const w of webhooks) {
        const secretValue = aws.secretsmanager.getSecretVersionOutput({ secretId: w.secret }, p).secretString;
        const connection = new aws.cloudwatch.EventConnection(
          ...transformed(t?.connection, `${name}-${w.name}`, {
            name: `tw-${pulumi.getStack()}-${w.name}`.slice(0, 64),
            description: `trailwatch change feed to ${w.name} (${w.kind}); auth from Secrets Manager secret ${w.secret}`,
            authorizationType: "API_KEY",
            authParameters: connectionAuth(w.kind, secretValue),
            kmsKeyIdentifier: this.connectionKey.arn,
          }, p),
        );
        this.connections[w.name] = connection;
        this.destinations[w.name] = new aws.cloudwatch.EventApiDestination(
          ...transformed(t?.apiDestination, `${name}-${w.name}`, {
            name: `tw-${pulumi.getStack()}-${w.name}`.slice(0, 64),
            description: `trailwatch change feed: ${w.kind} change events`,
            connectionArn: connection.arn,
            invocationEndpoint: w.url,
            httpMethod: "POST",
            invocationRateLimitPerSecond: w.rateLimitPerSecond ?? WEBHOOK_RATE_LIMITS[w.kind],
          }, p),
        );
      }
      // EventBridge calls the API destinations with this role; it may call these and nothing else.
      const invokeRole = new aws.iam.Role(`${name}-invoke`, { assumeRolePolicy: serviceTrust("events.amazonaws.com", accountId) }, p);
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
      for (const w of webhooks) {
        const rule = new aws.cloudwatch.EventRule(
          ...transformed(t?.rule, `${name}-${w.name}-rule`, {
            eventBusName: bus.bus.name,
            eventPattern: JSON.stringify(changeResultPattern(accountId, region, functionName)),
            description: `Change records to ${w.name} (${w.kind})`,
          }, p),
        );
        this.rules[w.name] = rule;
        new aws.cloudwatch.EventTarget(
          ...transformed<aws.cloudwatch.EventTargetArgs>(t?.target, `${name}-${w.name}-target`, {
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
          }, p),
        );
      }
    }

    if (args.slack) {
      const s = args.slack;
      const outsideIacOnly = s.outsideIacOnly ?? CHANGE_FEED_DEFAULTS.slack.outsideIacOnly;
      const windowSeconds = (s.everyMinutes ?? 0) * 60;
      const sub = bus.subscribe(
        `${name}-slack`,
        changeResultPattern(accountId, region, functionName, {
          change: { where: { environment: [...s.environments] }, ...(outsideIacOnly ? { who: { via: [{ "anything-but": "iac" }] } } : {}) },
        }),
        { kind: "sqs", visibilityTimeoutSeconds: 180, maxReceiveCount: 5 },
        `Changes in ${s.environments.join(", ")}${outsideIacOnly ? " made outside IaC" : ""}, for Slack`,
      );
      this.slackQueue = sub.queue!;
      this.slackPoster = new InlineFunction(
        `${name}-slack`,
        {
          description: "Change feed: hands a digest of changes per environment to the Slack outbox",
          timeout: 30,
          logRetentionDays,
          environment: {
            [DIGEST_CHANNEL_ENV]: s.channelId,
            [DIGEST_OUTSIDE_IAC_ONLY_ENV]: String(outsideIacOnly),
            ...s.outbox.senderEnvironment(),
            ...accountNamesEnvironment(s.accountNames ? { ...s.accountNames } : undefined),
          },
          statements: [
            { Sid: "ReceiveChanges", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [this.slackQueue.arn] },
            useKey(bus.key.arn, "QueueKey", ["kms:Decrypt"]),
            ...s.outbox.senderStatements(),
            LIST_ACCOUNTS_STATEMENT,
          ],
          callbackFactory: () => makeChangeDigestHandler(),
          transform: functionTransforms,
        },
        p,
      );
      new aws.lambda.EventSourceMapping(
        `${name}-slack-source`,
        {
          eventSourceArn: this.slackQueue.arn,
          functionName: this.slackPoster.function.name,
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
