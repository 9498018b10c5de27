/**
 * The contract between the response components and their handler modules, as deployed: each function's environment
 * (as the plan declares it) holds every variable its handler module requires, and the handler, loaded from the plan's
 * archive exactly as Lambda loads it, fails at cold start naming a variable that is missing, instead of calling AWS or
 * Slack with `undefined` later. The spoke roles the organizationRole block deploys are the ones deployed before it
 * (a different template would update the stack in every member account).
 */
import { expect } from "chai";
import { prodPlan, one, json, loadHandler } from "./planFixture";
import { SG_BOT_ENV } from "../functions/sg/handler";
import { SCP_WATCH_ENV } from "../functions/scp/handler";
import { DENY_ADVISOR_ENV } from "../functions/deny/handler";
import { orgRoleTemplate } from "../components/orgRole";
import { SG_SPOKE_ROLE } from "../components/sgRevertBot";
import { DECODE_SPOKE_ROLE } from "../components/denyDecodeSpokes";

const FN = "aws:lambda/function:Function";

/** Each function and the variables its handler cannot start without (the rest of its environment is optional). */
const REQUIRED: Record<string, string[]> = {
  "sg-bot-detect": [SG_BOT_ENV.reviewTable, SG_BOT_ENV.settings, SG_BOT_ENV.outboxQueue],
  "sg-bot-worker": [SG_BOT_ENV.reviewTable, SG_BOT_ENV.settings, SG_BOT_ENV.spokeExternalId, SG_BOT_ENV.botToken],
  "sg-bot-expire": [SG_BOT_ENV.reviewTable, SG_BOT_ENV.settings, SG_BOT_ENV.botToken, SG_BOT_ENV.outboxQueue],
  "scp-watch-counter": [SCP_WATCH_ENV.table, SCP_WATCH_ENV.settings, SCP_WATCH_ENV.outboxQueue, SCP_WATCH_ENV.alertTopic],
  "scp-watch-windows": [SCP_WATCH_ENV.table, SCP_WATCH_ENV.settings, SCP_WATCH_ENV.outboxQueue],
  "scp-watch-detach": [SCP_WATCH_ENV.table, SCP_WATCH_ENV.detachRole, SCP_WATCH_ENV.botToken],
  "deny-advisor-processor": [
    DENY_ADVISOR_ENV.findingsTable,
    DENY_ADVISOR_ENV.rolesTable,
    DENY_ADVISOR_ENV.ownerTagKey,
    DENY_ADVISOR_ENV.channel,
    DENY_ADVISOR_ENV.botToken,
    DENY_ADVISOR_ENV.outboxQueue,
  ],
  "deny-advisor-roles": [DENY_ADVISOR_ENV.rolesTable, DENY_ADVISOR_ENV.ownerTagKey],
};

/** Every variable any of these handlers reads: cleared before each load, so only the planned environment counts. */
const ALL_NAMES = [...new Set([...Object.values(SG_BOT_ENV), ...Object.values(SCP_WATCH_ENV), ...Object.values(DENY_ADVISOR_ENV), "ACCOUNT_NAMES"])];

