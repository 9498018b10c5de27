/**
 * The alarm every trailwatch component raises on a metric: one 5-minute period, actions on the component's alert topic
 * for both ALARM and OK (so the topic also says when it is over). By default it fires on any value above zero (a
 * message in a dead-letter queue, a failed delivery, a quiet forwarder); a "too few" alarm passes its own threshold,
 * comparison and periods.
 * `treatMissingData` is always the caller's choice: "breaching" where no data means the producer itself stopped, and
 * "notBreaching" where a metric is only published when something happens.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
 * A metric math alarm (`metricQueries`) names no metric, period or statistic of its own: its queries do.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { transformed, type Transform } from "./transform";

export interface AlertAlarmArgs {
  /** What happened and what to do: the text in the notification. */
  readonly description: pulumi.Input<string>;
  /** @example "AWS/SQS" (unset with `metricQueries`) */
  readonly namespace?: string;
  /** @example "ApproximateNumberOfMessagesVisible" (unset with `metricQueries`) */
  readonly metricName?: string;
  /** Metric math instead of one metric: the queries, one of them `returnData: true`. */
  readonly metricQueries?: aws.cloudwatch.MetricAlarmArgs["metricQueries"];
  readonly dimensions?: Record<string, pulumi.Input<string>>;
  /** @default "Maximum" */
  readonly statistic?: "Maximum" | "Sum";
  /** How a period without data counts. */
  readonly treatMissingData: "breaching" | "notBreaching";
  /** The SNS topic for the ALARM and OK notifications. */
  readonly topicArn: pulumi.Input<string>;
  /** Also notify when the alarm returns to OK. @default true */
  readonly notifyOk?: boolean;
  /** @default 0 */
  readonly threshold?: number;
  /** @default "GreaterThanThreshold" */
  readonly comparisonOperator?: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  /** 5-minute periods looked at (and that must breach). @default 1 */
  readonly periods?: number;
  /** The alarm's name in CloudWatch; generated when unset. */
  readonly alarmName?: string;
  /** Customize the alarm's args (components/transform.ts). */
  readonly transform?: Transform<aws.cloudwatch.MetricAlarmArgs>;
}

export function alertAlarm(name: string, args: AlertAlarmArgs, opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm {
  if (!args.metricQueries === !args.metricName) throw new Error(`alarm ${name}: give either a metric (namespace, metricName) or metricQueries`);
  const periods = args.periods ?? 1;
  return new aws.cloudwatch.MetricAlarm(
    ...transformed(
      args.transform,
      name,
      {
        ...(args.alarmName ? { name: args.alarmName } : {}),
        alarmDescription: args.description,
        ...(args.metricQueries
          ? { metricQueries: args.metricQueries }
          : {
              namespace: args.namespace,
              metricName: args.metricName,
              ...(args.dimensions ? { dimensions: args.dimensions } : {}),
              statistic: args.statistic ?? "Maximum",
              period: 300,
            }),
        evaluationPeriods: periods,
        ...(periods > 1 ? { datapointsToAlarm: periods } : {}),
        threshold: args.threshold ?? 0,
        comparisonOperator: args.comparisonOperator ?? "GreaterThanThreshold",
        treatMissingData: args.treatMissingData,
        alarmActions: [args.topicArn],
        ...(args.notifyOk === false ? {} : { okActions: [args.topicArn] }),
      },
      opts,
    ),
  );
}
