/**
 * replay --workers: files spread over worker threads, the output merged in input order. With 1, 2
 * and 4 workers, stdout (findings, change lines, the summary line or the human report), stderr (bad input, ignored
 * fields) and the exit code are byte for byte the same: on the shipped samples (constructed records included) and on
 * a generated corpus of gzipped CloudTrail files with bad files mixed in. No timings here: `npm run bench` measures.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { replay, parseReplayArgs, workerCount, SAMPLES, AUTO_WORKERS_MIN_BYTES } from "../cli/replay";
import { ReplaySummary } from "../cli/report";
import { readLogBatches } from "../cli/readLogs";
import { replayItems, type ReplayContext } from "../cli/replay";
import { DEFAULT_COVERAGE } from "../stacks/config";
import { allRecords, constructedRecords } from "./sharedData";
import { ROOT } from "./planFixture";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await replay(parseReplayArgs(argv), (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

/** The same run with 1 worker and with each of `counts`: every one must equal the single-threaded run. */
async function sameWithWorkers(argv: string[], counts: number[]): Promise<{ code: number; out: string; err: string }> {
  const one = await run([...argv, "--workers", "1"]);
  for (const n of counts) {
    const many = await run([...argv, "--workers", String(n)]);
    expect(many.out, `stdout with ${n} workers`).to.equal(one.out);
    expect(many.err, `stderr with ${n} workers`).to.equal(one.err);
    expect(many.code, `exit code with ${n} workers`).to.equal(one.code);
  }
  return one;
}

const summaryOf = (out: string) => JSON.parse(out.trim().split("\n").pop()!);

