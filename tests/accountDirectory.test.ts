/**
 * The account directory: config names over Organizations' (ListAccounts, every page, cached), and a failed listing
 * is not a failed message. ListAccounts pages with NextToken:
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html
 */
import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { accountDirectory, organizationsLister } from "../functions/accounts/directory";

describe("account directory", () => {
  it("reads every ListAccounts page, caches the list, lets config names win, and refreshes after invalidate()", async () => {
    const org = mockClient(OrganizationsClient);
    org
      .on(ListAccountsCommand, { NextToken: undefined })
      .resolves({ Accounts: [{ Id: "111122223333", Name: "management" }], NextToken: "t2" })
      .on(ListAccountsCommand, { NextToken: "t2" })
      .resolves({ Accounts: [{ Id: "210987654321", Name: "payments-prod" }] });
    const dir = accountDirectory({ configNames: { "111122223333": "mgmt (config)" }, list: organizationsLister(new OrganizationsClient({ region: "us-east-1" })) });
    expect(await dir.nameOf("210987654321")).to.equal("payments-prod");
    expect(await dir.nameOf("111122223333")).to.equal("mgmt (config)");
    expect(await dir.nameOf("999999999999")).to.equal(null);
    expect(org.commandCalls(ListAccountsCommand)).to.have.length(2); // two pages, once
    expect(await dir.names()).to.deep.equal({ "111122223333": "mgmt (config)", "210987654321": "payments-prod" });
    dir.invalidate();
    await dir.nameOf("210987654321");
    expect(org.commandCalls(ListAccountsCommand)).to.have.length(4);
    org.restore();
  });

  it("answers from config alone when Organizations refuses (not the management or delegated admin account)", async () => {
    let calls = 0;
    const dir = accountDirectory({ configNames: { "210987654321": "payments-prod" }, list: async () => (calls++, Promise.reject(Object.assign(new Error("denied"), { name: "AccessDeniedException" }))), retryMs: 60_000 });
    expect(await dir.nameOf("333344445555")).to.equal(null);
    expect(await dir.nameOf("210987654321")).to.equal("payments-prod");
    expect(await dir.nameOf("333344445555")).to.equal(null);
    expect(calls).to.equal(1); // not retried within retryMs
  });
});
