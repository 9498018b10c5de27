/**
 * The matcher against the reference's own examples. Unless a test says otherwise, patterns and events come from
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html (operators),
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html (fields, arrays, null, empty), and
 * the README of aws/event-ruler, the engine behind EventBridge (array consistency, `$or`, wildcard escapes).
 */
import { expect } from "chai";
import { matchesPattern as m, validatePattern, wildcardRegExp, type EventPattern } from "../functions/eventPattern";

// The reference's sample EC2 state-change event.
const ec2 = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: { "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33", "instance-id": "i-000000aaaaaa00000", state: "running" },
};
const withDetail = (detail: Record<string, unknown>) => ({ ...ec2, detail });

describe("eventPattern: exact values, AND across fields, OR within a field", () => {
  it("matches the reference's simple pattern, and fails when any one field differs", () => {
    const p = {
      "detail-type": ["EC2 Instance State-change Notification"],
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      detail: { state: ["initializing", "running"] },
    };
    expect(m(p, ec2)).to.equal(true);
    expect(m(p, withDetail({ state: "initializing" }))).to.equal(true);
    expect(m(p, withDetail({ state: "stopped" }))).to.equal(false);
    expect(m({ ...p, source: ["aws.s3"] }, ec2)).to.equal(false);
  });

  it("compares types strictly: the number 5 is not the string \"5\"", () => {
    expect(m({ detail: { "c-count": [5] } }, ec2)).to.equal(true);
    expect(m({ detail: { "c-count": ["5"] } }, ec2)).to.equal(false);
    expect(m({ detail: { flag: [true] } }, withDetail({ flag: true }))).to.equal(true);
    expect(m({ detail: { flag: ["true"] } }, withDetail({ flag: true }))).to.equal(false);
  });

  it("null and empty string are values of their own (eb-event-patterns: null values and empty strings)", () => {
    expect(m({ detail: { LastName: [null] } }, withDetail({ LastName: null }))).to.equal(true);
    expect(m({ detail: { LastName: [""] } }, withDetail({ LastName: "" }))).to.equal(true);
    expect(m({ detail: { LastName: [null] } }, withDetail({ LastName: "" }))).to.equal(false);
    expect(m({ detail: { LastName: [""] } }, withDetail({}))).to.equal(false);
  });

  it("a field the event lacks never matches a value", () => {
    expect(m({ detail: { "no-such": ["x"] } }, ec2)).to.equal(false);
    expect(m({ "no-such": { field: ["x"] } }, ec2)).to.equal(false);
  });
});

describe("eventPattern: arrays in events (eb-event-patterns-arrays)", () => {
  it("an event array matches when any element matches", () => {
    expect(m({ resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000", "other"] }, ec2)).to.equal(true);
    expect(m({ resources: ["arn:aws:ec2:us-east-1:123456789012:instance/other"] }, ec2)).to.equal(false);
  });

  it("objects in arrays are matched one element at a time (event-ruler: array consistency)", () => {
    const staff = { employees: [[{ firstName: "John", lastName: "Doe" }, { firstName: "Anna", lastName: "Smith" }], [{ firstName: "Peter", lastName: "Jones" }]] };
    expect(m({ employees: { firstName: ["Anna"] } }, staff)).to.equal(true);
    expect(m({ employees: { firstName: ["Anna"], lastName: ["Smith"] } }, staff)).to.equal(true);
    expect(m({ employees: { firstName: ["Anna"], lastName: ["Jones"] } }, staff)).to.equal(false);
  });
});

describe("eventPattern: prefix", () => {
  it("matches the start of a string, optionally ignoring case", () => {
    expect(m({ time: [{ prefix: "2017-10-02" }] }, ec2)).to.equal(true);
    expect(m({ time: [{ prefix: "2017-10-03" }] }, ec2)).to.equal(false);
    const service = (s: string) => withDetail({ service: s });
    const p = { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } };
    for (const s of ["EventBridge", "EVENTBRIDGE", "eventbus"]) expect(m(p, service(s)), s).to.equal(true);
    expect(m(p, service("Events"))).to.equal(false);
    expect(m({ detail: { service: [{ prefix: "EventB" }] } }, service("eventbridge"))).to.equal(false);
  });

  it("works on strings only", () => {
    expect(m({ detail: { "c-count": [{ prefix: "5" }] } }, ec2)).to.equal(false);
  });
});

describe("eventPattern: suffix", () => {
  it("matches the end of a string, optionally ignoring case", () => {
    const file = (f: string) => withDetail({ FileName: f });
    expect(m({ detail: { FileName: [{ suffix: ".png" }] } }, file("image.png"))).to.equal(true);
    expect(m({ detail: { FileName: [{ suffix: ".png" }] } }, file("image.PNG"))).to.equal(false);
    expect(m({ detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } }, file("image.PNG"))).to.equal(true);
    expect(m({ detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } }, file("image.png.gz"))).to.equal(false);
    expect(m({ source: [{ suffix: "ec2" }] }, ec2)).to.equal(true);
  });
});

