/**
 * CloudFormation StackSets' trusted access with AWS Organizations: SERVICE_MANAGED StackSets (the forwarders, the
 * Config recorders, the SG revert spokes, the vendor role) can only be created once the management account has
 * activated it with `ActivateOrganizationsAccess`; enabling the StackSets service principal through Organizations
 * alone is not the same switch. Activation is idempotent here: nothing is called where it is already ENABLED (Control
 * Tower organizations, an earlier console click).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ActivateOrganizationsAccess.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeOrganizationsAccess.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-activate-trusted-access.html
 */
import {
  ActivateOrganizationsAccessCommand,
  CloudFormationClient,
  DescribeOrganizationsAccessCommand,
} from "@aws-sdk/client-cloudformation";

export type ActivationOutcome = "already-enabled" | "activated";

/**
 * Activate StackSets' organizations access unless it is already ENABLED, then wait until Describe says ENABLED
 * (it may lag the call). Throws with what to do when the caller is not the management account or a
 * delegated administrator (AWS answers ValidationError / AccessDenied).
 */
export async function ensureOrganizationsAccess(
  client: Pick<CloudFormationClient, "send">,
  opts: { pollMs?: number; maxPolls?: number } = {},
): Promise<ActivationOutcome> {
  const status = async () => (await client.send(new DescribeOrganizationsAccessCommand({}))).Status;
  const first = await status();
  if (first === "ENABLED") return "already-enabled";
  if (first === "DISABLED_PERMANENTLY")
    throw new Error(
      "CloudFormation StackSets' trusted access with AWS Organizations is DISABLED_PERMANENTLY in this organization: " +
        "service-managed StackSets cannot be used; set forwarder.mode: direct and turn off the features that deploy StackSets",
    );
  try {
    await client.send(new ActivateOrganizationsAccessCommand({}));
  } catch (err) {
    const e = err as Error;
    throw new Error(
      `CloudFormation StackSets could not activate trusted access with AWS Organizations (${e.name}: ${e.message}). ` +
        `Deploy with the organization's management account credentials, or activate it once in the CloudFormation ` +
        `console (StackSets > Activate trusted access) and run again.`,
    );
  }
  for (let i = 0; i < (opts.maxPolls ?? 30); i++) {
    const s = await status();
    if (s === "ENABLED") return "activated";
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
  throw new Error("CloudFormation StackSets organizations access was activated but is still not ENABLED after 60 s; run again");
}
