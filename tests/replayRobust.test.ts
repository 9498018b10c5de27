/**
 * replay never crashes and never drops: bad input is reported with file:line and the field at fault; an
 * internal error (a bug) is printed as one, counted apart, and changes the exit code only with --strict; counts add
 * up. Then a seeded run over files of mutated real records and broken files.
 */
import { expect } from "chai";
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { replay, parseReplayArgs } from "../cli/replay";
import { allRecords } from "./sharedData";
import { jsonText, mutate, mutation, type Json } from "./fuzz/mutations";
import { KNOWN_FAILING } from "./fuzz/knownFailing";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const router = require("../functions/router") as typeof import("../functions/router");

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await replay(parseReplayArgs(argv), (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}
const summaryOf = (out: string) => JSON.parse(out.trim().split("\n").pop()!);

describe("replay: bad input vs internal errors", function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tw-replay-robust-"));
  const real = allRecords().map((r) => r.record);
  const deny = real.find((r) => r.errorCode === "AccessDenied" && r.eventSource === "s3.amazonaws.com") ?? real.find((r) => /^AccessDenied/.test(r.errorCode ?? ""))!;
  const other = real.find((r) => !r.errorCode && r.eventName === "DescribeInstances") ?? real.find((r) => !r.errorCode && /^(Describe|List|Get)/.test(r.eventName ?? ""))!;
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reports a field of the wrong type with file:line and the field, and reads the record without it", async () => {
    const f = path.join(dir, "fields.jsonl");
    fs.writeFileSync(f, [JSON.stringify(other), JSON.stringify({ ...deny, awsRegion: 42, userIdentity: { ...deny.userIdentity, arn: ["x"] } })].join("\n") + "\n");
    const { code, out, err } = await run([f, "--json"]);
    expect(code).to.equal(0);
    expect(err).to.contain(`replay: ${f}:2: ignored awsRegion: expected a string, found a number\n`);
    expect(err).to.contain(`replay: ${f}:2: ignored userIdentity.arn: expected a string, found an array\n`);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l));
    const d = lines.find((l) => l.kind === "deny");
    expect(d).to.include({ region: null, eventId: deny.eventID });
    expect(summaryOf(out)).to.include({ records: 2, skipped: 0, internalErrors: 0, fieldsIgnored: 2 });
  });

  describe("an internal error (a bug in our code)", () => {
    const f = path.join(dir, "internal.jsonl");
    let original: typeof router.routeRecord;
    before(() => {
      fs.writeFileSync(f, [JSON.stringify(deny), "{not json", JSON.stringify({ ...deny, eventID: "bug-here" }), JSON.stringify(other)].join("\n") + "\n");
      original = router.routeRecord;
      // The second deny meets a bug: the first goes through as usual.
      router.routeRecord = async (record, opts) => {
        if (record.eventID === "bug-here") throw new TypeError("Cannot read properties of undefined (reading 'x')");
        return original(record, opts);
      };
    });
    after(() => (router.routeRecord = original));

    it("is printed as a bug, counted apart from skipped input, its record counted once and printing nothing", async () => {
      const { code, out, err } = await run([f, "--json"]);
      expect(code).to.equal(0); // without --strict
      expect(err).to.match(new RegExp(`replay: internal error at ${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3 \\(a bug in trailwatch, not bad input: please report it\\): TypeError: Cannot read properties of undefined \\(reading 'x'\\) \\(at .*tests/replayRobust\\.test\\.ts`));
      expect(err).to.contain(`replay: skipped ${f}:2: not valid JSON`);
      expect(err).not.to.match(/skipped .*:3/);
      const lines = out.trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.kind === "deny")).to.have.length(1);
      // 4 lines: 3 records (one of them hit the bug) + 1 skipped line. Nothing counted twice.
      expect(summaryOf(out)).to.include({ records: 3, skipped: 1, internalErrors: 1, denies: 1 });
    });

    it("makes the exit code non-zero with --strict only, and shows in the human report", async () => {
      expect((await run([f, "--strict", "--json"])).code).to.equal(3);
      const human = await run([f]);
      expect(human.code).to.equal(0);
      expect(human.out).to.match(/^trailwatch replay: 3 records from 1 files, 1 skipped, 1 internal errors\n/);
      expect(human.out).to.contain("\nInternal errors (1): bugs in trailwatch, not bad input; please report them\n");
      expect(human.out).to.match(/\nSummary: 3 records, .*, 1 skipped, 1 internal errors\n$/);
    });
  });

  it("survives files of mutated real records and broken files: no internal error, counts add up (seeded)", async () => {
    const files = path.join(dir, "fuzz");
    fs.mkdirSync(files);
    const samples = fc.sample(fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 })), { seed: 1919, numRuns: 240 });
    const mutated = samples.map(([i, ms]) => mutate(real[i % real.length] as Json, ms));
    const lines = mutated.map(jsonText);
    fs.writeFileSync(path.join(files, "a.jsonl"), lines.slice(0, 120).join("\n") + "\n");
    fs.writeFileSync(path.join(files, "b.json"), `{"Records":[${lines.slice(120, 180).join(",")}]}`);
    fs.writeFileSync(path.join(files, "c.json.gz"), zlib.gzipSync(`[${lines.slice(180).join(",")}]`));
    // Broken files: each is one skipped item.
    const broken: Record<string, string | Buffer> = {
      "d-truncated.json.gz": zlib.gzipSync(`{"Records":[${lines[0]}]}`).subarray(0, 20),
      "e-not-json.json": "{\"Records\": [ {\"eventName\": ",
      "f-empty.json": "",
      "g-binary.json": Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b]),
      "h-records-not-array.json": '{"Records": 5}',
      "i-deep.json": "[".repeat(6000) + "]".repeat(6000),
      "j-scalar.json": "42",
      "k-null.json": "null",
    };
    for (const [n, body] of Object.entries(broken)) fs.writeFileSync(path.join(files, n), body);
    fs.symlinkSync(path.join(files, "gone.json"), path.join(files, "l-dangling.json"));

    for (const argv of [[files, "--json", "--changes", "--trusted-cidr", "10.0.0.0/8"], [files, "--changes"]]) {
      const { code, out, err } = await run(argv);
      const internal = err.split("\n").filter((l) => l.startsWith("replay: internal error"));
      const unknown = internal.filter((l) => !KNOWN_FAILING.some((k) => k.matches(Object.assign(new Error(l), { stack: l }))));
      expect(unknown, unknown.join("\n")).to.deep.equal([]);
      expect(code).to.equal(0);
      if (argv.includes("--json")) {
        const s = summaryOf(out);
        const notRecords = mutated.filter((m) => {
          const v = m && typeof m === "object" && !Array.isArray(m) ? (m as Record<string, Json>) : null;
          return !v || typeof v.eventName !== "string" || v.eventName === "";
        }).length;
        // Every item is counted once: a record (internal error or not) or a skipped item.
        // Each broken file is one skipped item, and so is the dangling link.
        expect(s.records + s.skipped).to.equal(mutated.length + Object.keys(broken).length + 1);
        expect(s.records).to.equal(mutated.length - notRecords);
        expect(s.internalErrors).to.equal(internal.length);
        for (const l of out.trim().split("\n")) expect(() => JSON.parse(l)).not.to.throw();
      } else expect(out).to.match(/\nSummary: \d+ records, /);
    }
  });
});