describe("eventPattern: equals-ignore-case", () => {
  it("matches the whole string in any case, strings only", () => {
    expect(m({ detail: { Name: [{ "equals-ignore-case": "alice" }] } }, withDetail({ Name: "Alice" }))).to.equal(true);
    expect(m({ detail: { Name: [{ "equals-ignore-case": "alice" }] } }, withDetail({ Name: "Alicia" }))).to.equal(false);
    expect(m({ detail: { Name: [{ "equals-ignore-case": "5" }] } }, withDetail({ Name: 5 }))).to.equal(false);
  });
});

describe("eventPattern: anything-but", () => {
  const state = (s: unknown) => withDetail({ state: s, "x-limit": 301.8 });

  it("a single value or a list of values", () => {
    expect(m({ detail: { state: [{ "anything-but": "initializing" }] } }, state("running"))).to.equal(true);
    expect(m({ detail: { state: [{ "anything-but": "initializing" }] } }, state("initializing"))).to.equal(false);
    expect(m({ detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } }, state("stopped"))).to.equal(false);
    expect(m({ detail: { "x-limit": [{ "anything-but": 123 }] } }, state("x"))).to.equal(true);
    expect(m({ detail: { "x-limit": [{ "anything-but": [100, 200, 301.8] }] } }, state("x"))).to.equal(false);
  });

  it("prefix, suffix, equals-ignore-case and wildcard forms", () => {
    expect(m({ detail: { state: [{ "anything-but": { prefix: "init" } }] } }, state("running"))).to.equal(true);
    expect(m({ detail: { state: [{ "anything-but": { prefix: "init" } }] } }, state("initializing"))).to.equal(false);
    const file = (f: string) => withDetail({ FileName: f });
    expect(m({ detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } }, file("a.txt"))).to.equal(true);
    expect(m({ detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } }, file("a.png"))).to.equal(false);
    expect(m({ detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } }, state("INITIALIZING"))).to.equal(false);
    expect(m({ detail: { state: [{ "anything-but": { "equals-ignore-case": ["stopped", "initializing"] } }] } }, state("Running"))).to.equal(true);
    const path = (p: string) => withDetail({ FilePath: p });
    expect(m({ detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } }, path("/usr/bin/ls"))).to.equal(true);
    expect(m({ detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } }, path("/usr/lib/libc.so"))).to.equal(false);
  });

  it("never matches a missing field; matches an array with any element outside the exclusion", () => {
    expect(m({ detail: { missing: [{ "anything-but": "x" }] } }, ec2)).to.equal(false);
    expect(m({ detail: { state: [{ "anything-but": "stopped" }] } }, state(["stopped", "running"]))).to.equal(true);
    expect(m({ detail: { state: [{ "anything-but": "stopped" }] } }, state(["stopped"]))).to.equal(false);
  });
});

describe("eventPattern: numeric", () => {
  it("the reference's ranges: all must hold", () => {
    const p = { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }], "d-count": [{ numeric: ["<", 10] }], "x-limit": [{ numeric: ["=", 3.018e2] }] } };
    expect(m(p, ec2)).to.equal(true);
    expect(m(p, withDetail({ ...ec2.detail, "c-count": 6 }))).to.equal(false);
    expect(m(p, withDetail({ ...ec2.detail, "c-count": 0 }))).to.equal(false);
    expect(m({ detail: { "c-count": [{ numeric: [">=", 4, "<", 7] }] } }, ec2)).to.equal(true);
    expect(m({ detail: { "c-count": [{ numeric: [">=", 4, "<", 5] }] } }, ec2)).to.equal(false);
  });

  it("matches JSON numbers only: a numeric-looking string does not match", () => {
    expect(m({ detail: { "c-count": [{ numeric: [">", 0] }] } }, withDetail({ "c-count": "5" }))).to.equal(false);
  });
});

