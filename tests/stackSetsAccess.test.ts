/**
 * CloudFormation StackSets' organizations access, activated by the program before any SERVICE_MANAGED StackSet
 * (components/stackSetsAccess.ts), at the SDK boundary: the exact calls AWS receives, idempotent where access is
 * already on, refused with credentials of the wrong account.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ActivateOrganizationsAccess.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeOrganizationsAccess.html
 */
import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import { ActivateOrganizationsAccessCommand, CloudFormationClient, DescribeOrganizationsAccessCommand } from "@aws-sdk/client-cloudformation";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ensureOrganizationsAccess } from "../functions/stackSetsAccess";
import { stackSetsAccessProvider, ORGANIZATIONS_ACCESS_MARKER } from "../components/stackSetsAccess";

describe("StackSets organizations access", () => {
  // Mocked only while this file's tests run: mockClient patches the client class for the whole process (describe
  // bodies run when mocha loads the files), which would take STS and CloudFormation from every other test file.
  let cfn: ReturnType<typeof mockClient>;
  let sts: ReturnType<typeof mockClient>;
  before(() => {
    cfn = mockClient(CloudFormationClient);
    sts = mockClient(STSClient);
  });
  after(() => {
    cfn.restore();
    sts.restore();
  });
  afterEach(() => {
    cfn.reset();
    sts.reset();
  });
  const inputs = { managementAccountId: "111122223333", region: "eu-west-1", access: ORGANIZATIONS_ACCESS_MARKER };

  it("calls nothing but Describe where access is already ENABLED (Control Tower organizations)", async () => {
    cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: "ENABLED" });
    expect(await ensureOrganizationsAccess(new CloudFormationClient({ region: "eu-west-1" }))).to.equal("already-enabled");
    expect(cfn.commandCalls(ActivateOrganizationsAccessCommand)).to.have.length(0);
  });

  it("activates once where it is DISABLED and waits until Describe says ENABLED", async () => {
    cfn.on(DescribeOrganizationsAccessCommand).resolvesOnce({ Status: "DISABLED" }).resolvesOnce({ Status: "DISABLED" }).resolves({ Status: "ENABLED" });
    expect(await ensureOrganizationsAccess(new CloudFormationClient({ region: "eu-west-1" }), { pollMs: 1 })).to.equal("activated");
    expect(cfn.commandCalls(ActivateOrganizationsAccessCommand)).to.have.length(1);
    // The API takes no parameters (CallAs is for delegated administrators; we run in the management account).
    expect(cfn.commandCalls(ActivateOrganizationsAccessCommand)[0].args[0].input).to.deep.equal({});
  });

  it("stops with a clear message where access is DISABLED_PERMANENTLY", async () => {
    cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: "DISABLED_PERMANENTLY" });
    const err = await ensureOrganizationsAccess(new CloudFormationClient({ region: "eu-west-1" })).then(() => null, (e: Error) => e);
    expect(err?.message).to.contain("DISABLED_PERMANENTLY").and.contain("forwarder.mode: direct");
    expect(cfn.commandCalls(ActivateOrganizationsAccessCommand)).to.have.length(0);
  });

  it("says what to do when AWS refuses (not the management account)", async () => {
    cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: "DISABLED" });
    cfn.on(ActivateOrganizationsAccessCommand).rejects(Object.assign(new Error("Account used is not organization management account"), { name: "ValidationError" }));
    const err = await ensureOrganizationsAccess(new CloudFormationClient({ region: "eu-west-1" })).then(() => null, (e: Error) => e);
    expect(err?.message).to.contain("ValidationError").and.contain("management account credentials").and.contain("Activate trusted access");
  });

  it("the provider refuses credentials for another account, assumes the configured role, and never deactivates", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "444455556666" });
    const wrong = await stackSetsAccessProvider.create!(inputs).then(() => null, (e: Error) => e);
    expect(wrong?.message).to.contain("management account 111122223333").and.contain("444455556666");
    expect(cfn.commandCalls(ActivateOrganizationsAccessCommand)).to.have.length(0);

    sts.reset();
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: "AKID", SecretAccessKey: "s", SessionToken: "t", Expiration: new Date() } });
    sts.on(GetCallerIdentityCommand).resolves({ Account: "111122223333" });
    cfn.on(DescribeOrganizationsAccessCommand).resolves({ Status: "ENABLED" });
    const out = await stackSetsAccessProvider.create!({ ...inputs, roleArn: "arn:aws:iam::111122223333:role/Deployer" });
    expect(out.outs.outcome).to.equal("already-enabled");
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).to.deep.include({ RoleArn: "arn:aws:iam::111122223333:role/Deployer" });
    await stackSetsAccessProvider.delete!(out.id, out.outs);
    expect(cfn.calls().map((c) => c.args[0].constructor.name)).to.deep.equal(["DescribeOrganizationsAccessCommand"]);
  });
});
