/** The SCP watch's ports on real services: Organizations through the management account's detach role, SNS. */
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { DetachPolicyCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Notifier, OrganizationsPort } from "./handlers";

export const DETACH_ROLE_NAME = "trailwatch-scp-detach";

/** Organizations is global; its API endpoint lives in us-east-1 (aws partition). */
export function detachThroughRole(opts: { roleArn: string }): OrganizationsPort {
  return {
    async detach(policyId, targetId) {
      const out = await new STSClient({}).send(new AssumeRoleCommand({ RoleArn: opts.roleArn, RoleSessionName: "trailwatch-scp-detach", DurationSeconds: 900 }));
      const c = out.Credentials!;
      const org = new OrganizationsClient({
        region: "us-east-1",
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration },
      });
      await org.send(new DetachPolicyCommand({ PolicyId: policyId, TargetId: targetId }));
    },
  };
}

export function snsNotifier(topicArn: string): Notifier {
  const sns = new SNSClient({});
  return {
    async publish(subject, message) {
      await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject.slice(0, 100), Message: message }));
    },
  };
}
