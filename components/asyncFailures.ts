/**
 * Asynchronous Lambda invocations (EventBridge rules, schedules) that still fail after Lambda's own retries are
 * discarded unless the function has an on-failure destination or a DLQ. This gives a function one: the queue (e.g.
 * the central bus's delivery DLQ, which alarms when it holds a message), the execution role's right to send there
 * (Lambda sends destination records with the function's role), and an alarm on DestinationDeliveryFailures (a record
 * too large for the queue, or a refused send, is otherwise lost silently).
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html (DestinationDeliveryFailures)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy, policyJson, useKey } from "./iam";
import { alertAlarm } from "./alarm";
import type { InlineFunction } from "./lambda";

export interface AsyncFailureArgs {
  /** The SQS queue failed invocation records go to. */
  readonly queueArn: pulumi.Input<string>;
  /** The queue's KMS key. */
  readonly keyArn: pulumi.Input<string>;
  readonly alertTopicArn: pulumi.Input<string>;
  /** Lambda's retries of a failed invocation (0-2). @default 2 */
  readonly maximumRetryAttempts?: number;
  /** How long Lambda keeps an event it could not run yet (60-21600 s). @default 21600 */
  readonly maximumEventAgeInSeconds?: number;
}

/** The destination, its permission and the delivery-failure alarm, as children of `parent`. */
export function onAsyncFailure(name: string, fn: InlineFunction, args: AsyncFailureArgs, parent: pulumi.Resource): aws.lambda.FunctionEventInvokeConfig {
  const p = { parent };
  const send = new aws.iam.RolePolicy(
    `${name}-on-failure`,
    {
      role: fn.role.id,
      policy: policyJson(
        policy(
          { Sid: "FailedInvocations", Effect: "Allow", Action: "sqs:SendMessage", Resource: [args.queueArn] },
          useKey(args.keyArn, "FailedInvocationsKey", ["kms:GenerateDataKey", "kms:Decrypt"]),
        ),
      ),
    },
    p,
  );
  const config = new aws.lambda.FunctionEventInvokeConfig(
    `${name}-async`,
    {
      functionName: fn.function.name,
      maximumRetryAttempts: args.maximumRetryAttempts ?? 2,
      maximumEventAgeInSeconds: args.maximumEventAgeInSeconds ?? 21600,
      destinationConfig: { onFailure: { destination: args.queueArn } },
    },
    // Lambda checks the role may send to the destination when it is set.
    { parent, dependsOn: [send] },
  );
  destinationFailureAlarm(name, fn.function.name, args.alertTopicArn, parent);
  return config;
}

/** An alarm on a function's DestinationDeliveryFailures (records its destinations could not take). */
export function destinationFailureAlarm(name: string, functionName: pulumi.Input<string>, alertTopicArn: pulumi.Input<string>, parent: pulumi.Resource): aws.cloudwatch.MetricAlarm {
  return alertAlarm(
    `${name}-destination-failures`,
    {
      description: `trailwatch: ${name} could not deliver invocation records to its destination (events lost: check the record size and the destination's permissions)`,
      namespace: "AWS/Lambda",
      metricName: "DestinationDeliveryFailures",
      dimensions: { FunctionName: functionName },
      statistic: "Sum",
      treatMissingData: "notBreaching",
      topicArn: alertTopicArn,
    },
    { parent },
  );
}
