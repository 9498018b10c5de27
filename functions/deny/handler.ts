/**
 * The deny advisor's Lambda entry points (components/denyAdvisor.ts deploys them): each `make…Handler(env)` reads the
 * environment the component set (names below), builds its clients once per container and returns the handler. The
 * batch logic is in ./batch.ts, the role inventory in ../roleInventory.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { processDenyBatch, type SqsRecord } from "./batch";
import { dynamoDenyStore } from "./store";
import { spokeDecoder } from "./decode";
import type { DigestOptions } from "./digest";
import { dynamoRoleInventory, roleChangeInputOf } from "../roleInventory";
import { resolvingOwnerOf } from "../slack/mentions";
import { denyDigestNotice } from "../slack/notices";
import { slackUserIdByEmail, SLACK_BOT_TOKEN_ENV } from "../slack/port";
import { OUTBOX_QUEUE_ENV, sqsNoticeSender } from "../slack/outboxAdapters";
import { envAccountDirectory } from "../accounts/directory";
import { parseJsonEnv, logJsonLine, requireEnv } from "../env";

/** The environment the deny advisor's functions read. */
export const DENY_ADVISOR_ENV = {
  /** The findings table's name. */
  findingsTable: "FINDINGS_TABLE",
  /** The role inventory table's name. */
  rolesTable: "ROLES_TABLE",
  /** The role tag naming a role's owner. */
  ownerTagKey: "OWNER_TAG_KEY",
  /** The Slack channel the digests go to. */
  channel: "SLACK_CHANNEL_ID",
  /** Optional: the digest's account names and mentionable ids (DigestOptions), JSON. */
  digestOptions: "DIGEST_OPTIONS",
  /** Optional: the decode spokes' ExternalId; unset = encoded messages stay undecoded. */
  decodeExternalId: "DECODE_EXTERNAL_ID",
  /** The region STS is called in for decoding where the deny's own region is unknown. */
  decodeHomeRegion: "DECODE_HOME_REGION",
  /** The Slack bot token secret's ARN (for users.lookupByEmail). */
  botToken: SLACK_BOT_TOKEN_ENV,
  /** The Slack outbox queue's URL (components/slackOutbox.ts senderEnvironment). */
  outboxQueue: OUTBOX_QUEUE_ENV,
} as const;

/** processor: a batch of denies from SQS -> classified, deduped findings -> one digest through the outbox. */
export function makeDenyProcessorHandler(env: NodeJS.ProcessEnv = process.env) {
  const E = DENY_ADVISOR_ENV;
  const e = requireEnv(env, [E.findingsTable, E.rolesTable, E.ownerTagKey, E.channel, E.botToken, E.outboxQueue], "deny-advisor processor");
  const ddb = new DynamoDBClient({});
  const outbox = sqsNoticeSender(new SQSClient({}), e[E.outboxQueue]);
  const store = dynamoDenyStore(ddb, e[E.findingsTable]);
  const roles = dynamoRoleInventory(ddb, e[E.rolesTable], e[E.ownerTagKey]);
  const configured = env[E.digestOptions] ? parseJsonEnv<DigestOptions>(env[E.digestOptions]!, E.digestOptions, "deny-advisor processor") : {};
  const digestOptions = { ...configured, resolvedOwners: {} as Record<string, string> };
  // An email owner tag becomes a mention only when Slack resolves it to a user (users:read.email).
  const ownerOf = resolvingOwnerOf((arn) => roles.ownerOf(arn), (email) => slackUserIdByEmail(e[E.botToken], email), digestOptions.resolvedOwners);
  // Account names: config over Organizations, cached an hour per container (denies are no account events).
  const directory = envAccountDirectory(digestOptions.accountNames);
  const externalId = env[E.decodeExternalId];
  const decode = externalId ? spokeDecoder({ externalId, homeRegion: env[E.decodeHomeRegion] }) : undefined;
  const where = { channel: e[E.channel], table: e[E.findingsTable] };
  return async (event: { Records: SqsRecord[] }) =>
    processDenyBatch(event.Records, {
      store,
      // The same resolvedOwners object: resolved emails stay cached across batches.
      digestOptions: { ...digestOptions, accountNames: await directory.names() },
      ownerOf,
      post: (m, marks) => outbox.send(denyDigestNotice(m, marks, where)),
      log: logJsonLine,
      now: () => new Date(),
      decode,
    });
}

/** roles: IAM role events -> the role inventory (tags, last change) the digest names owners from. */
export function makeRoleInventoryHandler(env: NodeJS.ProcessEnv = process.env) {
  const E = DENY_ADVISOR_ENV;
  const e = requireEnv(env, [E.rolesTable, E.ownerTagKey], "deny-advisor roles");
  const roles = dynamoRoleInventory(new DynamoDBClient({}), e[E.rolesTable], e[E.ownerTagKey]);
  return async (event: { detail?: unknown }) => {
    const change = roleChangeInputOf(event?.detail);
    if (!change) return { skipped: true };
    await roles.apply(change);
    return { applied: change.roleArn };
  };
}
