/**
 * The Slack port every feature posts through: the few Web API calls the features make (post, update, ephemeral,
 * user-group members, user by email), behind one interface so handlers run against fakes in tests, and one way to
 * get it from the bot token's secret (read at run time, cached per container: ./client.ts).
 * Web API methods: https://api.slack.com/methods/chat.postMessage, https://api.slack.com/methods/chat.update,
 * https://api.slack.com/methods/chat.postEphemeral, https://api.slack.com/methods/usergroups.users.list,
 * https://api.slack.com/methods/users.lookupByEmail
 */
import type { WebClient } from "@slack/web-api";
import { slackClient } from "./client";

/** The environment variable holding the bot token secret's ARN (never the token: it is read at run time). */
export const SLACK_BOT_TOKEN_ENV = "SLACK_BOT_TOKEN_SECRET";

export interface SlackPort {
  /** A new message, or a reply in a thread (`thread_ts`), optionally also shown in the channel. */
  post(channel: string, message: { text: string; blocks: object[]; thread_ts?: string; reply_broadcast?: boolean }): Promise<{ ts: string }>;
  update(channel: string, ts: string, message: { text: string; blocks: object[] }): Promise<void>;
  ephemeral(channel: string, user: string, text: string): Promise<void>;
  /** Members of a Slack user group (usergroups.users.list). */
  groupMembers(groupId: string): Promise<string[]>;
}

/** The port on a Web API client (the bot's, or the one Bolt hands a listener). */
export function slackPort(client: WebClient): SlackPort {
  return {
    async post(channel, m) {
      // Links in review and alert messages are not unfurled: their previews would crowd the channel.
      const base = { channel, text: m.text, blocks: m.blocks as any, unfurl_links: false };
      const out = await client.chat.postMessage(m.thread_ts ? { ...base, thread_ts: m.thread_ts, reply_broadcast: m.reply_broadcast ?? false } : base);
      return { ts: out.ts! };
    },
    async update(channel, ts, m) {
      await client.chat.update({ channel, ts, text: m.text, blocks: m.blocks as any });
    },
    async ephemeral(channel, user, text) {
      await client.chat.postEphemeral({ channel, user, text });
    },
    async groupMembers(groupId) {
      const out = await client.usergroups.users.list({ usergroup: groupId });
      return out.users ?? [];
    },
  };
}

/**
 * Whether `user` may take an approver's decision (a review's Approve / Deny, an SCP detach): one of the approver user
 * ids, or a member of the approver user group (asked of Slack at the time of the click).
 */
export async function isApprover(user: string, approvers: { readonly approverUserIds: readonly string[]; readonly approverUserGroupId?: string }, slack: SlackPort): Promise<boolean> {
  if (approvers.approverUserIds.includes(user)) return true;
  if (!approvers.approverUserGroupId) return false;
  return (await slack.groupMembers(approvers.approverUserGroupId)).includes(user);
}

/**
 * The bot's port, its token read from the secret `botTokenSecretId` (once per container). Handlers call it per
 * invocation, not at cold start: a secret without a value yet (Slack set up after the first deploy) fails the
 * invocation that needs Slack, and the next one reads it again.
 */
export async function botSlackPort(botTokenSecretId: string): Promise<SlackPort> {
  return slackPort(await slackClient(botTokenSecretId));
}

/**
 * The Slack user id of a workspace member by email (users.lookupByEmail, scope users:read.email). An email no member
 * has is an error from Slack (`users_not_found`): the call rejects.
 */
export async function slackUserIdByEmail(botTokenSecretId: string, email: string): Promise<string | null> {
  const slack = await slackClient(botTokenSecretId);
  return (await slack.users.lookupByEmail({ email })).user?.id ?? null;
}
