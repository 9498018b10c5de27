/**
 * The boundary where a record enters (functions/cloudtrail.ts, checkRecord): what it keeps, drops and repairs, and
 * that the functions behind it give the same results on the real records as before.
 */
import { expect } from "chai";
import { isDeepStrictEqual } from "util";
import { MAX_RECORD_DEPTH, checkRecord, type CloudTrailRecord } from "../functions/cloudtrail";
import { routeRecord } from "../functions/router";
import { consoleLinkOf, toChangeRecord } from "../functions/changeFeed";
import { parseSecurityGroupChange } from "../functions/sg/change";
import { digestMessage, policyChangeOf } from "../functions/scp/watch";
import { roleChangeInputOf, tagsFromRequest } from "../functions/roleInventory";
import { boundedJson, MAX_FINDING_TEXT } from "../functions/bounded";
import { allRecords } from "./sharedData";
import { deepArray } from "./fuzz/mutations";

const real = allRecords();
const ok = (v: unknown) => {
  const c = checkRecord(v);
  if (!c.ok) throw new Error(`not a record: ${c.problem}`);
  return c;
};

describe("the record boundary (checkRecord)", () => {
  it("passes every real record through as it came, except the few hand-edited Panther rows it names", () => {
    const changed: string[] = [];
    for (const { record, origin } of real) {
      const c = ok(record);
      if (c.record !== record) changed.push(origin);
      else expect(c.ignored, origin).to.deep.equal([]);
    }
    // Panther rule tests write null for absent, "true" for true, a string where an object belongs: 9 of 776 rows.
    expect(changed.every((o) => o.startsWith("panther:")), changed.join("\n")).to.equal(true);
    expect(changed.length).to.be.at.most(9);
  });

  it("changes no finding and no change record on the real records", async () => {
    for (const { record, origin } of real) {
      const typed = ok(record).record;
      if (typed === record) continue;
      expect(await routeRecord(typed, { trustedCidrs: [] }), origin).to.deep.equal(await routeRecord(record, { trustedCidrs: [] }));
      const before = toChangeRecord(record, { accounts: {} });
      const after = toChangeRecord(typed, { accounts: {} });
      // The one difference allowed: a string where requestParameters belongs is no longer walked for ARNs.
      if (!isDeepStrictEqual(before, after)) expect({ ...after, what: { ...after.what, resources: [] } }, origin).to.deep.equal({ ...before, what: { ...before.what, resources: [] } });
    }
  });

  it("treats fields of the wrong type as absent and says which and why", () => {
    const c = ok({ eventName: "PutObject", eventSource: 42, awsRegion: ["us-east-1"], errorMessage: { a: 1 }, readOnly: "TRUE", managementEvent: 7, resources: [{ ARN: 5 }, "x"], userIdentity: { arn: null, type: [1] }, requestParameters: "text" });
    expect(c.record).to.deep.equal({ eventName: "PutObject", readOnly: true, resources: [{}], userIdentity: {} });
    expect(c.ignored.map((p) => `${p.field}: ${p.problem}`)).to.have.members([
      "eventSource: expected a string, found a number",
      "awsRegion: expected a string, found an array",
      "errorMessage: expected a string, found an object",
      "managementEvent: expected a boolean, found a number",
      "userIdentity.type: expected a string, found an array",
      "requestParameters: expected an object, found a string",
      "resources[0].ARN: expected a string, found a number",
      "resources[1]: expected an object, found a string",
    ]);
  });

  it("refuses what is no record, naming the field", () => {
    expect(checkRecord([1])).to.deep.include({ ok: false, problem: "not a JSON object (found an array)" });
    expect(checkRecord({ eventSource: "s3.amazonaws.com" })).to.deep.include({ ok: false, field: "eventName", problem: "record without eventName" });
    expect(checkRecord({ eventName: 5 })).to.deep.include({ ok: false, field: "eventName", problem: "eventName: expected a string, found a number" });
    // An EventBridge envelope is unwrapped to its detail.
    const env = { "detail-type": "AWS API Call via CloudTrail", detail: { eventName: "X", eventSource: false } };
    expect(ok(env).record).to.deep.equal({ eventName: "X" });
  });

  it("cuts nesting deeper than MAX_RECORD_DEPTH, so a 6,000-deep array neither overflows nor survives", () => {
    const params0: Record<string, unknown> = { a: deepArray(6_000) };
    // As JSON.parse makes it: "__proto__" an own key, not the prototype.
    Object.defineProperty(params0, "__proto__", { value: { b: deepArray(6_000) }, enumerable: true, writable: true, configurable: true });
    params0.keep = [[1]];
    const rec = { eventName: "X", requestParameters: params0 };
    const c = ok(JSON.parse(JSON.stringify({ eventName: "X", requestParameters: { keep: [[1]] } })));
    expect(c.ignored).to.deep.equal([]);
    const cut = ok(rec);
    expect(() => JSON.stringify(cut.record)).not.to.throw();
    expect(JSON.stringify(cut.record).length).to.be.lessThan(MAX_RECORD_DEPTH * 20);
    expect(cut.ignored.map((p) => p.field)).to.deep.equal([`requestParameters.a${"[0]".repeat(MAX_RECORD_DEPTH - 2)}`, `requestParameters.__proto__.b${"[0]".repeat(MAX_RECORD_DEPTH - 3)}`]);
    // "__proto__" stays an own key of the copy; it does not become the copy's prototype.
    const params = cut.record.requestParameters as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(params, "__proto__")).to.equal(true);
    expect(Object.getPrototypeOf(params)).to.equal(Object.prototype);
    expect(params.keep).to.deep.equal([[1]]);
  });

  it("repairs lone surrogates; the console link never throws (encodeURIComponent would)", () => {
    const c = ok({ eventName: "X", eventID: "evt-\ud83d" });
    expect(c.record.eventID).to.equal("evt-\ufffd");
    expect(c.ignored[0]).to.deep.equal({ field: "eventID", problem: "lone UTF-16 surrogates replaced by U+FFFD" });
    expect(() => encodeURIComponent("\ud800")).to.throw(URIError);
    expect(consoleLinkOf("us-east-1", "a\ud800b")).to.equal("https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/a%EF%BF%BDb");
  });
});

