/**
 * The SgRevertBot's ports on real services: EC2 through the spoke role in the target account, and the review
 * buttons' listeners for the Bolt app that receives clicks on a Lambda Function URL (Slack itself: ../../slack/port.ts).
 */
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupEgressCommand, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { partitionOf } from "../../cloudtrail";
import type { Register } from "../../slack/app";
import { APPROVE_ACTION, DENY_ACTION, type ReviewButtonValue } from "./messages";
import { decide, type BotSettings, type Ec2Port } from "./handlers";
import { slackPort } from "../../slack/port";
import type { ReviewStore } from "./state";

export const SPOKE_ROLE_NAME = "trailwatch-sg-revert-spoke";

/** "Rule not found" on revoke or describe: the rule is already gone. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html */
const NOT_FOUND = "InvalidSecurityGroupRuleId.NotFound";

export function spokeEc2(opts: { externalId: string; sessionName?: string }): Ec2Port {
  // One assumed session per account and region while its credentials last (a plain object: see slack/client.ts).
  const sessions: Record<string, { client: EC2Client; until: number } | undefined> = {};
  const clientFor = async (accountId: string, region: string): Promise<EC2Client> => {
    const cached = sessions[`${accountId}/${region}`];
    if (cached && cached.until > Date.now()) return cached.client;
    const roleArn = `arn:${partitionOf(region)}:iam::${accountId}:role/${SPOKE_ROLE_NAME}`;
    const out = await new STSClient({ region }).send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: opts.sessionName ?? "trailwatch-sg-revert", ExternalId: opts.externalId, DurationSeconds: 900 }),
    );
    const c = out.Credentials!;
    const client = new EC2Client({ region, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration } });
    sessions[`${accountId}/${region}`] = { client, until: (c.Expiration ? new Date(c.Expiration).getTime() : Date.now() + 900_000) - 60_000 };
    return client;
  };
  return {
    async revoke({ accountId, region, groupId, direction, ruleIds }) {
      const ec2 = await clientFor(accountId, region);
      const input = { GroupId: groupId, SecurityGroupRuleIds: ruleIds };
      try {
        if (direction === "ingress") await ec2.send(new RevokeSecurityGroupIngressCommand(input));
        else await ec2.send(new RevokeSecurityGroupEgressCommand(input));
        return "revoked";
      } catch (err) {
        if ((err as { name?: string; Code?: string }).name === NOT_FOUND || (err as { Code?: string }).Code === NOT_FOUND) return "gone";
        throw err;
      }
    },
    async remaining({ accountId, region, groupId, ruleIds }) {
      const ec2 = await clientFor(accountId, region);
      try {
        const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ruleIds }));
        return (out.SecurityGroupRules ?? []).filter((r) => r.GroupId === groupId).map((r) => r.SecurityGroupRuleId!);
      } catch (err) {
        if ((err as { name?: string }).name === NOT_FOUND) return [];
        throw err;
      }
    },
  };
}

/** The review buttons' listeners, for the Slack app (functions/slack/app.ts). */
export function registerSgReview(deps: { store: ReviewStore; settings: BotSettings; log?: (line: object) => void }): Register {
  return (app) => {
    for (const [actionId, decision] of [
      [APPROVE_ACTION, "approve"],
      [DENY_ACTION, "deny"],
    ] as const) {
      app.action(actionId, async ({ ack, body, action, client }) => {
        await ack();
        const value = JSON.parse((action as { value?: string }).value ?? "{}") as ReviewButtonValue;
        const b = body as { user: { id: string }; channel?: { id: string } };
        await decide(
          { user: b.user.id, channel: b.channel?.id ?? deps.settings.channel, decision, value },
          { store: deps.store, slack: slackPort(client), settings: deps.settings, now: new Date(), log: deps.log },
        );
      });
    }
  };
}
