/**
 * Typed IAM policy documents and the few trust policies every component needs. Policies are module-level
 * functions returning a `PolicyDocument`, serialized with `pulumi.jsonStringify` so Outputs resolve inside.
 */
import * as pulumi from "@pulumi/pulumi";

export type Condition = Record<string, Record<string, pulumi.Input<string | string[] | boolean>>>;

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | { Service?: string | string[]; AWS?: pulumi.Input<string> | pulumi.Input<string>[] };
  Action: string | string[];
  Resource?: pulumi.Input<string> | pulumi.Input<string>[];
  Condition?: Condition;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

export function policy(...statements: Statement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Serialize a policy whose values may be Outputs. */
export function policyJson(doc: PolicyDocument): pulumi.Output<string> {
  return pulumi.jsonStringify(doc as unknown as pulumi.Input<unknown>);
}

/**
 * Trust policy for an AWS service, scoped to one account with aws:SourceAccount against the confused deputy.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */
export function serviceTrust(service: string, sourceAccount?: pulumi.Input<string>): pulumi.Output<string> {
  return policyJson(
    policy({
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sts:AssumeRole",
      ...(sourceAccount ? { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } } : {}),
    }),
  );
}

/**
 * Allow an AWS service principal `action` on `resource`: resource policies (bucket, queue, topic, key, log group) and
 * trust policies. Scope it with `condition` (aws:SourceAccount / aws:SourceArn) against the confused deputy.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */
export function serviceMay(
  sid: string | undefined,
  service: string | string[],
  action: string | string[],
  resource?: Statement["Resource"],
  condition?: Condition,
): Statement {
  return {
    ...(sid ? { Sid: sid } : {}),
    Effect: "Allow",
    Principal: { Service: service },
    Action: action,
    ...(resource !== undefined ? { Resource: resource } : {}),
    ...(condition ? { Condition: condition } : {}),
  };
}

/** Deny any request that does not use TLS: the statement every bucket and topic policy carries. */
export function denyInsecureTransport(resources: pulumi.Input<string>[], actions = "s3:*"): Statement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: actions,
    Resource: resources,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * Read one Secrets Manager secret's value. A secret encrypted with the AWS managed key (`aws/secretsmanager`) needs no
 * key permission; trailwatch's Slack secrets use it.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
 */
export function readSecret(secretArn: pulumi.Input<string>, sid = "ReadSecret"): Statement {
  return { Sid: sid, Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] };
}

/**
 * Use a customer managed key for the data of a store it encrypts: Decrypt to read, GenerateDataKey to write (DynamoDB,
 * SQS and SNS ask for a data key on write). A key policy that delegates to IAM (`accountKeyPolicy`) lets this statement
 * grant it. https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 */
export function useKey(keyArn: pulumi.Input<string>, sid = "UseKey", actions: string[] = ["kms:Decrypt", "kms:GenerateDataKey"]): Statement {
  return { Sid: sid, Effect: "Allow", Action: actions, Resource: [keyArn] };
}
