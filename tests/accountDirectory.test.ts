/**
 * The account directory: config names over Organizations' (ListAccounts, every page, cached), and a failed listing
 * is not a failed message. ListAccounts pages with NextToken:
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html
 */
import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { accountDirectory, changesAccountList, envAccountDirectory, organizationsLister } from "../functions/accounts/directory";
import { startStub } from "./awsStub";

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

  it("logs the first failed listing only, however often it is retried", async () => {
    let t = 0;
    const errors: unknown[] = [];
    const dir = accountDirectory({ list: () => Promise.reject(new Error("Throttling")), retryMs: 10, now: () => t, onFirstError: (e) => errors.push(e) });
    await dir.names();
    t = 100;
    await dir.names();
    t = 200;
    await dir.names();
    expect(errors).to.have.length(1);
  });

  it("a slow ListAccounts (Organizations not answering) delays the message by the timeout at most, then shows config names", async () => {
    const stub = await startStub(() => new Promise((resolve) => setTimeout(() => resolve({ Accounts: [{ Id: "210987654321", Name: "late" }] }), 2000)));
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ENDPOINT_URL_ORGANIZATIONS: stub.url, AWS_ACCESS_KEY_ID: "AKIDLOCALTEST", AWS_SECRET_ACCESS_KEY: "local-test-secret" });
    try {
      const logged: any[] = [];
      const dir = envAccountDirectory({ "111122223333": "mgmt (config)" }, (l) => logged.push(l), 300);
      const started = Date.now();
      expect(await dir.names()).to.deep.equal({ "111122223333": "mgmt (config)" });
      expect(Date.now() - started).to.be.lessThan(1500);
      expect(logged).to.have.length(1);
      expect(logged[0]).to.deep.include({ level: "WARN", error: "TimeoutError" });
    } finally {
      process.env = saved;
      await stub.close();
    }
  });

  it("recognises the Organizations events that change the account list", () => {
    const ev = (eventName: string, eventSource = "organizations.amazonaws.com") => ({ source: "aws.organizations", detail: { eventSource, eventName } });
    expect(changesAccountList(ev("CreateAccount"))).to.equal(true);
    expect(changesAccountList(ev("MoveAccount"))).to.equal(true);
    expect(changesAccountList(ev("AttachPolicy"))).to.equal(false);
    expect(changesAccountList(ev("CreateAccount", "iam.amazonaws.com"))).to.equal(false);
    expect(changesAccountList({ source: "aws.events" })).to.equal(false);
  });
});
