/**
 * `pulumi destroy` keeps the records: every bucket, and exactly the KMS keys that encrypt a bucket (found through the
 * plan's encryption configurations, not by name), are retained; nothing else is. A key deleted under a retained
 * bucket would make its logs unreadable after the waiting period:
 * https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
 */
import { expect } from "chai";
import * as crypto from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ofType, prodPlan, ROOT } from "./planFixture";
import { retainRecords, BUCKET_KEYS, LAKE_KEY } from "../stacks/retention";
import { parseStackConfig, type StackConfig } from "../stacks/config";
import { readStackConfig } from "../cli/mockRuntime";

function prodConfig(): StackConfig {
  const r = parseStackConfig(readStackConfig(ROOT, path.join(ROOT, "Pulumi.prod.yaml")).config);
  if (!r.ok) throw new Error(r.problems.join("\n"));
  return r.config;
}
const retained = (t: pulumi.ResourceTransformation, type: string, name: string): boolean => {
  const out = t({ resource: {} as pulumi.Resource, type, name, props: {}, opts: {} });
  return out?.opts.retainOnDelete === true;
};

describe("uninstall: what pulumi destroy keeps", function () {
  this.timeout(300_000);

  it("retains every bucket and exactly the keys that encrypt one, as the prod plan wires them", () => {
    const plan = prodPlan();
    const t = retainRecords(prodConfig());
    // The mock runtime derives a key's id from its logical name (cli/mockRuntime.ts): map ids back to names.
    const keyName = new Map(ofType(plan, "aws:kms/key:Key").map((k) => [crypto.createHash("sha256").update(k.name).digest("hex").slice(0, 7), k.name]));
    const bucketKeys = new Set<string>();
    for (const sse of ofType(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")) {
      const id: string | undefined = sse.inputs.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId;
      if (id) bucketKeys.add(keyName.get(id.split("/").pop()!.slice(0, 7))!);
    }
    expect([...bucketKeys].sort()).to.deep.equal([...BUCKET_KEYS].sort());
    const buckets = ofType(plan, "aws:s3/bucket:Bucket");
    expect(buckets.length).to.equal(4);
    for (const b of buckets) expect(retained(t, b.type, b.name), b.name).to.equal(true);
    for (const k of ofType(plan, "aws:kms/key:Key")) expect(retained(t, k.type, k.name), k.name).to.equal(bucketKeys.has(k.name));
    for (const r of plan.resources.filter((r) => !["aws:s3/bucket:Bucket", "aws:kms/key:Key"].includes(r.type)))
      expect(retained(t, r.type, r.name), `${r.type} ${r.name}`).to.equal(false);
  });

  it("with a CloudTrail Lake event data store, retains it and the key that encrypts it", () => {
    const c = prodConfig();
    const withLake = { ...c, orgTrail: { ...c.orgTrail, lakeRetentionDays: 365 } };
    expect(retained(retainRecords(c), "aws:kms/key:Key", LAKE_KEY)).to.equal(false);
    expect(retained(retainRecords(withLake), "aws:kms/key:Key", LAKE_KEY)).to.equal(true);
    expect(retained(retainRecords(withLake), "aws:cloudtrail/eventDataStore:EventDataStore", "org-trail-lake")).to.equal(true);
  });
});
