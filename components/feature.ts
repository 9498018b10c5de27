/**
 * What the response features' Args share: the Slack channel and approvers they post to and take decisions from, and
 * the transforms they offer for the children every such feature has (components/transform.ts):
 * its functions (each with its role and log group), its state table, its schedule and its stream or queue worker's
 * event source mapping. A feature adds the children only it has.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { CentralEventBus } from "./centralEventBus";
import type { OrgContext } from "./org";
import type { SlackOutbox } from "./slackOutbox";
import type { FunctionTransforms } from "./lambda";
import type { Transform } from "./transform";

/** What every response feature is built on. */
export interface ResponseFeatureArgs {
  /** The central event bus: the feature's event streams, the KMS key its tables use, the dead-letter queue and alert topic. */
  readonly bus: CentralEventBus;
  /** The organization: its id, accounts, home region, member targets and the management account's provider. */
  readonly org: OrgContext;
  /** Secret (ARN) holding the Slack bot token: functions read it at run time, never from their environment. */
  readonly slackBotTokenSecretArn: pulumi.Input<string>;
  /** New messages go through the Slack outbox: posted once, paced, their ts recorded on the feature's items. */
  readonly outbox: SlackOutbox;
}

/** The Slack side of a feature whose messages carry buttons only approvers may use. */
export interface SlackApprovalSettings {
  /** The Slack channel id the feature posts in. @example "C0123456789" */
  readonly channel: string;
  /** Slack user ids whose decisions count. */
  readonly approverUserIds: readonly string[];
  /** A Slack user group whose members may decide too. */
  readonly approverUserGroupId?: string;
  /** Account id -> name in the messages, over the names Organizations lists. @default {} */
  readonly accountNames?: Readonly<Record<string, string>>;
}

export interface FeatureTransforms extends FunctionTransforms {
  /** The feature's DynamoDB table(s) (the callback's name argument tells them apart). */
  readonly table?: Transform<aws.dynamodb.TableArgs>;
  /** The schedule's EventBridge rule. */
  readonly rule?: Transform<aws.cloudwatch.EventRuleArgs>;
  /** The schedule's EventBridge target. */
  readonly target?: Transform<aws.cloudwatch.EventTargetArgs>;
  /** The worker's event source mapping (a table stream or a queue). */
  readonly eventSource?: Transform<aws.lambda.EventSourceMappingArgs>;
}

/** The function transforms alone, for InlineFunction. */
export function functionTransforms(t: FunctionTransforms | undefined): FunctionTransforms {
  return { function: t?.function, role: t?.role, logGroup: t?.logGroup };
}
