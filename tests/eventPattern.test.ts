/**
 * The matcher against the EventBridge reference's own examples:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
import { expect } from "chai";
import { matchesPattern as m, validatePattern, wildcardRegExp } from "../functions/eventPattern";

// The reference's sample EC2 state-change event.
const ec2 = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated", "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.123" },
};

describe("EventBridge pattern matcher", () => {
  it("exact values, arrays as OR, nested objects as AND", () => {
    expect(m({ source: ["aws.ec2"], detail: { state: ["running", "terminated"] } }, ec2)).to.equal(true);
    expect(m({ source: ["aws.ec2"], detail: { state: ["running"] } }, ec2)).to.equal(false);
    expect(m({ source: ["aws.s3"], detail: { state: ["terminated"] } }, ec2)).to.equal(false);
    expect(m({ detail: { "c-count": [5] } }, ec2)).to.equal(true);
    expect(m({ detail: { "c-count": ["5"] } }, ec2)).to.equal(false); // types are not coerced
  });

  it("an event array matches when any element matches", () => {
    expect(m({ resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"] }, ec2)).to.equal(true);
    expect(m({ resources: ["arn:aws:ec2:us-west-1:123456789012:instance/other"] }, ec2)).to.equal(false);
  });

  it("prefix and suffix, with equals-ignore-case", () => {
    expect(m({ time: [{ prefix: "2017-12-22" }] }, ec2)).to.equal(true);
    expect(m({ time: [{ prefix: "2018" }] }, ec2)).to.equal(false);
    expect(m({ source: [{ suffix: ".ec2" }] }, ec2)).to.equal(true);
    expect(m({ source: [{ prefix: { "equals-ignore-case": "AWS." } }] }, ec2)).to.equal(true);
    expect(m({ source: [{ suffix: { "equals-ignore-case": ".EC2" } }] }, ec2)).to.equal(true);
    expect(m({ detail: { state: [{ prefix: "term" }] } }, { detail: { state: 5 } })).to.equal(false);
  });

  it("anything-but: value, list, prefix, suffix, wildcard, equals-ignore-case; never matches a missing field", () => {
    expect(m({ detail: { state: [{ "anything-but": "initializing" }] } }, ec2)).to.equal(true);
    expect(m({ detail: { state: [{ "anything-but": ["stopped", "terminated"] }] } }, ec2)).to.equal(false);
    expect(m({ detail: { state: [{ "anything-but": { prefix: "init" } }] } }, ec2)).to.equal(true);
    expect(m({ detail: { state: [{ "anything-but": { suffix: "nated" } }] } }, ec2)).to.equal(false);
    expect(m({ detail: { state: [{ "anything-but": { wildcard: "*minat*" } }] } }, ec2)).to.equal(false);
    expect(m({ detail: { state: [{ "anything-but": { "equals-ignore-case": ["TERMINATED"] } }] } }, ec2)).to.equal(false);
    expect(m({ detail: { missing: [{ "anything-but": "x" }] } }, ec2)).to.equal(false);
  });

  it("numeric ranges, numbers only", () => {
    expect(m({ detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }], "d-count": [{ numeric: ["<", 10] }], "x-limit": [{ numeric: ["=", 301.8] }] } }, ec2)).to.equal(true);
    expect(m({ detail: { "c-count": [{ numeric: [">", 5] }] } }, ec2)).to.equal(false);
    expect(m({ detail: { state: [{ numeric: [">", 0] }] } }, ec2)).to.equal(false);
  });

  it("exists true/false; a missing field matches only exists:false", () => {
    expect(m({ detail: { state: [{ exists: true }] } }, ec2)).to.equal(true);
    expect(m({ detail: { "no-such": [{ exists: false }] } }, ec2)).to.equal(true);
    expect(m({ detail: { state: [{ exists: false }] } }, ec2)).to.equal(false);
    expect(m({ detail: { "no-such": ["x"] } }, ec2)).to.equal(false);
  });

  it("wildcard: * any run, \\* a literal star, anchored", () => {
    expect(m({ resources: [{ wildcard: "arn:aws:ec2:*:*:instance/*" }] }, ec2)).to.equal(true);
    expect(m({ region: [{ wildcard: "us-*-1" }] }, ec2)).to.equal(true);
    expect(m({ region: [{ wildcard: "us-*" }] }, { region: "eu-us-1" })).to.equal(false);
    expect(wildcardRegExp("a\\*b").test("a*b")).to.equal(true);
    expect(wildcardRegExp("a\\*b").test("axb")).to.equal(false);
  });

  it("equals-ignore-case and cidr", () => {
    expect(m({ "detail-type": [{ "equals-ignore-case": "ec2 instance state-change notification" }] }, ec2)).to.equal(true);
    expect(m({ detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, ec2)).to.equal(true);
    expect(m({ detail: { "source-ip": [{ cidr: "10.0.1.0/24" }] } }, ec2)).to.equal(false);
  });

  it("$or: any sub-pattern", () => {
    const p = { source: ["aws.ec2"], $or: [{ detail: { "c-count": [{ numeric: [">", 10] }] } }, { detail: { "d-count": [{ numeric: ["<", 5] }] } }] };
    expect(m(p as any, ec2)).to.equal(true);
    const q = { $or: [{ detail: { "c-count": [{ numeric: [">", 10] }] } }, { detail: { "d-count": [{ numeric: [">", 5] }] } }] };
    expect(m(q as any, ec2)).to.equal(false);
  });

  it("validatePattern catches what EventBridge would reject", () => {
    expect(validatePattern({ source: "aws.ec2" })).to.deep.equal(["pattern.source: values must be in an array"]);
    expect(validatePattern({ source: [] })).to.deep.equal(["pattern.source: empty array matches nothing"]);
    expect(validatePattern({ detail: { n: [{ numeric: [">", "1"] }] } })).to.deep.equal(["pattern.detail.n: numeric needs [op, number, ...] pairs"]);
    expect(validatePattern({ detail: { s: [{ sufix: "x" }] } })).to.deep.equal(['pattern.detail.s: unknown operator ["sufix"]']);
  });
});
