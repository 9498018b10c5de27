/**
 * Who, inside a principal: the `sessionName` of deny and sg-change lines.
 *
 * - An assumed role (`userIdentity.type` `AssumedRole`): the role session name, the last segment of its
 *   `arn:aws:sts::<account>:assumed-role/<role>/<session>` ARN; for an IAM Identity Center role that is the user's
 *   name. Without it, the session's source identity (`userIdentity.sessionContext.sourceIdentity`, set at
 *   AssumeRole and kept through role chaining).
 * - An Identity Center user acting directly (`IdentityCenterUser`): its user name, else its `onBehalfOf.userId`.
 * - Anything else (IAM user, root, a service): null; `principalArn` already names it.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html
 *
 * Fields of the wrong type are absent: never throws.
 */
import type { CloudTrailRecord } from "../cloudtrail";

const text = (v: unknown): string | null => (typeof v === "string" && v.length > 0 && v.length <= 256 ? v : null);

export function personOf(record: CloudTrailRecord): string | null {
  const id = record?.userIdentity;
  if (!id || typeof id !== "object") return null;
  const ctx = id.sessionContext && typeof id.sessionContext === "object" ? id.sessionContext : {};
  if (id.type === "AssumedRole") {
    const arn = text(id.arn);
    const m = arn ? /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(arn) : null;
    return (m ? text(m[1]) : null) ?? text((ctx as Record<string, unknown>).sourceIdentity);
  }
  if (id.type === "IdentityCenterUser") {
    const behalf = id.onBehalfOf && typeof id.onBehalfOf === "object" ? (id.onBehalfOf as Record<string, unknown>) : {};
    return text(id.userName) ?? text(behalf.userId);
  }
  return null;
}
