/**
 * Inline Lambda callbacks (aws.lambda.CallbackFunction), made safe:
 * - always an explicit least-privilege role (without one CallbackFunction attaches nine broad managed policies);
 * - its own log group with retention, KMS when given, written only by this function;
 * - small archives: CallbackFunction would pack every `dependencies` entry into every function (91 MB each measured
 *   here); instead the package modules the serialized callback requires are bundled with esbuild
 *   (components/lambdaBundle.ts), so an archive holds what the function uses and nothing else.
 * The callback must stay thin: create SDK clients inside, read secrets at run time, call into functions/.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy, policyJson, serviceTrust, Statement } from "./iam";
import { allRuntimeDependencies, bundleCallbackPackages } from "./lambdaBundle";
import { transformed, type Transform } from "./transform";

/** Customize an inline function's children (components/transform.ts). */
export interface FunctionTransforms {
  readonly function?: Transform<aws.lambda.CallbackFunctionArgs<any, any>>;
  readonly role?: Transform<aws.iam.RoleArgs>;
  readonly logGroup?: Transform<aws.cloudwatch.LogGroupArgs>;
}

export interface InlineFunctionArgs<E, R> {
  /** The handler. Keep it an adapter: parse, call a function from functions/, do I/O. */
  readonly callback?: aws.lambda.Callback<E, R>;
  /** Or a factory run once per cold start (create clients there), returning the handler. */
  readonly callbackFactory?: aws.lambda.CallbackFactory<E, R>;
  /** What the function may do besides writing its own logs. */
  readonly statements: Statement[];
  readonly environment?: Record<string, pulumi.Input<string>>;
  readonly timeout?: number;
  readonly memorySize?: number;
  readonly description?: string;
  readonly logRetentionDays?: number;
  /** Reserved concurrency, e.g. 1 for a worker that must never run twice at once. */
  readonly reservedConcurrentExecutions?: number;
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
  readonly function: aws.lambda.CallbackFunction<E, R>;
  readonly role: aws.iam.Role;
  /** The role's permissions. The function waits for it, so whatever waits for the function (an event source mapping,
   * whose creation Lambda checks against the role) has its permissions in place. */
  readonly policy: aws.iam.RolePolicy;
  readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: InlineFunctionArgs<E, R>, opts?: pulumi.ComponentResourceOptions) {
    super("trailwatch:lambda:InlineFunction", name, {}, opts);
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
    this.function = new aws.lambda.CallbackFunction<E, R>(
      ...transformed<aws.lambda.CallbackFunctionArgs<E, R>>(args.transform?.function, name, {
        name: functionName,
        description: args.description,
        callback: args.callback,
        callbackFactory: args.callbackFactory,
        role: this.role,
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        timeout: args.timeout ?? 30,
        memorySize: args.memorySize ?? 256,
        reservedConcurrentExecutions: args.reservedConcurrentExecutions,
        environment: args.environment ? { variables: args.environment } : undefined,
        deadLetterConfig: args.deadLetterTargetArn ? { targetArn: args.deadLetterTargetArn } : undefined,
        loggingConfig: { logFormat: args.emitsMetrics ? "Text" : "JSON", logGroup: this.logGroup.name },
        tags: args.emitsMetrics ? { [EMF_TAG]: "true" } : undefined,
        // No package folders: the transformation adds one bundle of exactly the modules the callback requires.
        codePathOptions: { extraExcludePackages: allRuntimeDependencies() },
      },
      // The archive is rewritten by a (legacy) transformation: CallbackFunction overwrites any `code` it is given, and
      // Pulumi's engine-side `transforms` run in the Pulumi CLI, never on the mock runtime, so the archives the tests
      // load would not be the ones that ship. https://www.pulumi.com/docs/iac/concepts/options/transformations/
      // Event source mappings fail to create until the role may read the source (Lambda checks it at creation):
      // waiting here gives every mapping on this function that order, instead of relying on the provider's retries.
      // https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions
      { parent: this, dependsOn: [this.logGroup, this.policy], transformations: [bundleCallbackPackages(functionName)] }),
    );
    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn });
  }
}