describe("eventPattern: exists", () => {
  it("true matches a present leaf, false a missing one", () => {
    expect(m({ detail: { "c-count": [{ exists: true }] } }, ec2)).to.equal(true);
    expect(m({ detail: { "c-count": [{ exists: false }] } }, ec2)).to.equal(false);
    expect(m({ detail: { "no-such": [{ exists: false }] } }, ec2)).to.equal(true);
    expect(m({ detail: { "no-such": [{ exists: true }] } }, ec2)).to.equal(false);
  });

  it("works on leaf nodes only: an object-valued field does not exist as a leaf (the reference's c-count example)", () => {
    const nested = { "detail-type": "EC2 Instance State-change Notification", detail: { state: ["initializing", "running"], "c-count": { c1: 100 } } };
    expect(m({ detail: { "c-count": [{ exists: false }] } }, nested)).to.equal(true);
    expect(m({ detail: { "c-count": [{ exists: true }] } }, nested)).to.equal(false);
  });

  it("a missing parent object still satisfies exists:false below it", () => {
    expect(m({ detail: { errorCode: [{ exists: false }] } }, { source: "aws.ec2" })).to.equal(true);
    expect(m({ detail: { errorCode: [{ exists: false }] } }, { detail: { errorCode: "AccessDenied" } })).to.equal(false);
    expect(m({ detail: { errorCode: [{ exists: false }] } }, { detail: { errorCode: null } })).to.equal(false);
  });
});

describe("eventPattern: wildcard", () => {
  it("* matches any run of characters, anchored at both ends", () => {
    const bus = (arn: string) => withDetail({ EventBusArn: arn });
    const p = { detail: { EventBusArn: [{ wildcard: "arn:aws:events:us-east-1:*:event-bus/*" }] } };
    expect(m(p, bus("arn:aws:events:us-east-1:123456789012:event-bus/default"))).to.equal(true);
    expect(m(p, bus("arn:aws:events:us-west-2:123456789012:event-bus/default"))).to.equal(false);
    expect(m({ source: [{ wildcard: "Simple*Service" }] }, { source: "SimpleNotificationService" })).to.equal(true);
    expect(m({ source: [{ wildcard: "Simple*Service" }] }, { source: "SimpleServiceX" })).to.equal(false);
    expect(m({ source: [{ wildcard: "*" }] }, { source: "" })).to.equal(true);
  });

  it("\\* is a literal star and \\\\ a literal backslash", () => {
    expect(wildcardRegExp("a\\*b").test("a*b")).to.equal(true);
    expect(wildcardRegExp("a\\*b").test("axb")).to.equal(false);
    expect(wildcardRegExp("a\\\\*").test("a\\tail")).to.equal(true);
    expect(wildcardRegExp("a\\\\*").test("atail")).to.equal(false);
    expect(wildcardRegExp("a.b").test("axb")).to.equal(false);
  });
});

describe("eventPattern: cidr", () => {
  it("IPv4 and IPv6 ranges (IP address matching)", () => {
    expect(m({ detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, ec2)).to.equal(true);
    expect(m({ detail: { "source-ip": [{ cidr: "10.0.1.0/24" }] } }, ec2)).to.equal(false);
    expect(m({ detail: { "source-ip": [{ cidr: "10.0.0.0/8" }] } }, ec2)).to.equal(true);
    const v6 = (ip: string) => withDetail({ "source-ip": ip });
    expect(m({ detail: { "source-ip": [{ cidr: "2001:db8::/32" }] } }, v6("2001:db8:85a3::8a2e:370:7334"))).to.equal(true);
    expect(m({ detail: { "source-ip": [{ cidr: "2001:db8::/32" }] } }, v6("2001:db9::1"))).to.equal(false);
    expect(m({ detail: { "source-ip": [{ cidr: "10.0.0.0/8" }] } }, v6("not-an-ip"))).to.equal(false);
  });
});

describe("eventPattern: $or", () => {
  const metric = { source: "aws.cloudwatch", metricName: "NetworkIn", namespace: "AWS/EC2" };

  it("source && (metricName || namespace)", () => {
    const p: EventPattern = { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }] };
    expect(m(p, metric)).to.equal(true);
    expect(m(p, { ...metric, namespace: "AWS/S3" })).to.equal(false);
    expect(m(p, { ...metric, source: "aws.ec2" })).to.equal(false);
  });

  it("nested $or with AND inside", () => {
    const p: EventPattern = {
      source: ["aws.cloudwatch"],
      $or: [{ metricName: ["CPUUtilization"] }, { metricType: ["MetricType"], namespace: ["AWS/EC2"], $or: [{ metricId: [1234] }, { spaceId: [1000] }] }],
    };
    expect(m(p, { ...metric, metricType: "MetricType", spaceId: 1000 })).to.equal(true);
    expect(m(p, { ...metric, metricType: "MetricType", spaceId: 999 })).to.equal(false);
  });
});

