/**
 * The review store against dynalite, which refuses what DynamoDB refuses: BatchGetItem with a key twice fails
 * ("Provided list of item keys contains duplicates"), and two stream records for one rule in a batch are normal.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 */
import { expect } from "chai";
import { BatchGetItemCommand } from "@aws-sdk/client-dynamodb";
import { createTable, startDynalite } from "./localServices";
import { dynamoReviewStore, type ReviewItem } from "../functions/sg/revert/state";
import { revertRules } from "../functions/sg/revert/handlers";

const item = (ruleId: string): ReviewItem =>
  ({
    ruleId,
    state: "DENIED",
    changeId: "change-1",
    ruleIds: [ruleId],
    groupId: "sg-0123456789abcdef0",
    accountId: "210987654321",
    region: "eu-west-1",
    direction: "ingress",
    rule: { ruleId, protocol: "tcp", fromPort: 22, toPort: 22, source: "0.0.0.0/0", openToWorld: true },
    change: {},
    risk: "critical",
    expiresAt: 2_000_000_000,
  }) as unknown as ReviewItem;

describe("SG review store: BatchGetItem", function () {
  this.timeout(60_000);
  let ddb: Awaited<ReturnType<typeof startDynalite>>;
  before(async () => {
    ddb = await startDynalite();
    await createTable(ddb.client, "store-reviews", "pk");
  });
  after(() => ddb?.close());

  it("the local DynamoDB refuses duplicate keys, as DynamoDB does (so this test can fail)", async () => {
    const err = await ddb.client
      .send(new BatchGetItemCommand({ RequestItems: { "store-reviews": { Keys: [{ pk: { S: "sgr-a" } }, { pk: { S: "sgr-a" } }] } } }))
      .then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/duplicates/i);
  });

  it("reads a rule named twice in one batch once, and more than 100 rules across requests", async () => {
    const store = dynamoReviewStore(ddb.client, "store-reviews");
    const ids = Array.from({ length: 130 }, (_, i) => `sgr-${String(i).padStart(17, "0")}`);
    for (const id of ids) await store.create(item(id));
    const got = await store.get([ids[0], ids[1], ids[0]]);
    expect(got.map((i) => i.ruleId)).to.deep.equal([ids[0], ids[1]]);
    expect((await store.get([...ids, ...ids])).map((i) => i.ruleId)).to.deep.equal(ids);
  });

  it("the worker reverts a rule delivered twice in one batch exactly once", async () => {
    const store = dynamoReviewStore(ddb.client, "store-reviews");
    await store.create(item("sgr-twice00000000001"));
    const revokes: string[][] = [];
    const outcomes = await revertRules(["sgr-twice00000000001", "sgr-twice00000000001"], {
      store,
      slack: { post: async () => ({ channel: "C1", ts: "1.1" }), update: async () => undefined, ephemeral: async () => undefined } as any,
      ec2: { revoke: async (a) => (revokes.push(a.ruleIds), "revoked"), remaining: async () => [] },
      settings: { channelId: "C1" } as any,
    });
    expect(outcomes).to.deep.equal([{ ruleId: "sgr-twice00000000001", outcome: "reverted" }]);
    expect(revokes).to.deep.equal([["sgr-twice00000000001"]]);
    expect((await store.get(["sgr-twice00000000001"]))[0].state).to.equal("REVERTED");
  });
});
