/**
 * `npm run verify -- --probe <account>`: one test event through that account's forwarder, seen on the central bus.
 *
 * 1. In the security account (home region): a temporary SSE queue and a temporary rule on the central bus matching
 *    only this probe's id, the queue as its target.
 * 2. In the probed account and region: `PutEvents` on the default bus, an event shaped like a CloudTrail write call
 *    (`detail-type: AWS API Call via CloudTrail`, `readOnly: false`), which the forwarder's `trailwatch-changes` stream
 *    forwards (components/forwarderTemplate.ts). Its eventName, PutEvents, is on the change feed's noise list, so no
 *    consumer on the central bus acts on it (it only lands in the searchable security-event log). The source is
 *    `trailwatch.verify`: custom events may use any source but `aws.*`.
 *    https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html
 * 3. Wait for it in the queue (long polling), resending a few times: a new rule takes effect after a short delay.
 * 4. Remove the rule, its target and the queue, whatever happened.
 */
import * as crypto from "crypto";
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand, DeleteRuleCommand } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { StackConfig } from "../stacks/config";
import { describeError, fail, pass, warn, type Finding } from "./checklist";
import { partitionOf, type AwsContext } from "./awsContext";

export const PROBE_SOURCE = "trailwatch.verify";

export interface ProbeTiming {
  /** Seconds to wait for the event in all. */
  timeoutSeconds: number;
  /** Long-poll wait per ReceiveMessage (at most 20). */
  pollSeconds: number;
  /** Seconds between sends while nothing arrived. */
  resendSeconds: number;
}

export function probeTiming(env: NodeJS.ProcessEnv = process.env): ProbeTiming {
  const n = (v: string | undefined, d: number) => (v !== undefined && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);
  return {
    timeoutSeconds: n(env.TRAILWATCH_PROBE_TIMEOUT_SECONDS, 120),
    pollSeconds: Math.min(20, n(env.TRAILWATCH_PROBE_POLL_SECONDS, 10)),
    resendSeconds: n(env.TRAILWATCH_PROBE_RESEND_SECONDS, 30),
  };
}

/** The test event, as the forwarder's changes stream and the temporary rule both match it. */
export function probeEvent(id: string, account: string, region: string): { Source: string; DetailType: string; Detail: string; EventBusName: string } {
  return {
    Source: PROBE_SOURCE,
    DetailType: "AWS API Call via CloudTrail",
    EventBusName: "default",
    Detail: JSON.stringify({
      probeId: id,
      eventVersion: "1.08",
      eventSource: "events.amazonaws.com",
      eventName: "PutEvents",
      readOnly: false,
      awsRegion: region,
      recipientAccountId: account,
      userIdentity: { type: "AWSService", invokedBy: "trailwatch-verify" },
    }),
  };
}

