/**
 * A program that uses the response components directly, as another Pulumi program would: run on the mock runtime by
 * tests/responseTransforms.test.ts (one program per process), it prints the planned resources as JSON on stdout.
 * `sg`, `scp` and `deny` set a transform on every child kind; `sgPlain`, `scpPlain` and `denyPlain` give only the
 * required args, so the components' defaults show.
 */
import * as aws from "@pulumi/aws";
import { runOnMocks } from "../cli/mockRuntime";
import type { OrgContext } from "../components/org";
import type { CentralEventBus } from "../components/centralEventBus";
import type { SlackOutbox } from "../components/slackOutbox";
import { SgRevertBot } from "../components/sgRevertBot";
import { ScpWatch } from "../components/scpWatch";
import { DenyAdvisor } from "../components/denyAdvisor";

const subscriptions: { name: string; target: Record<string, unknown> }[] = [];

function program(): Record<string, unknown> {
  const mgmt = new aws.Provider("mgmt", { region: "us-east-1", allowedAccountIds: ["111111111111"] });
  const org: OrgContext = {
    organizationId: "o-abc123defg",
    accounts: { management: "111111111111", security: "222222222222", logArchive: "333333333333" },
    homeRegion: "eu-west-1",
    regions: ["eu-west-1"],
    memberTargets: ["r-ab12"],
    stackSetPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25 },
    provider: () => mgmt,
    providerForAccount: () => mgmt,
  };
  const key = new aws.kms.Key("bus-key", {});
  const bus = {
    key,
    deliveryDeadLetter: new aws.sqs.Queue("dlq", {}),
    alertTopic: new aws.sns.Topic("alerts", {}),
    subscribe(name: string, _pattern: unknown, target: { kind: string; retentionDays?: number }) {
      subscriptions.push({ name, target: { kind: target.kind, retentionDays: target.retentionDays } });
      if (target.kind === "logGroup") return { logGroup: new aws.cloudwatch.LogGroup(name, { retentionInDays: target.retentionDays }) };
      if (target.kind === "sqs") return { queue: new aws.sqs.Queue(name, {}) };
      return {};
    },
  } as unknown as CentralEventBus;
  const outbox = { senderEnvironment: () => ({ SLACK_OUTBOX_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/222222222222/outbox.fifo" }), senderStatements: () => [], recordPostsIn: () => undefined } as unknown as SlackOutbox;
  const base = { bus, org, outbox, slackBotTokenSecretArn: "arn:aws:secretsmanager:eu-west-1:222222222222:secret:bot" };
  const approvers = { channel: "C0123456789", approverUserIds: ["U0123456789"] };
  const functionTransforms = {
    function: (a: aws.lambda.FunctionArgs, _o: unknown, name: string) => {
      a.memorySize = 1024;
      a.tags = { ...a.tags, transformed: name };
    },
    role: { maxSessionDuration: 7200 },
    logGroup: (a: aws.cloudwatch.LogGroupArgs) => {
      a.retentionInDays = 365;
    },
  };

  new SgRevertBot("sg", {
    ...base,
    settings: approvers,
    transform: {
      ...functionTransforms,
      table: { deletionProtectionEnabled: true },
      rule: (a, _o, name) => {
        a.description = `rule ${name}`;
      },
      target: { retryPolicy: { maximumEventAgeInSeconds: 600, maximumRetryAttempts: 5 } },
      eventSource: { batchSize: 1 },
      stackSet: { tags: { transformed: "stackSet" } },
      instances: (a) => {
        a.regions = ["us-east-1"];
      },
      spokeRole: { maxSessionDuration: 7200 },
      spokePolicy: (_a, _o, name) => {
        subscriptions.push({ name, target: { kind: "spokePolicy transform" } });
      },
    },
  });
  new ScpWatch("scp", {
    ...base,
    settings: { ...approvers, rollback: true },
    transform: {
      ...functionTransforms,
      table: { deletionProtectionEnabled: true },
      rule: { description: "digest rule" },
      target: { retryPolicy: { maximumEventAgeInSeconds: 900, maximumRetryAttempts: 1 } },
      eventSource: { batchSize: 2 },
      detachRole: { maxSessionDuration: 7200 },
      detachPolicy: (a) => {
        a.name = "detach-only";
      },
      dashboard: { dashboardName: "custom-scp" },
    },
  });
  new DenyAdvisor("deny", {
    ...base,
    slackChannelId: "C0123456789",
    decode: {},
    transform: {
      ...functionTransforms,
      table: (a, _o, name) => {
        a.tags = { transformed: name };
      },
      eventSource: { batchSize: 7 },
      decodeSpokes: { managementRole: { maxSessionDuration: 7200 }, stackSet: { tags: { transformed: "decode" } } },
    },
  });

  new SgRevertBot("sgPlain", { ...base, settings: approvers });
  new ScpWatch("scpPlain", { ...base, settings: approvers });
  new DenyAdvisor("denyPlain", { ...base, slackChannelId: "C0123456789", decode: {} });
  return {};
}

runOnMocks({ project: "trailwatch", stack: "components", config: {}, secretKeys: [] }, program).then(
  (result) => process.stdout.write(JSON.stringify({ resources: result.resources, subscriptions })),
  (err) => {
    process.stderr.write(String((err as Error)?.stack ?? err));
    process.exit(1);
  },
);
