/**
 * How preflight and verify reach AWS: SDK v3 clients only, one per (service, account, region), all calls through one
 * bounded limiter. The management account is reached with the caller's credentials (or `deployment.managementRoleArn`),
 * every other account by `sts:AssumeRole` of `deployment.roleName`, as the Pulumi providers do (stacks/providers.ts).
 * Endpoints come from the SDK's own settings (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), which is how the tests
 * point every client at local stubs.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
  type Account,
  type Organization,
} from "@aws-sdk/client-organizations";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import type { StackConfig } from "../stacks/config";
import { forwarderRegions } from "../stacks/config";
import { Limiter, StartError, describeError, pairs, warn, type Finding } from "./checklist";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = { send(command: any): Promise<any>; destroy(): void };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ClientCtor<T extends AnyClient> = new (config: any) => T;

/** Errors that mean the credentials themselves are missing or refused: the run stops with exit 2. */
export function isCredentialError(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? "";
  const message = (err as { message?: string })?.message ?? "";
  return (
    name === "CredentialsProviderError" ||
    /Could not load credentials|Unable to locate credentials/i.test(message) ||
    ["InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidAccessKeyId"].includes(name)
  );
}

export interface Caller {
  account: string;
  arn: string;
}

export class AwsContext {
  readonly limiter: Limiter;
  private readonly clients = new Map<string, AnyClient>();
  private readonly creds = new Map<string, Promise<AwsCredentialIdentity | undefined>>();
  private managementCreds?: Promise<AwsCredentialIdentity | undefined>;
  private orgAccountsMemo?: Promise<Account[]>;
  private targetAccountsMemo?: Promise<string[]>;
  /** Counted so the tests (and --json) can show the run stayed bounded. */
  calls = 0;
  maxInFlight = 0;
  private inFlight = 0;

  constructor(
    readonly config: StackConfig,
    readonly stack: string,
    concurrency: number,
  ) {
    this.limiter = new Limiter(concurrency);
  }

  get home(): string {
    return this.config.homeRegion;
  }

