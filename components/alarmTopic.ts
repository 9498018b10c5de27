/**
 * An SNS topic for CloudWatch alarms: encrypted with a customer managed key (whose policy must let
 * cloudwatch.amazonaws.com use it: `accountKeyPolicy(..., ["alarms"])`), publishable only by this account's alarms,
 * only over TLS, with email subscriptions (each recipient confirms).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policy, policyJson, serviceMay } from "./iam";
import { transformed, type Transform } from "./transform";

export interface AlarmTopicArgs {
  /** The customer managed key that encrypts the topic (its policy lets CloudWatch alarms use it). */
  readonly keyId: pulumi.Input<string>;
  /** The account whose alarms may publish (aws:SourceAccount). */
  readonly accountId: string;
  /** The sender name in the notification emails. */
  readonly displayName: string;
  /** Email subscriptions (each recipient confirms). */
  readonly emails: readonly string[];
  /** Customize the topic's args (components/transform.ts). */
  readonly transform?: Transform<aws.sns.TopicArgs>;
}

export function alarmTopic(name: string, args: AlarmTopicArgs, opts: pulumi.CustomResourceOptions): aws.sns.Topic {
  const topic = new aws.sns.Topic(...transformed(args.transform, name, { kmsMasterKeyId: args.keyId, displayName: args.displayName }, opts));
  new aws.sns.TopicPolicy(
    `${name}-policy`,
    {
      arn: topic.arn,
      policy: policyJson(
        policy(
          serviceMay("CloudWatchAlarmsOnly", "cloudwatch.amazonaws.com", "sns:Publish", topic.arn, { StringEquals: { "aws:SourceAccount": args.accountId } }),
          denyInsecureTransport([topic.arn], "sns:Publish"),
        ),
      ),
    },
    opts,
  );
  for (const email of args.emails)
    new aws.sns.TopicSubscription(`${name}-${email.replace(/[^a-z0-9]/gi, "-")}`, { topic: topic.arn, protocol: "email", endpoint: email }, opts);
  return topic;
}
