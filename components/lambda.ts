/**
 * Inline Lambda callbacks, serialized like aws.lambda.CallbackFunction serializes them, made safe:
 * - always an explicit least-privilege role (CallbackFunction without one attaches nine broad managed policies);
 * - its own log group with retention, written only by this function;
 * - small archives: CallbackFunction would pack every `dependencies` entry into every function (91 MB each measured
 *   here); instead the package modules the serialized callback requires are bundled with esbuild
 *   (components/lambdaBundle.ts callbackArchive), so an archive holds what the function uses and nothing else.
 * The callback stays one line: `callbackFactory: () => makeXxxHandler()` from `functions/<feature>/handler.ts`, which
 * reads its environment, creates its SDK clients, reads secrets at run time and calls into functions/.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy, policyJson, serviceTrust, Statement } from "./iam";
import { callbackArchive, HANDLER_EXPORT } from "./lambdaBundle";
import { transformed, type Transform } from "./transform";

/** Customize an inline function's children (components/transform.ts). */
export interface FunctionTransforms {
  readonly function?: Transform<aws.lambda.FunctionArgs>;
  readonly role?: Transform<aws.iam.RoleArgs>;
  readonly logGroup?: Transform<aws.cloudwatch.LogGroupArgs>;
}

export interface InlineFunctionArgs<E, R> {
  /** The handler. Keep it an adapter: parse, call a function from functions/, do I/O. Give this or `callbackFactory`. */
  readonly callback?: aws.lambda.Callback<E, R>;
  /**
   * A factory run once per cold start (reads the environment, creates clients), returning the handler.
   * @example () => makeFindingsNotifierHandler()
   */
  readonly callbackFactory?: aws.lambda.CallbackFactory<E, R>;
  /** What the function may do besides writing its own logs. */
  readonly statements: Statement[];
  /** The function's environment variables (names: the handler module's exported constants). */
  readonly environment?: Record<string, pulumi.Input<string>>;
  /** Seconds per invocation. @default 30 */
  readonly timeout?: number;
  /** MB. @default 256 */
  readonly memorySize?: number;
  readonly description?: string;
  /** Days the function's log group keeps its logs (a CloudWatch Logs retention value). @default 90 */
  readonly logRetentionDays?: number;
  /** Reserved concurrency, e.g. 1 for a worker that must never run twice at once. @default none (unreserved) */
  readonly reservedConcurrentExecutions?: number;
  /** Where asynchronous invocations that failed go (an SQS queue or SNS topic ARN). @default none */
  readonly deadLetterTargetArn?: pulumi.Input<string>;
  /**
   * The function prints CloudWatch embedded metric format lines. EMF must reach the log as the raw JSON line, which
   * Lambda's JSON log format would wrap in `{"message": ...}` (no metric is ever extracted), so the function logs as
   * Text, and must write each line with `process.stdout.write` (console.log prefixes it with a timestamp and level).
   * Marked with the `trailwatch:emf` tag, which the deploy rule `emf-lines-raw-under-text-log-format` checks.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html
   * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html
   */
  readonly emitsMetrics?: boolean;
  /** Customize the function, its role or its log group. */
  readonly transform?: FunctionTransforms;
}

/** The tag InlineFunction puts on functions that print EMF lines (policy/rules.ts EMF_TAG). */
export const EMF_TAG = "trailwatch:emf";

export class InlineFunction<E = unknown, R = unknown> extends pulumi.ComponentResource {
  /** The Lambda function (type `aws:lambda/function:Function`, named like the component). */
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  /** The role's permissions. The function waits for it, so whatever waits for the function (an event source mapping,
   * whose creation Lambda checks against the role) has its permissions in place. */
  readonly policy: aws.iam.RolePolicy;
  readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: InlineFunctionArgs<E, R>, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:lambda:InlineFunction", name, {}, opts);
    const callback = args.callback ?? args.callbackFactory;
    if (!callback || (args.callback && args.callbackFactory)) throw new Error(`InlineFunction ${name}: give exactly one of callback and callbackFactory`);
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const functionName = `tw-${pulumi.getStack()}-${name}`.slice(0, 64);
    this.logGroup = new aws.cloudwatch.LogGroup(
      ...transformed(args.transform?.logGroup, `${name}-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays ?? 90 }, { parent: this }),
    );
    this.role = new aws.iam.Role(...transformed(args.transform?.role, `${name}-role`, { assumeRolePolicy: serviceTrust("lambda.amazonaws.com", account) }, { parent: this }));
    this.policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: policyJson(
          policy(
            {
              Sid: "OwnLogsOnly",
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: [pulumi.interpolate`${this.logGroup.arn}:*`],
            },
            ...args.statements,
          ),
        ),
      },
      { parent: this },
    );
    this.function = new aws.lambda.Function(
      ...transformed<aws.lambda.FunctionArgs>(
        args.transform?.function,
        name,
        {
          name: functionName,
          description: args.description,
          code: callbackArchive(functionName, callback, !!args.callbackFactory),
          handler: `__index.${HANDLER_EXPORT}`,
          role: this.role.arn,
          runtime: "nodejs22.x",
          architectures: ["arm64"],
          timeout: args.timeout ?? 30,
          memorySize: args.memorySize ?? 256,
          reservedConcurrentExecutions: args.reservedConcurrentExecutions,
          environment: args.environment ? { variables: args.environment } : undefined,
          deadLetterConfig: args.deadLetterTargetArn ? { targetArn: args.deadLetterTargetArn } : undefined,
          loggingConfig: { logFormat: args.emitsMetrics ? "Text" : "JSON", logGroup: this.logGroup.name },
          tags: args.emitsMetrics ? { [EMF_TAG]: "true" } : undefined,
        },
        // Event source mappings fail to create until the role may read the source (Lambda checks it at creation):
        // waiting here gives every mapping on this function that order, instead of relying on the provider's retries.
        // https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions
        { parent: this, dependsOn: [this.logGroup, this.policy] },
      ),
    );
    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn });
  }
}