describe("lookups never see prototype keys", () => {
  it("an eventName named like an Object.prototype member is no security-group or Organizations event", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(parseSecurityGroupChange({ eventName: name, eventSource: "ec2.amazonaws.com" } as CloudTrailRecord), name).to.equal(null);
      expect(policyChangeOf({ eventName: name, eventSource: "organizations.amazonaws.com", requestParameters: { policyId: "p-1" } }), name).to.equal(null);
    }
  });

  it("role tags named __proto__ or constructor are tags like any other", () => {
    const params = JSON.parse('{"tags":[{"key":"__proto__","value":"a"},{"key":"constructor","value":"b"},null,{"key":5}],"tagKeys":["x",7]}');
    const { tags, removed } = tagsFromRequest(params);
    expect(Object.entries(tags)).to.deep.equal([["__proto__", "a"], ["constructor", "b"]]);
    expect(removed).to.deep.equal(["x"]);
    expect(tagsFromRequest({ tags: 5 } as never)).to.deep.equal({ tags: {}, removed: [] });
    const role = real.find((r) => r.record.eventName === "CreateRole" && !r.record.errorCode)!.record;
    expect(roleChangeInputOf({ ...role, requestParameters: { ...role.requestParameters, tags: "x" } })?.tags).to.deep.equal({});
    expect(roleChangeInputOf({ eventName: 5 })).to.equal(null);
  });

  it("the SCP digest counts accounts and actions named __proto__ or constructor", () => {
    const w = { policyId: "p-1", openedAt: "2026-12-01T00:00:00Z", closesAt: "2026-12-01T01:00:00Z", change: { change: "manual" as const, who: "U1", targetId: null }, threshold: 5 };
    const byAccountAction = Object.fromEntries([["__proto__|constructor", 3], ["111111111111|s3:GetObject", 1]]);
    const m = digestMessage(w, { byAccountAction, samplePrincipals: [] }, 0, new Date("2026-12-01T00:30:00Z"));
    const fields = JSON.stringify(m.blocks);
    expect(fields).to.contain("• __proto__: 3").and.to.contain("• `constructor`: 3").and.to.contain("• 111111111111: 1");
  });
});

describe("findings are bounded plain JSON", () => {
  it("cuts long strings and deep values, keeps the rest as it is", () => {
    const f = { kind: "deny", action: "x".repeat(100_000), nested: deepArray(20), n: 1, ok: true, none: null };
    const b = boundedJson(f);
    expect(b.action).to.have.length(MAX_FINDING_TEXT);
    expect(b.action.endsWith("…")).to.equal(true);
    // The finding is level 0: `nested` keeps levels 1 to 7.
    expect(JSON.stringify(b.nested)).to.equal("[".repeat(7) + "null" + "]".repeat(7));
    const plain = { kind: "deny", action: "s3:GetObject" };
    expect(boundedJson(plain)).to.equal(plain);
  });
});