  /** One call, under the limiter, in `account`/`region` (the management account's credentials or an assumed role). */
  async send<T extends AnyClient, O>(ctor: ClientCtor<T>, account: string, region: string, command: { input: unknown }): Promise<O> {
    const client = await this.client(ctor, account, region);
    return this.limiter.run(async () => {
      this.calls++;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        return (await client.send(command)) as O;
      } catch (err) {
        if (isCredentialError(err) && account === this.config.accounts.management) throw new StartError(`credentials refused: ${describeError(err)}`);
        throw err;
      } finally {
        this.inFlight--;
      }
    });
  }

  async client<T extends AnyClient>(ctor: ClientCtor<T>, account: string, region: string): Promise<T> {
    const credentials = await this.credentialsFor(account);
    const key = `${ctor.name}/${account}/${region}`;
    let c = this.clients.get(key);
    if (!c) {
      c = new ctor({ region, credentials, maxAttempts: 3 });
      this.clients.set(key, c);
    }
    return c as T;
  }

  /** Undefined = the SDK's default chain (the caller's own credentials). */
  credentialsFor(account: string): Promise<AwsCredentialIdentity | undefined> {
    const { accounts, deployment } = this.config;
    if (account === accounts.management) {
      this.managementCreds ??= deployment.managementRoleArn ? this.assume(deployment.managementRoleArn, undefined) : Promise.resolve(undefined);
      return this.managementCreds;
    }
    let p = this.creds.get(account);
    if (!p) {
      p = this.credentialsFor(accounts.management).then((base) => this.assume(`arn:${partitionOf(this.home)}:iam::${account}:role/${deployment.roleName}`, base));
      p.catch(() => undefined); // reported by whoever awaits it
      this.creds.set(account, p);
    }
    return p;
  }

  private async assume(roleArn: string, base: AwsCredentialIdentity | undefined): Promise<AwsCredentialIdentity> {
    const sts = new STSClient({ region: this.home, credentials: base, maxAttempts: 2 });
    try {
      const out = await this.limiter.run(() => {
        this.calls++;
        return sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: this.config.deployment.sessionName, DurationSeconds: 3600 }));
      });
      const c = out.Credentials!;
      return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken, expiration: c.Expiration };
    } finally {
      sts.destroy();
    }
  }

  /** Who the management credentials are; no credentials or the wrong account is a StartError (exit 2). */
  async caller(): Promise<Caller> {
    let out;
    let credentials: AwsCredentialIdentity | undefined;
    try {
      credentials = await this.credentialsFor(this.config.accounts.management);
    } catch (err) {
      if (isCredentialError(err)) throw new StartError(`no usable AWS credentials (${describeError(err).split("\n")[0]}): sign in (AWS_PROFILE, aws sso login, or environment variables) and run again`);
      throw new StartError(`cannot assume trailwatch:deployment.managementRoleArn ${this.config.deployment.managementRoleArn} with these credentials: ${describeError(err).split("\n")[0]}`);
    }
    try {
      const sts = new STSClient({ region: this.home, credentials, maxAttempts: 2 });
      out = await sts.send(new GetCallerIdentityCommand({}));
      sts.destroy();
    } catch (err) {
      if (err instanceof StartError) throw err;
      if (isCredentialError(err)) throw new StartError(`no usable AWS credentials (${describeError(err).split("\n")[0]}): sign in to the management account ${this.config.accounts.management} (AWS_PROFILE, aws sso login, or environment variables) and run again`);
      throw new StartError(`cannot reach STS to identify the caller: ${describeError(err).split("\n")[0]}`);
    }
    const account = out.Account ?? "";
    if (account !== this.config.accounts.management)
      throw new StartError(
        `credentials are for account ${account} (${out.Arn}), but stack ${this.stack}'s management account is ${this.config.accounts.management} (trailwatch:accounts.management): use the management account's credentials`,
      );
    return { account, arn: out.Arn ?? "" };
  }

  organization(): Promise<Organization> {
    return this.send<OrganizationsClient, { Organization?: Organization }>(OrganizationsClient, this.config.accounts.management, orgRegion(this.home), new DescribeOrganizationCommand({})).then(
      (o) => o.Organization ?? {},
    );
  }

  /** Every ACTIVE account of the organization. */
  orgAccounts(): Promise<Account[]> {
    this.orgAccountsMemo ??= (async () => {
      const all: Account[] = [];
      let NextToken: string | undefined;
      do {
        const page = await this.send<OrganizationsClient, { Accounts?: Account[]; NextToken?: string }>(OrganizationsClient, this.config.accounts.management, orgRegion(this.home), new ListAccountsCommand({ NextToken }));
        all.push(...(page.Accounts ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
      // `Status` is deprecated in favour of `State` (2025); read either.
      return all.filter((a) => ((a as { State?: string }).State ?? a.Status) === "ACTIVE");
    })();
    return this.orgAccountsMemo;
  }

  /**
   * The accounts the StackSets reach: every ACTIVE account under `memberTargets` (the root = all), without the
   * management account (SERVICE_MANAGED StackSets never deploy there).
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
   */
  targetAccounts(): Promise<string[]> {
    this.targetAccountsMemo ??= (async () => {
      const active = new Set((await this.orgAccounts()).map((a) => a.Id!));
      const found = new Set<string>();
      if (this.config.memberTargets.some((t) => t.startsWith("r-"))) active.forEach((a) => found.add(a));
      else {
        const walk = async (parent: string): Promise<void> => {
          const [accounts, ous] = await Promise.all([this.listAll(ListAccountsForParentCommand, parent, "Accounts"), this.listAll(ListOrganizationalUnitsForParentCommand, parent, "OrganizationalUnits")]);
          for (const a of accounts as Account[]) if (active.has(a.Id!)) found.add(a.Id!);
          await Promise.all((ous as { Id?: string }[]).map((ou) => walk(ou.Id!)));
        };
        await Promise.all(this.config.memberTargets.map(walk));
      }
      found.delete(this.config.accounts.management);
      return [...found].sort();
    })();
    return this.targetAccountsMemo;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async listAll(Cmd: new (input: any) => { input: unknown }, ParentId: string, key: string): Promise<unknown[]> {
    const all: unknown[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.send<OrganizationsClient, Record<string, unknown>>(OrganizationsClient, this.config.accounts.management, orgRegion(this.home), new Cmd({ ParentId, NextToken }));
      all.push(...((page[key] as unknown[]) ?? []));
      NextToken = page.NextToken as string | undefined;
    } while (NextToken);
    return all;
  }

  /** Accounts that get a forwarder: StackSet targets (or direct accounts) plus the management account. */
  async forwarderAccounts(): Promise<string[]> {
    const { forwarder, accounts } = this.config;
    const members = forwarder.mode === "stackset" ? await this.targetAccounts() : forwarder.directAccounts;
    return [...new Set([accounts.management, ...members])].sort();
  }

  /** Every account trailwatch touches: forwarder accounts, security, log archive. */
  async touchedAccounts(): Promise<string[]> {
    const { accounts } = this.config;
    return [...new Set([...(await this.forwarderAccounts()), accounts.security, accounts.logArchive])].sort();
  }

  /**
   * Run `task` in each (account, region). An account whose deployment role cannot be assumed becomes one warn (not a
   * fail per region: the check could not look), a call that fails there one warn per pair; both say how to fix.
   */
  async eachPair<T>(
    accounts: string[],
    regions: string[],
    task: (account: string, region: string) => Promise<T>,
  ): Promise<{ results: { account: string; region: string; value: T }[]; unreachable: Finding[] }> {
    const role = this.config.deployment.roleName;
    const unreachable = new Map<string, Finding>();
    const results: { account: string; region: string; value: T }[] = [];
    await Promise.all(
      pairs(accounts, regions).map(async ({ account, region }) => {
        try {
          await this.credentialsFor(account);
        } catch (err) {
          if (err instanceof StartError) throw err;
          unreachable.set(
            account,
            warn(
              `${account}: not checked, cannot assume ${role} there (${errorName(err)})`,
              `create the role ${role} in ${account} trusting the management account ${this.config.accounts.management}, or check this account by hand`,
            ),
          );
          return;
        }
        try {
          results.push({ account, region, value: await task(account, region) });
        } catch (err) {
          if (err instanceof StartError) throw err;
          unreachable.set(
            `${account}/${region}`,
            warn(`${account} ${region}: not checked: ${describeError(err).split("\n")[0]}`, `allow ${role} in ${account} the read call named in the message, or check this account and region by hand`),
          );
        }
      }),
    );
    results.sort((a, b) => (a.account + a.region).localeCompare(b.account + b.region));
    return { results, unreachable: [...unreachable.values()] };
  }

  forwarderRegions(): string[] {
    return forwarderRegions(this.config);
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** Organizations is a global service with one endpoint per partition (us-east-1 in the commercial one). */
export function orgRegion(home: string): string {
  if (home.startsWith("cn-")) return "cn-northwest-1";
  if (home.startsWith("us-gov-")) return "us-gov-west-1";
  return "us-east-1";
}

/** The error's code as AWS names it. */
export function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? "Error";
}
