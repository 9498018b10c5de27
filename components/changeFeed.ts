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
import { slackClient } from "../functions/slack/client";

export type WebhookKind = "firehydrant" | "pagerduty" | "generic";

export interface ChangeFeedWebhook {
  /** kebab-case, used in resource names. */
  readonly name: string;
  readonly kind: WebhookKind;
  /** https:// endpoint, e.g. https://api.firehydrant.io/v1/changes/events or https://events.pagerduty.com/v2/change/enqueue */
  readonly url: string;
  /** Secrets Manager secret (name or ARN, this account) holding the auth value; read at deploy time into the connection. */
  readonly secret: string;
  readonly rateLimitPerSecond: number;
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
  /** Post changes of these environments to Slack (one digest per environment per SQS batch). */
  readonly slack?: {
    botTokenSecretArn: pulumi.Input<string>;
    channelId: string;
    environments: string[];
    outsideIacOnly: boolean;
    /** SQS batching window in minutes (at most 5); unset = post as they come. */
    everyMinutes?: number;
  };
  readonly logRetentionDays?: number;
}

/** The `schema` of every payload the normalizer returns; rules match on it. */
export const CHANGE_SCHEMA = "trailwatch.change/v1";
export const INVOCATION_SUCCESS = "Lambda Function Invocation Result - Success";
export const INVOCATION_FAILURE = "Lambda Function Invocation Result - Failure";

export interface NormalizerSettings {
  environments: EnvironmentMap;
  extraNoise: { eventNames: string[]; principals: string[] };
  kinds: WebhookKind[];
}

export interface ChangePayload {
  schema: typeof CHANGE_SCHEMA;
  change: ChangeRecord;
  firehydrant?: ReturnType<typeof fireHydrantChangeEvent>;
  /** Without `routing_key`: the PagerDuty connection adds it to the body from its secret. */
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
  if (s.kinds.includes("firehydrant")) out.firehydrant = fireHydrantChangeEvent(change);
  if (s.kinds.includes("pagerduty")) {
    const { routing_key: _fromConnection, ...body } = pagerDutyChangeEvent(change, "");
    out.pagerduty = body;
  }
  if (s.kinds.includes("generic")) out.generic = genericWebhook(change);
  return out;
}

/**
 * One Slack digest per environment for a batch of SQS messages, each a central-bus "invocation result" event
 * carrying a change payload. Unreadable messages are logged and dropped (they cannot succeed on retry).
 */
export async function postChangeDigests(
  records: { messageId: string; body: string }[],
  opts: { outsideIacOnly: boolean; post: (m: { text: string; blocks: object[] }) => Promise<void>; log: (entry: object) => void },
): Promise<{ posted: number; changes: number }> {
  const byEnvironment: Record<string, ChangeRecord[]> = {};
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
    changes++;
  }
  let posted = 0;
  for (const env of Object.keys(byEnvironment).sort()) {
    const list = byEnvironment[env].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const message = slackDigest(list, env, { outsideIacOnly: opts.outsideIacOnly });
    if (message.blocks.length <= 2) continue; // every change was filtered out
    await opts.post(message);
    posted++;
  }
  return { posted, changes };
}

/**
 * Events Lambda put on the bus for this function: pinned to the account (EventBridge sets `account` to the sender's,
 * so another account of the organization cannot forge them) and to the function, with a change payload.
 */
export function changeResultPattern(accountId: string, region: string, functionName: string, payload: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...invocationResultPattern(INVOCATION_SUCCESS, accountId, region, functionName),
    detail: { requestContext: functionArnMatch(accountId, region, functionName), responsePayload: { schema: [CHANGE_SCHEMA], ...payload } },
  };
}

/** Any invocation result (success or failure) of this function, from this account. */
export function invocationResultPattern(detailType: string, accountId: string, region: string, functionName: string): Record<string, unknown> {
  return { source: ["lambda"], "detail-type": [detailType], account: [accountId], detail: { requestContext: functionArnMatch(accountId, region, functionName) } };
}

/** `requestContext.functionArn` is the qualified ARN (`...:function:name:$LATEST`); the unqualified one is matched too. */
function functionArnMatch(accountId: string, region: string, functionName: string): Record<string, unknown> {
  const arn = `arn:aws*:lambda:${region}:${accountId}:function:${functionName}`;
  return { functionArn: [{ wildcard: arn }, { wildcard: `${arn}:*` }] };
}

/** The central-bus events the normalizer reads: write API calls, the noise list's exact event names left out. */
export function writeCallsPattern(extraNoiseEventNames: string[]): Record<string, unknown> {
  return {
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      readOnly: [false],
      eventName: [{ "anything-but": [...new Set([...DEFAULT_NOISE.eventNames, ...extraNoiseEventNames])].sort() }],
    },
  };
}

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
            invocationRateLimitPerSecond: w.rateLimitPerSecond,
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
            // The body the normalizer built for this kind of receiver.
            inputPath: `$.detail.responsePayload.${w.kind}`,
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
          description: "Change feed: posts a digest of changes per environment to Slack",
          timeout: 30,
          logRetentionDays,
          environment: { SLACK_CHANNEL_ID: s.channelId, SLACK_BOT_TOKEN_SECRET: s.botTokenSecretArn },
          statements: [
            { Sid: "ReceiveChanges", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [this.slackQueue.arn] },
            { Sid: "QueueKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [bus.key.arn] },
            { Sid: "SlackToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [s.botTokenSecretArn] },
          ],
          callbackFactory: () => {
            const iacFiltered = outsideIacOnly;
            return async (event: { Records: { messageId: string; body: string }[] }) =>
              postChangeDigests(event.Records ?? [], {
                outsideIacOnly: iacFiltered,
                post: async (m) => {
                  const slack = await slackClient(process.env.SLACK_BOT_TOKEN_SECRET!);
                  await slack.chat.postMessage({ channel: process.env.SLACK_CHANNEL_ID!, text: m.text, blocks: m.blocks as any, unfurl_links: false });
                },
                log: (e) => console.log(JSON.stringify(e)),
              });
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

/**
 * The connection's auth, from the secret's value (a Secrets Manager read at deploy time; Pulumi keeps it secret in
 * state, EventBridge in its own KMS-encrypted secret):
 * - FireHydrant: `Authorization: Bearer <bot token>` (a value that already names its scheme is sent as is);
 * - PagerDuty: Events API v2 takes the routing key in the JSON body (`routing_key`), so the connection adds it as a
 *   secret body parameter; connections require an auth method, so the key also goes in `X-Routing-Key`, to PagerDuty only;
 * - generic: the secret is the whole `Authorization` header value (`Bearer ...`, `Basic ...`).
 */
function connectionAuth(kind: WebhookKind, secretValue: pulumi.Output<string>): pulumi.Input<aws.types.input.cloudwatch.EventConnectionAuthParameters> {
  const value = pulumi.secret(secretValue);
  if (kind === "firehydrant")
    return { apiKey: { key: "Authorization", value: pulumi.secret(secretValue.apply((v) => (/^(Bearer|Basic|Token)\s/i.test(v ?? "") ? v : `Bearer ${v}`))) } };
  if (kind === "pagerduty")
    return {
      apiKey: { key: "X-Routing-Key", value },
      invocationHttpParameters: { bodies: [{ key: "routing_key", value, isValueSecret: true }] },
    };
  return { apiKey: { key: "Authorization", value } };
}