describe("validatePattern", () => {
  it("accepts the reference's examples", () => {
    const ok: EventPattern[] = [
      { time: [{ prefix: "2017-10-02" }], detail: { state: [{ "anything-but": "initializing" }], "c-count": [{ numeric: [">", 0, "<=", 5] }], "x-limit": [{ "anything-but": [100, 200, 300] }] } },
      { detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }], service: [{ prefix: { "equals-ignore-case": "eventb" } }], ip: [{ cidr: "10.0.0.0/24" }], n: [{ exists: false }] } },
      { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }] },
    ];
    for (const p of ok) expect(validatePattern(p), JSON.stringify(p)).to.deep.equal([]);
  });

  it("names each problem with its path", () => {
    expect(validatePattern({ source: "aws.ec2" })).to.deep.equal(["pattern.source: values must be in an array"]);
    expect(validatePattern({ source: [] })).to.deep.equal(["pattern.source: empty arrays are not allowed"]);
    expect(validatePattern({ detail: {} })).to.deep.equal(["pattern.detail: empty objects are not allowed"]);
    expect(validatePattern({ detail: { s: [{ sufix: "x" }] } })).to.deep.equal(['pattern.detail.s: unknown operator "sufix"']);
    expect(validatePattern({ detail: { s: [{ prefix: "a", suffix: "b" }] } })).to.deep.equal(['pattern.detail.s: an operator object needs exactly one key, got ["prefix","suffix"]']);
    expect(validatePattern({ detail: { e: [{ exists: "false" }] } })).to.deep.equal(["pattern.detail.e: exists takes true or false"]);
  });

  it("catches malformed numeric ranges", () => {
    expect(validatePattern({ n: [{ numeric: [">", "1"] }] })).to.deep.equal(['pattern.n: numeric: ">" needs a number, got "1"']);
    expect(validatePattern({ n: [{ numeric: ["<", 7, ">=", 4] }] })).to.deep.equal(['pattern.n: numeric: ["<",7,">=",4] is not ["=", n], one bound, or a lower then an upper bound']);
    expect(validatePattern({ n: [{ numeric: [">", 0, ">", 5] }] })).to.have.length(1);
    expect(validatePattern({ n: [{ numeric: ["=", 1, "<", 5] }] })).to.have.length(1);
    expect(validatePattern({ n: [{ numeric: [">=", 7, "<", 4] }] })).to.deep.equal(['pattern.n: numeric: empty range [">=",7,"<",4]']);
    expect(validatePattern({ n: [{ numeric: [">", 6e9] }] })).to.deep.equal(["pattern.n: numeric: 6000000000 is outside ±5000000000"]);
    expect(validatePattern({ n: [{ numeric: [] }] })).to.deep.equal(["pattern.n: numeric needs a non-empty array"]);
  });

  it("catches malformed wildcard, cidr, anything-but and $or", () => {
    expect(validatePattern({ w: [{ wildcard: "a**b" }] })).to.deep.equal(["pattern.w: wildcard must not have consecutive *"]);
    expect(validatePattern({ w: [{ wildcard: "a\\b" }] })).to.deep.equal(["pattern.w: wildcard: a backslash may only escape * or \\"]);
    expect(validatePattern({ w: [{ wildcard: "a\\**" }] })).to.deep.equal([]);
    expect(validatePattern({ ip: [{ cidr: "10.0.0.0/33" }] })).to.have.length(1);
    expect(validatePattern({ a: [{ "anything-but": [] }] })).to.deep.equal(["pattern.a: anything-but list must not be empty"]);
    expect(validatePattern({ a: [{ "anything-but": ["x", 1] }] })).to.deep.equal(["pattern.a: anything-but list must be all strings or all numbers"]);
    expect(validatePattern({ a: [{ "anything-but": { numeric: [">", 1] } }] })).to.deep.equal(['pattern.a: anything-but does not support "numeric"']);
    expect(validatePattern({ a: [{ "anything-but": { prefix: "" } }] })).to.deep.equal(["pattern.a: anything-but prefix must not be empty"]);
    expect(validatePattern({ $or: [{ a: ["x"] }] })).to.deep.equal(["pattern.$or: $or needs an array of at least two objects"]);
    expect(validatePattern({ $or: [{ prefix: ["x"] }, { b: ["y"] }] })).to.deep.equal(["pattern.$or[0]: prefix is reserved and cannot be a field name inside $or"]);
  });
});

