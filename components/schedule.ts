/**
 * A function run on a schedule: an EventBridge rule with a schedule expression, the permission that lets EventBridge
 * invoke the function (resource-based policy, scoped to this rule's ARN), and the target with a dead-letter queue and
 * a bounded retry policy, so a tick Lambda could not take is kept rather than lost.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html (rate/cron expressions)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { transformed, type Transform } from "./transform";

export interface ScheduleArgs {
  /** The function to run. */
  readonly function: aws.lambda.Function;
  /** `rate(5 minutes)` or `cron(...)`. */
  readonly expression: pulumi.Input<string>;
  /** The rule's description. */
  readonly description: string;
  /** Where ticks EventBridge could not deliver go (an SQS queue ARN). */
  readonly deadLetterArn: pulumi.Input<string>;
  /** How long EventBridge keeps retrying one tick. @default 300 */
  readonly maximumEventAgeInSeconds?: number;
  /** The rule's resource name, where it predates this block (a new name would replace the deployed rule). @default name */
  readonly ruleName?: string;
  /** Customize the rule and the target (components/transform.ts). */
  readonly transform?: { readonly rule?: Transform<aws.cloudwatch.EventRuleArgs>; readonly target?: Transform<aws.cloudwatch.EventTargetArgs> };
}

export interface Schedule {
  readonly rule: aws.cloudwatch.EventRule;
  readonly target: aws.cloudwatch.EventTarget;
}

/** Children: `<ruleName ?? name>` (rule), `<name>-invoke` (permission), `<name>-target`. */
export function scheduleFunction(name: string, args: ScheduleArgs, opts: pulumi.CustomResourceOptions): Schedule {
  const rule = new aws.cloudwatch.EventRule(
    ...transformed(args.transform?.rule, args.ruleName ?? name, { scheduleExpression: args.expression, description: args.description }, opts),
  );
  new aws.lambda.Permission(`${name}-invoke`, { action: "lambda:InvokeFunction", function: args.function.name, principal: "events.amazonaws.com", sourceArn: rule.arn }, opts);
  const target = new aws.cloudwatch.EventTarget(
    ...transformed(
      args.transform?.target,
      `${name}-target`,
      {
        rule: rule.name,
        arn: args.function.arn,
        deadLetterConfig: { arn: args.deadLetterArn },
        retryPolicy: { maximumEventAgeInSeconds: args.maximumEventAgeInSeconds ?? 300, maximumRetryAttempts: 2 },
      },
      opts,
    ),
  );
  return { rule, target };
}
