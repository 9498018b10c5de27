/**
 * An alarm that tells the alert topic: a metric above its threshold (default: any) in one 5-minute period alarms,
 * and the topic hears again when it is OK. Missing data is not breaching by default: a quiet function or an empty
 * queue is fine. A metric math alarm (`metricQueries`) takes no period or statistic of its own.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html (alarms on expressions)
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { transformed, type Transform } from "./transform";

export interface AlertAlarmArgs {
  /** What it means and what to do: the alarm's description, which the notification shows. */
  readonly description: string;
  /** The metric: `namespace`, `metricName`, `dimensions`, `statistic`; or `metricQueries` for metric math. */
  readonly metric: Pick<aws.cloudwatch.MetricAlarmArgs, "namespace" | "metricName" | "dimensions" | "statistic" | "metricQueries">;
  /** Alarm above this. @default 0 */
  readonly threshold?: number;
  /** Where the alarm and OK notifications go. */
  readonly alertTopicArn: pulumi.Input<string>;
  /** Customize the alarm's args. */
  readonly transform?: Transform<aws.cloudwatch.MetricAlarmArgs>;
}

export function alertAlarm(name: string, args: AlertAlarmArgs, opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    ...transformed(
      args.transform,
      name,
      {
        alarmDescription: args.description,
        ...args.metric,
        ...(args.metric.metricQueries ? {} : { period: 300 }),
        evaluationPeriods: 1,
        threshold: args.threshold ?? 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [args.alertTopicArn],
        okActions: [args.alertTopicArn],
      },
      opts,
    ),
  );
}