/**
 * Where EventBridge's engine reads a pattern differently from how it looks, the matcher follows the engine. Each case
 * is taken from aws/event-ruler's own source or tests (the library EventBridge matches with):
 * src/main/software/amazon/event/ruler/JsonRuleCompiler.java, src/test/.../JsonRuleCompilerTest.java
 * (testWithRuleOverride), src/main/.../input/EqualsIgnoreCaseParser.java and its test, Constants.java.
 */
describe("eventPattern follows aws/event-ruler: a path repeated inside $or replaces the outer condition", () => {
  // JsonRuleCompilerTest.testWithRuleOverride, verbatim pattern and events.
  const override: EventPattern = { name: ["a", "b"], $or: [{ name: [{ "anything-but": "a" }] }, { condition1: ["x"] }] };

  it("matches as event-ruler does with overriding (its default): the branch's name condition stands alone", () => {
    expect(m(override, { name: "a", condition1: "x" })).to.equal(true);
    // Not in ["a","b"], yet matched: the branch's anything-but replaced the outer list (they are not ANDed).
    expect(m(override, { name: "c" })).to.equal(true);
    expect(m(override, { name: "a" })).to.equal(false);
  });

  it("the condition written later wins: a field after the $or overrides the branches' (JsonRuleCompiler.writeRules puts into every branch)", () => {
    const after: EventPattern = { $or: [{ name: ["x"] }, { other: ["y"] }], name: ["z"] };
    expect(m(after, { name: "z" })).to.equal(true);
    expect(m(after, { name: "x" })).to.equal(false);
    expect(m(after, { name: "z", other: "y" })).to.equal(true);
  });

  it("overrides across nesting: detail.errorCode outside and a $or branch inside detail are the same path", () => {
    const p: EventPattern = { detail: { errorCode: [{ exists: false }], $or: [{ errorCode: [{ exists: true }] }, { eventSource: ["s3.amazonaws.com"] }] } };
    // What the changes stream did before the fix: its first branch forwarded every failed call, denies included.
    expect(m(p, { detail: { errorCode: "AccessDenied", eventSource: "ec2.amazonaws.com" } })).to.equal(true);
    expect(m(p, { detail: { eventSource: "s3.amazonaws.com" } })).to.equal(true);
    expect(m(p, { detail: { eventSource: "ec2.amazonaws.com" } })).to.equal(false);
  });

  it("validatePattern refuses such a pattern (event-ruler without overriding: \"Path `name` cannot be allowed multiple times\")", () => {
    expect(validatePattern(override)).to.have.length(1);
    expect(validatePattern(override)[0]).to.match(/^pattern: path name is constrained both outside and inside a \$or branch/);
    expect(validatePattern({ detail: { errorCode: [{ exists: false }] }, $or: [{ detail: { errorCode: ["x"] } }, { source: ["y"] }] })[0]).to.contain("path detail.errorCode");
    // The same path in sibling branches is not a repeat (testWithRuleOverride's jsonComplexRule and jsonComplexRule2).
    const complex: EventPattern = {
      $or: [
        { source: ["aws.sns"], detail: { eventSource: ["s3.amazonaws.com"], field1: ["value1"] } },
        { source: ["aws.sns"], detail: { field2: ["value2"], eventSource: ["sns.amazonaws.com"] } },
      ],
    };
    const complex2: EventPattern = {
      source: ["aws.sns"],
      detail: { $or: [{ eventSource: ["s3.amazonaws.com"], field1: ["value1"] }, { field2: ["value2"], eventSource: ["sns.amazonaws.com"] }] },
    };
    expect(validatePattern(complex)).to.deep.equal([]);
    expect(validatePattern(complex2)).to.deep.equal([]);
    expect(m(complex2, { source: "aws.sns", detail: { eventSource: "sns.amazonaws.com", field2: "value2" } })).to.equal(true);
    expect(m(complex2, { source: "aws.sns", detail: { eventSource: "sns.amazonaws.com", field1: "value1" } })).to.equal(false);
  });

  it("validatePattern refuses every name event-ruler reserves inside $or, at any depth (Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP)", () => {
    for (const name of ["numeric", "exactly", ">=", "regex", "not-wildcard", "in-date-range", "ip-address-in-range"]) {
      const problems = validatePattern({ $or: [{ detail: { [name]: ["x"] } }, { b: ["y"] }] });
      expect(problems, name).to.deep.equal([`pattern.$or[0].detail: ${name} is reserved and cannot be a field name inside $or`]);
    }
    // Outside $or the same names are ordinary fields.
    expect(validatePattern({ detail: { regex: ["x"] } })).to.deep.equal([]);
  });
});

