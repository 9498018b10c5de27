/**
 * The Slack side the SG review and the SCP watch share, from the `slack` config section: the channel, the approvers,
 * and the account names every message shows.
 */
import type { StackConfig } from "./config";
import type { SlackApprovalSettings } from "../components/feature";

/**
 * Account names for the messages: `slack.accountNames`, with `sgRevertBot.accountNames` winning where set (the older
 * key; README "Slack messages" documents it for the SG review, SCP watch, deny and change digests).
 */
export function messageAccountNames(config: StackConfig): Record<string, string> {
  return { ...config.slack?.accountNames, ...config.sgRevertBot.accountNames };
}

/** Channel, approvers and account names, for a feature whose buttons only approvers may use (Slack must be on). */
export function slackApproval(config: StackConfig): SlackApprovalSettings {
  const slack = config.slack!;
  return { channel: slack.channelId, approverUserIds: slack.approverUserIds, approverUserGroupId: slack.approverUserGroupId, accountNames: messageAccountNames(config) };
}