describe("response handlers: the planned environment is the handler modules' contract", function () {
  this.timeout(300_000);
  const plan = () => prodPlan();
  const saved: Record<string, string | undefined> = {};
  before(() => {
    for (const n of ALL_NAMES) saved[n] = process.env[n];
  });
  after(() => {
    for (const n of ALL_NAMES) if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
  });
  /** Load the archive's handler with exactly `env` among the variables these handlers read. */
  const loadWith = (fn: string, env: Record<string, string>) => {
    for (const n of ALL_NAMES) delete process.env[n];
    Object.assign(process.env, env);
    return loadHandler(plan(), fn);
  };

  for (const [fn, required] of Object.entries(REQUIRED)) {
    it(`${fn}: starts with its planned environment, and refuses to start without each variable it needs`, () => {
      const env = one(plan(), FN, fn).inputs.environment.variables as Record<string, string>;
      for (const name of required) expect(env, `${fn}'s planned environment`).to.have.property(name).that.is.a("string").and.not.empty;
      expect(loadWith(fn, env)).to.be.a("function");
      for (const name of required) {
        const { [name]: _dropped, ...without } = env;
        expect(() => loadWith(fn, without), `${fn} without ${name}`).to.throw(new RegExp(`\\b${name}\\b.*not set`));
      }
    });
  }

  it("a settings variable that is not JSON is refused at cold start, naming the variable", () => {
    const env = one(plan(), FN, "sg-bot-detect").inputs.environment.variables as Record<string, string>;
    expect(() => loadWith("sg-bot-detect", { ...env, [SG_BOT_ENV.settings]: "{not json" })).to.throw(/SG_BOT_SETTINGS is not JSON/);
  });

  it("the spoke roles' StackSets carry the organizationRole template, unchanged from before the block", () => {
    const sg = one(plan(), "aws:cloudformation/stackSet:StackSet", "sg-bot-spokes").inputs;
    expect(sg.templateBody).to.equal(JSON.stringify(orgRoleTemplate(SG_SPOKE_ROLE)));
    // The template as deployed before the refactor, key order included (CloudFormation compares the body as text).
    expect(sg.templateBody).to.equal(
      JSON.stringify({
        AWSTemplateFormatVersion: "2010-09-09",
        Description: "trailwatch: the role the SgRevertBot hub assumes to revoke security-group rules in this account",
        Parameters: {
          HubRoleArn: { Type: "String", Description: "The SgRevertBot worker's role in the security account", AllowedPattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$" },
          ExternalId: { Type: "String", Description: "ExternalId the hub must present" },
        },
        Resources: {
          SpokeRole: {
            Type: "AWS::IAM::Role",
            Properties: {
              RoleName: "trailwatch-sg-revert-spoke",
              Description: "trailwatch SgRevertBot: revoke security-group rules a security approver denied",
              MaxSessionDuration: 3600,
              AssumeRolePolicyDocument: {
                Version: "2012-10-17",
                Statement: [
                  { Sid: "HubRoleWithExternalId", Effect: "Allow", Principal: { AWS: { Ref: "HubRoleArn" } }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } } } },
                ],
              },
              Policies: [
                {
                  PolicyName: "revoke-security-group-rules",
                  PolicyDocument: {
                    Version: "2012-10-17",
                    Statement: [
                      { Sid: "RevokeRules", Effect: "Allow", Action: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"], Resource: "arn:aws:ec2:*:*:security-group/*" },
                      { Sid: "CheckRules", Effect: "Allow", Action: "ec2:DescribeSecurityGroupRules", Resource: "*" },
                    ],
                  },
                },
              ],
            },
          },
        },
        Outputs: { SpokeRoleArn: { Value: { "Fn::GetAtt": ["SpokeRole", "Arn"] } } },
      }),
    );
    const decode = one(plan(), "aws:cloudformation/stackSet:StackSet", "deny-advisor-decode-spokes").inputs;
    expect(decode.templateBody).to.equal(JSON.stringify(orgRoleTemplate(DECODE_SPOKE_ROLE)));
    expect(json(decode.templateBody).Resources.DecodeRole.Properties.Policies[0].PolicyDocument.Statement).to.deep.equal([
      { Sid: "DecodeOnly", Effect: "Allow", Action: "sts:DecodeAuthorizationMessage", Resource: "*" },
    ]);
    // Both: SERVICE_MANAGED with automatic deployment, the IAM-only template in one region.
    for (const name of ["sg-bot-spokes", "deny-advisor-decode-spokes"]) {
      const set = one(plan(), "aws:cloudformation/stackSet:StackSet", name).inputs;
      expect(set.permissionModel).to.equal("SERVICE_MANAGED");
      expect(set.autoDeployment).to.deep.equal({ enabled: true, retainStacksOnAccountRemoval: false });
      expect(one(plan(), "aws:cloudformation/stackInstances:StackInstances", `${name}-instances`).inputs.regions).to.have.length(1);
    }
  });

  it("the management account gets the same role directly, with the same trust and permissions as the template's", () => {
    for (const [setName, roleName, spec] of [
      ["sg-bot-spokes", "sg-bot-spoke-management", SG_SPOKE_ROLE],
      ["deny-advisor-decode-spokes", "deny-advisor-decode-spokes-management", DECODE_SPOKE_ROLE],
    ] as const) {
      const set = one(plan(), "aws:cloudformation/stackSet:StackSet", setName);
      const role = one(plan(), "aws:iam/role:Role", roleName);
      const rolePolicy = one(plan(), "aws:iam/rolePolicy:RolePolicy", roleName);
      const props = json(set.inputs.templateBody).Resources[spec.logicalId].Properties;
      expect(role.provider, "the management account's provider").to.equal(set.provider);
      expect(role.inputs.name).to.equal(props.RoleName);
      expect(role.inputs.description).to.equal(props.Description);
      expect(json(rolePolicy.inputs.policy).Statement).to.deep.equal(props.Policies[0].PolicyDocument.Statement);
      const trust = json(role.inputs.assumeRolePolicy).Statement;
      expect(trust).to.have.length(1);
      expect(trust[0].Condition).to.deep.equal({ StringEquals: { "sts:ExternalId": set.inputs.parameters.ExternalId } });
    }
  });
});