export async function runProbe(aws: AwsContext, config: StackConfig, account: string, region: string, timing: ProbeTiming = probeTiming()): Promise<Finding[]> {
  if (!config.features.eventBackbone) return [fail("features.eventBackbone is off: there is no forwarder to probe", "drop --probe")];
  if (account === config.accounts.management && !config.features.changeFeed)
    return [
      warn(
        `${account} is the management account: its forwarder forwards the changes stream only with features.changeFeed, and any other stream would reach a consumer`,
        "probe a member account instead (--probe <member account id>)",
      ),
    ];
  const security = config.accounts.security;
  const home = config.homeRegion;
  const bus = config.eventBus.name;
  const id = crypto.randomBytes(6).toString("hex");
  const name = `trailwatch-verify-probe-${id}`;
  const partition = partitionOf(home);
  const queueArn = `arn:${partition}:sqs:${home}:${security}:${name}`;
  // Rules on a custom bus have the bus name in their ARN.
  const ruleArn = `arn:${partition}:events:${home}:${security}:rule/${bus}/${name}`;
  const cleanup: (() => Promise<unknown>)[] = [];
  const started = Date.now();
  try {
    const queue = await aws.send<SQSClient, { QueueUrl?: string }>(
      SQSClient,
      security,
      home,
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          SqsManagedSseEnabled: "true",
          MessageRetentionPeriod: "900",
          Policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: queueArn, Condition: { ArnEquals: { "aws:SourceArn": ruleArn } } }],
          }),
        },
      }),
    );
    const queueUrl = queue.QueueUrl!;
    cleanup.unshift(() => aws.send(SQSClient, security, home, new DeleteQueueCommand({ QueueUrl: queueUrl })));
    await aws.send(
      EventBridgeClient,
      security,
      home,
      new PutRuleCommand({ Name: name, EventBusName: bus, State: "ENABLED", Description: "trailwatch verify --probe (temporary)", EventPattern: JSON.stringify({ source: [PROBE_SOURCE], detail: { probeId: [id] } }) }),
    );
    cleanup.unshift(() => aws.send(EventBridgeClient, security, home, new DeleteRuleCommand({ Name: name, EventBusName: bus })));
    await aws.send(EventBridgeClient, security, home, new PutTargetsCommand({ Rule: name, EventBusName: bus, Targets: [{ Id: "probe", Arn: queueArn }] }));
    cleanup.unshift(() => aws.send(EventBridgeClient, security, home, new RemoveTargetsCommand({ Rule: name, EventBusName: bus, Ids: ["probe"] })));

    const send = async () => {
      const out = await aws.send<EventBridgeClient, { FailedEntryCount?: number; Entries?: { ErrorCode?: string; ErrorMessage?: string }[] }>(
        EventBridgeClient,
        account,
        region,
        new PutEventsCommand({ Entries: [probeEvent(id, account, region)] }),
      );
      if (out.FailedEntryCount) throw new Error(`PutEvents refused the test event: ${out.Entries?.[0]?.ErrorCode} ${out.Entries?.[0]?.ErrorMessage}`);
    };
    await send();
    let lastSend = Date.now();
    while (Date.now() - started < timing.timeoutSeconds * 1000) {
      const wait = Math.max(0, Math.min(timing.pollSeconds, Math.ceil((timing.timeoutSeconds * 1000 - (Date.now() - started)) / 1000)));
      const got = await aws.send<SQSClient, { Messages?: { Body?: string }[] }>(SQSClient, security, home, new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: wait, MaxNumberOfMessages: 10 }));
      for (const m of got.Messages ?? []) {
        const event = JSON.parse(m.Body ?? "{}");
        if (event.detail?.probeId === id)
          return [pass(`test event ${id} from ${event.account ?? account} ${event.region ?? region} reached ${bus} in ${((Date.now() - started) / 1000).toFixed(1)} s`)];
      }
      if (Date.now() - lastSend > timing.resendSeconds * 1000) {
        await send();
        lastSend = Date.now();
      }
    }
    return [
      fail(
        `test event ${id} put on ${account} ${region}'s default bus did not reach ${bus} within ${timing.timeoutSeconds} s`,
        `in ${account} ${region}: check rule trailwatch-changes is ENABLED with target ${bus} (aws events list-targets-by-rule --rule trailwatch-changes --region ${region}), the queue trailwatch-forwarder-dlq, and the forwarder role trailwatch-forwarder-${region}`,
      ),
    ];
  } catch (err) {
    return [fail(`probe failed: ${describeError(err).split("\n")[0]}`, "the probe needs sqs:CreateQueue/DeleteQueue/ReceiveMessage and events:PutRule/PutTargets/RemoveTargets/DeleteRule in the security account and events:PutEvents in the probed account (the deployment role has them)")];
  } finally {
    for (const undo of cleanup)
      await undo().catch((err) => process.stderr.write(`verify: probe cleanup failed, remove ${name} by hand (rule on ${bus}, queue in ${security} ${home}): ${describeError(err)}\n`));
  }
}