describe("eventPattern follows aws/event-ruler: equals-ignore-case is each pattern character's lower or upper case", () => {
  const eq = (p: string, v: string) => m({ v: [{ "equals-ignore-case": p }] }, { v });

  it("EqualsIgnoreCaseParserTest's string \"1aA*†Éⱥ\": characters whose cases differ in UTF-8 length", () => {
    expect(eq("1aA*†Éⱥ", "1Aa*†éȺ")).to.equal(true);
    expect(eq("1aA*†Éⱥ", "1AA*†ÉⱥX")).to.equal(false);
  });

  it("the value is not case-folded: ß matches ß and SS (its upper case), not ss; SS never matches ß", () => {
    expect(eq("ß", "ß")).to.equal(true);
    expect(eq("ß", "SS")).to.equal(true);
    expect(eq("ß", "ss")).to.equal(false);
    expect(eq("SS", "ß")).to.equal(false);
    expect(eq("straße", "STRASSE")).to.equal(true);
  });

  it("the Kelvin sign K stands for k (its lower case) and itself, not the letter K; titlecase ǅ for ǆ and Ǆ, not itself", () => {
    expect(eq("\u212A", "k")).to.equal(true);
    expect(eq("\u212A", "K")).to.equal(false);
    expect(eq("k", "\u212A")).to.equal(false);
    expect(eq("\u01C5", "\u01C6")).to.equal(true);
    expect(eq("\u01C5", "\u01C4")).to.equal(true);
    expect(eq("\u01C5", "\u01C5")).to.equal(false);
  });

  it("the same rule in prefix, suffix and anything-but forms (DefaultParser sends all four to EqualsIgnoreCaseParser)", () => {
    expect(m({ v: [{ prefix: { "equals-ignore-case": "ß" } }] }, { v: "SSx" })).to.equal(true);
    expect(m({ v: [{ prefix: { "equals-ignore-case": "ß" } }] }, { v: "ssx" })).to.equal(false);
    expect(m({ v: [{ suffix: { "equals-ignore-case": ".PNG" } }] }, { v: "a.png" })).to.equal(true);
    expect(m({ v: [{ suffix: { "equals-ignore-case": "ß" } }] }, { v: "xSS" })).to.equal(true);
    expect(m({ v: [{ "anything-but": { "equals-ignore-case": "ß" } }] }, { v: "SS" })).to.equal(false);
    expect(m({ v: [{ "anything-but": { "equals-ignore-case": "ß" } }] }, { v: "ss" })).to.equal(true);
  });

  it("regular-expression characters in the pattern are literal", () => {
    expect(eq("a.b(c)*", "A.B(C)*")).to.equal(true);
    expect(eq("a.b", "axb")).to.equal(false);
  });
});