describe("replay --workers", function () {
  this.timeout(600_000);

  describe("on the shipped samples", () => {
    it("--json --changes: stdout, stderr and exit code identical with 1, 2 and 4 workers", async () => {
      const r = await sameWithWorkers(["--json", "--changes"], [2, 4]);
      const s = summaryOf(r.out);
      expect(s.kind).to.equal("summary");
      expect(s.records).to.equal(allRecords().length + constructedRecords().length);
      expect(s.files).to.be.greaterThan(4); // several files, so 2 and 4 workers really split them
      expect(s.denies).to.be.greaterThan(0);
      expect(s.changes).to.be.greaterThan(0);
      expect(r.err).to.contain("ignored"); // the samples hold fields of the wrong type: stderr is compared, not empty
    });

    it("the human report is identical with 1 and 2 workers", async () => {
      const r = await sameWithWorkers([], [2]);
      expect(r.out).to.match(/^trailwatch replay: \d+ records from \d+ files/);
      expect(r.out).to.contain("Denies with a least-privilege fix");
    });

    it("--stack prod --strict --json is identical with 1 and 2 workers (coverage from the stack config reaches the workers)", async () => {
      const r = await sameWithWorkers(["--stack", "prod", "--strict", "--json"], [2]);
      expect(r.code).to.equal(0);
      expect(summaryOf(r.out).unseen).to.be.an("object");
    });
  });

  describe("on a generated corpus of gzipped CloudTrail files with bad files mixed in", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tw-replay-workers-"));
    const records = [...allRecords(), ...constructedRecords()].map((r) => r.record);
    before(() => {
      // CloudTrail delivers `{"Records":[...]}` gzipped, one object per account, region and 5 minutes:
      // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
      let k = 0;
      for (let i = 0; i < 14; i++) {
        const recs = Array.from({ length: 40 + i * 7 }, () => ({ ...records[k++ % records.length], eventID: `gen-${k}` }));
        const sub = path.join(dir, "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/0" + (1 + (i % 3)));
        fs.mkdirSync(sub, { recursive: true });
        fs.writeFileSync(path.join(sub, `f${String(i).padStart(2, "0")}.json.gz`), zlib.gzipSync(JSON.stringify({ Records: recs })));
      }
      const bad = path.join(dir, "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/02");
      const full = zlib.gzipSync(JSON.stringify({ Records: records.slice(0, 20) }));
      fs.writeFileSync(path.join(bad, "f05a-truncated.json.gz"), full.subarray(0, Math.floor(full.length / 2)));
      fs.writeFileSync(path.join(bad, "f05b-not-json.json"), "{\"Records\": [ {\"eventName\": ");
      fs.writeFileSync(path.join(bad, "f05c-not-records.json"), JSON.stringify([1, "x", null, records[0]]));
      fs.writeFileSync(path.join(bad, "f05d-lines.jsonl"), [JSON.stringify(records[1]), "{nope", JSON.stringify({ ...records[2], awsRegion: 7 }), ""].join("\n"));
      // A digest file (integrity hashes, no events): counted, neither records nor bad input.
      // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html
      const digestDir = path.join(dir, "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/01");
      fs.mkdirSync(digestDir, { recursive: true });
      fs.writeFileSync(path.join(digestDir, "d.json.gz"), zlib.gzipSync(JSON.stringify({ awsAccountId: "111122223333", digestStartTime: "2026-11-01T00:00:00Z", digestEndTime: "2026-11-01T01:00:00Z", logFiles: [] })));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("--json: identical with 1, 2 and 4 workers, bad files reported at the same place", async () => {
      const missing = path.join(dir, "no-such-folder");
      const r = await sameWithWorkers([dir, missing, "--json"], [2, 4]);
      expect(r.code).to.equal(0);
      const s = summaryOf(r.out);
      expect(s.files).to.equal(14 + 2); // the good files, f05c's one record and f05d's lines
      expect(s.digests).to.equal(1);
      expect(s.skipped).to.equal(1 + 1 + 1 + 3 + 1); // missing path, truncated gzip, not JSON, 3 non-records, {nope
      expect(s.fieldsIgnored).to.be.at.least(1); // f05d line 3, and sample records with fields of the wrong type
      expect(r.err.split("\n")[0]).to.equal(`replay: skipped ${missing}: no such file or folder`);
      expect(r.err).to.match(/f05a-truncated\.json\.gz: truncated or corrupt gzip/);
      expect(r.err).to.contain("f05d-lines.jsonl:2: not valid JSON");
      expect(r.err).to.contain("f05d-lines.jsonl:3: ignored awsRegion");
    });

    it("human report and --changes --strict: identical with 1 and 2 workers", async () => {
      await sameWithWorkers([dir], [2]);
      await sameWithWorkers([dir, "--changes", "--strict"], [3]);
    });

    it("exit code 1 when nothing could be read, as with one worker", async () => {
      const bad = path.join(dir, "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/02");
      const r = await sameWithWorkers([path.join(bad, "f05a-truncated.json.gz"), path.join(bad, "f05b-not-json.json"), "--json"], [2]);
      expect(r.code).to.equal(1);
    });
  });

  describe("ReplaySummary.merge", () => {
    it("summaries of consecutive parts merged in order equal the summary of one pass (through toState/fromState)", async () => {
      const args = parseReplayArgs(["--json"]);
      const whole = new ReplaySummary();
      const ctx = (summary: ReplaySummary): ReplayContext => ({ args, coverage: DEFAULT_COVERAGE, summary, changes: 0, out: () => undefined, err: () => undefined });
      const one = ctx(whole);
      const merged = new ReplaySummary();
      for await (const batch of readLogBatches([SAMPLES])) {
        await replayItems(batch, one);
        // Split every batch in two parts, each its own summary, as the workers do per batch.
        for (const part of [batch.slice(0, batch.length >> 1), batch.slice(batch.length >> 1)]) {
          const s = new ReplaySummary();
          await replayItems(part, ctx(s));
          merged.merge(ReplaySummary.fromState(JSON.parse(JSON.stringify(s.toState()))));
        }
      }
      expect(JSON.stringify(merged.toJSON())).to.equal(JSON.stringify(whole.toJSON()));
      expect(whole.denies).to.be.greaterThan(0);
      const { formatReport } = await import("../cli/report");
      expect(formatReport(merged)).to.equal(formatReport(whole));
    });

    it("keeps add()'s caps: at most 6 sessions per deny group, the first seen", () => {
      const deny = (session: string) => ({ kind: "deny", principalArn: "arn:aws:iam::1:role/r", action: "s3:GetObject", resource: "*", cause: "identity-policy", explicit: false, sessionName: session, accountId: "1" }) as never;
      const whole = new ReplaySummary();
      const a = new ReplaySummary();
      const b = new ReplaySummary();
      ["s1", "s2", "s3"].forEach((s) => (whole.add(deny(s)), a.add(deny(s))));
      ["s1", "s4", "s5", "s6", "s7", "s8"].forEach((s) => (whole.add(deny(s)), b.add(deny(s))));
      a.merge(b);
      const sessions = (s: ReplaySummary) => [...[...s.deniesByKey.values()][0].sessions];
      expect(sessions(a)).to.deep.equal(sessions(whole));
      expect(sessions(a)).to.deep.equal(["s1", "s2", "s3", "s4", "s5", "s6"]);
    });
  });

  describe("arguments and defaults", () => {
    it("--workers takes 1 to 256", () => {
      expect(parseReplayArgs(["--workers", "3"]).workers).to.equal(3);
      for (const bad of ["0", "x", "257", undefined])
        expect(() => parseReplayArgs(bad === undefined ? ["--workers"] : ["--workers", bad])).to.throw(/--workers needs a number of worker threads from 1 to 256, found/);
    });

    it("default: one thread for small inputs, one worker per core (at most one per file) for large ones", () => {
      const small = fs.readdirSync(path.join(SAMPLES, "stratus-red-team/detonation-logs")).map((f) => path.join(SAMPLES, "stratus-red-team/detonation-logs", f));
      expect(workerCount(undefined, small)).to.equal(1);
      expect(workerCount(4, small.slice(0, 2))).to.equal(2);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tw-replay-workers-size-"));
      try {
        const big = [0, 1, 2].map((i) => path.join(dir, `${i}.json`));
        for (const f of big) fs.writeFileSync(f, Buffer.alloc(Math.ceil(AUTO_WORKERS_MIN_BYTES / 2)));
        expect(workerCount(undefined, big)).to.equal(Math.min(os.availableParallelism(), 3));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("runs as `npm run replay` does (ts-node --transpile-only, a fresh process): the worker entry registers ts-node itself", () => {
    const tsNode = path.join(ROOT, "node_modules/ts-node/dist/bin.js");
    const cli = (n: number) => spawnSync(process.execPath, [tsNode, "--transpile-only", "cli/replay.ts", "--json", "--workers", String(n), path.join(SAMPLES, "stratus-red-team")], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    const one = cli(1);
    const two = cli(2);
    expect(one.status, one.stderr).to.equal(0);
    expect(two.status, two.stderr).to.equal(0);
    expect(two.stdout).to.equal(one.stdout);
    expect(two.stderr).to.equal(one.stderr);
    expect(summaryOf(two.stdout).records).to.be.greaterThan(0);
  });
});
