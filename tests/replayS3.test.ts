/**
 * replay from S3: `npm run replay -- s3://bucket/AWSLogs/... --since --until` against a local S3
 * (tests/s3Stub.ts: ListObjectsV2 paging, delimiters, continuation tokens and AccessDenied as S3 answers) holding the
 * shipped samples as an organization trail delivers them: `AWSLogs/<o-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/
 * <account>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<unique>.json.gz`, gzipped `{"Records":[...]}`, over 2 accounts,
 * 2 regions and 3 days, with objects just outside the range, digest and Insights files, a second (non-organization)
 * trail and a corrupt object mixed in. Layout and names:
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
 */
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { replay, parseReplayArgs, SAMPLES } from "../cli/replay";
import type { ReplayIo } from "../cli/replayS3";
import { TrailReader, daysOf, deliveryTime, parseTime, parseTrailUrl, s3Client } from "../cli/s3Source";
import { S3Stub } from "./s3Stub";
import { withAwsEnv } from "./cliEnv";
import { ROOT } from "./planFixture";

const BUCKET = "trailwatch-org-trail-logs";
const ORG = "o-a1b2c3d4e5";
const ACCOUNTS = ["111111111111", "222222222222"];
const REGIONS = ["eu-west-1", "us-east-1"];
const DAYS = ["2026/11/01", "2026/11/02", "2026/11/03"];
const SINCE = "2026-11-01T06:00Z";
const UNTIL = "2026-11-03T18:00Z";
const RANGE = ["--since", SINCE, "--until", UNTIL];
const URL_ORG = `s3://${BUCKET}/AWSLogs/${ORG}/`;

const pad = (n: number) => String(n).padStart(2, "0");
let uniqueCounter = 0;
/** A log file's key as CloudTrail names it (the 16-character unique part has no meaning). */
function logKey(root: string, account: string, region: string, day: string, hhmm: string): string {
  const unique = `U${String(uniqueCounter++).padStart(15, "0")}`;
  return `${root}${account}/CloudTrail/${region}/${day}/${account}_CloudTrail_${region}_${day.replace(/\//g, "")}T${hhmm}Z_${unique}.json.gz`;
}
const gz = (records: unknown[]) => zlib.gzipSync(JSON.stringify({ Records: records }));

/** The sample documents as CloudTrail objects' record lists: each Stratus file, the constructed forms, Panther in chunks. */
function sampleDocuments(): unknown[][] {
  const docs: unknown[][] = [];
  const stratus = path.join(SAMPLES, "stratus-red-team/detonation-logs");
  for (const f of fs.readdirSync(stratus).sort()) docs.push(JSON.parse(fs.readFileSync(path.join(stratus, f), "utf8")));
  docs.push(JSON.parse(fs.readFileSync(path.join(SAMPLES, "constructed/deny-forms.json"), "utf8")));
  const panther = fs
    .readFileSync(path.join(SAMPLES, "panther-analysis/panther_cloudtrail_test_events.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l).event);
  for (let i = 0; i < panther.length; i += 80) docs.push(panther.slice(i, i + 80));
  return docs;
}

interface Fixture {
  stub: S3Stub;
  endpoint: string;
  /** The organization trail's objects delivered in [SINCE, UNTIL), in key order. */
  inRange: string[];
  /** The second trail's (one account, not the organization's) objects in range. */
  otherTrail: string[];
  corrupt: string;
}

async function fixture(): Promise<Fixture> {
  const stub = new S3Stub(BUCKET);
  const root = `AWSLogs/${ORG}/`;
  const inRange: string[] = [];
  const docs = sampleDocuments();
  docs.forEach((records, i) => {
    // Spread over 2 accounts x 2 regions x 3 days, delivered between 06:00 and 17:55 (the first at 06:00 sharp).
    const key = logKey(root, ACCOUNTS[i % 2], REGIONS[(i >> 1) % 2], DAYS[(i >> 2) % 3], `${pad(6 + (i % 12))}${pad((i * 5) % 60)}`);
    stub.put(key, gz(records));
    inRange.push(key);
  });
  // A corrupt (truncated) object in range: reported and skipped, the others read.
  const whole = gz(docs[0]);
  const corrupt = logKey(root, ACCOUNTS[1], REGIONS[0], DAYS[1], "1200");
  stub.put(corrupt, whole.subarray(0, whole.length >> 1));
  inRange.push(corrupt);
  // Real records just outside the range: reading any of them would change the output.
  const outside = (account: string, region: string, day: string, hhmm: string) => stub.put(logKey(root, account, region, day, hhmm), gz(docs[3].map((r: any) => ({ ...r, eventID: `outside-${uniqueCounter}` }))));
  outside(ACCOUNTS[0], REGIONS[0], DAYS[0], "0559"); // a minute before --since
  outside(ACCOUNTS[1], REGIONS[1], DAYS[2], "1800"); // at --until (excluded)
  outside(ACCOUNTS[0], REGIONS[1], DAYS[2], "2355");
  outside(ACCOUNTS[1], REGIONS[0], "2026/10/31", "1200"); // the day before
  outside(ACCOUNTS[0], REGIONS[0], "2026/11/04", "0005"); // the day after
  // Digest and Insights files, and an object whose name is no log file's, beside the logs: not read.
  stub.put(`${root}${ACCOUNTS[0]}/CloudTrail-Digest/${REGIONS[0]}/2026/11/02/${ACCOUNTS[0]}_CloudTrail-Digest_${REGIONS[0]}_trail_${REGIONS[0]}_20261102T010000Z.json.gz`, zlib.gzipSync(JSON.stringify({ awsAccountId: ACCOUNTS[0], digestStartTime: "2026-11-02T00:00:00Z", digestEndTime: "2026-11-02T01:00:00Z", logFiles: [] })));
  stub.put(`${root}${ACCOUNTS[1]}/CloudTrail-Insight/${REGIONS[0]}/2026/11/02/${ACCOUNTS[1]}_CloudTrail-Insight_${REGIONS[0]}_20261102T0100Z_x.json.gz`, gz(docs[4]));
  stub.put(`${root}${ACCOUNTS[0]}/CloudTrail/${REGIONS[1]}/2026/11/02/notes.txt`, Buffer.from("not a log file"));
  // A second trail in the same bucket, of one account (no organization id in its keys).
  const otherTrail = [logKey("AWSLogs/", "333333333333", "eu-west-1", DAYS[1], "0900")];
  stub.put(otherTrail[0], gz(docs[5]));
  inRange.sort();
  return { stub, endpoint: await stub.start(), inRange, otherTrail, corrupt };
}

async function run(argv: string[], io: ReplayIo = {}): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await replay(parseReplayArgs(argv), (s) => (out += s), (s) => (err += s), io);
  return { code, out, err };
}

/** Runs with the SDK's own endpoint setting pointing every S3 request at the stub. */
const inStub = <T>(f: Fixture, fn: () => Promise<T>) => withAwsEnv(f.endpoint, "111122223333", { AWS_ENDPOINT_URL_S3: f.endpoint }, fn);

/** The objects written as local files under one folder (their keys as paths), for a local replay of the same files. */
function asLocalFiles(stub: S3Stub, keys: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tw-replay-s3-"));
  for (const k of keys) {
    fs.mkdirSync(path.dirname(path.join(dir, k)), { recursive: true });
    fs.writeFileSync(path.join(dir, k), stub.objects.get(k)!);
  }
  return dir;
}

/** The keys read (sorted: the requests run concurrently; the output is in key order whatever order they end in). */
const gets = (stub: S3Stub) => stub.requests.filter((r) => r.op === "GetObject").map((r) => r.key!).sort();
const lists = (stub: S3Stub) => stub.requests.filter((r) => r.op === "ListObjectsV2");
const summaryOf = (out: string) => JSON.parse(out.trim().split("\n").pop()!);

describe("replay from S3 (s3:// --since --until)", function () {
  this.timeout(300_000);
  let f: Fixture;
  let local: string;
  before(async () => {
    f = await fixture();
    local = asLocalFiles(f.stub, f.inRange);
  });
  after(async () => {
    await f.stub.stop();
    fs.rmSync(local, { recursive: true, force: true });
  });
  beforeEach(() => {
    f.stub.requests.length = 0;
    f.stub.pageSize = 1000;
    f.stub.delayMs = 0;
    f.stub.listGranted = [""];
    f.stub.getGranted = [""];
    f.stub.kmsDenied.clear();
    f.stub.vanished.clear();
  });

  it("reads exactly the objects delivered in the range, and --json prints what a local replay of the same files prints", async () => {
    const s3 = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]));
    const fromDisk = await run([local, "--json"]);
    expect(s3.code, s3.err).to.equal(0);
    expect(gets(f.stub)).to.deep.equal(f.inRange); // each once, none outside the range
    expect(f.inRange).to.have.length(35 + 1 + 6 + 1);
    expect(s3.out).to.equal(fromDisk.out);
    const s = summaryOf(s3.out);
    expect(s.files).to.equal(f.inRange.length - 1);
    expect(s.denies).to.be.greaterThan(0);
    expect(s.skipped).to.be.at.least(1);
    expect(s3.err).to.contain(`replay: skipped s3://${BUCKET}/${f.corrupt}: truncated or corrupt gzip`);
    // Accounts and regions listed as folders (Delimiter "/"), then one prefix per account, region and day.
    const l = lists(f.stub);
    expect(l.filter((r) => r.delimiter === "/").map((r) => r.prefix)).to.have.members([`AWSLogs/${ORG}/`, ...ACCOUNTS.map((a) => `AWSLogs/${ORG}/${a}/CloudTrail/`)]);
    const dayPrefixes = l.filter((r) => !r.delimiter).map((r) => r.prefix);
    expect(dayPrefixes).to.have.members(ACCOUNTS.flatMap((a) => REGIONS.flatMap((r) => DAYS.map((d) => `AWSLogs/${ORG}/${a}/CloudTrail/${r}/${d}/`))));
    // The first day starts after the names delivered before --since (they sort first).
    const first = l.find((r) => r.prefix === `AWSLogs/${ORG}/${ACCOUNTS[0]}/CloudTrail/${REGIONS[0]}/${DAYS[0]}/`)!;
    expect(first.startAfter).to.equal(`AWSLogs/${ORG}/${ACCOUNTS[0]}/CloudTrail/${REGIONS[0]}/${DAYS[0]}/${ACCOUNTS[0]}_CloudTrail_${REGIONS[0]}_20261101T0600`);
    expect(l.every((r) => r.status === 200)).to.equal(true);
  });

  it("--json --changes with 2 worker threads, and the human report: the same as the local replay", async () => {
    const s3 = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--changes", "--workers", "2", "--quiet"]));
    const fromDisk = await run([local, "--json", "--changes", "--workers", "1"]);
    expect(s3.code, s3.err).to.equal(0);
    expect(s3.out).to.equal(fromDisk.out);
    expect(summaryOf(s3.out).changes).to.be.greaterThan(0);
    const human = await inStub(f, () => run([URL_ORG, ...RANGE, "--quiet"]));
    // The human report names skipped files: the same but for where they are.
    expect(human.out.split(`s3://${BUCKET}/`).join(`${local}/`)).to.equal((await run([local])).out);
  });

  it("follows continuation tokens: pages of 2 entries give the same objects and output", async () => {
    const whole = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]));
    const pagesBefore = lists(f.stub).length;
    f.stub.requests.length = 0;
    f.stub.pageSize = 2;
    const paged = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]));
    expect(paged.out).to.equal(whole.out);
    expect(gets(f.stub)).to.deep.equal(f.inRange);
    const l = lists(f.stub);
    expect(l.filter((r) => r.continuationToken).length).to.be.greaterThan(0);
    expect(l.length).to.be.greaterThan(pagesBefore);
    expect(l.every((r) => (r.entries ?? 0) <= 2)).to.equal(true);
  });

  it("lists a day of more than 1,000 log files page by page (at most 1,000 keys a page)", async () => {
    const stub = new S3Stub("big-day");
    const prefix = `AWSLogs/${ORG}/${ACCOUNTS[0]}/CloudTrail/${REGIONS[0]}/2026/11/02/`;
    for (let i = 0; i < 2500; i++) stub.put(`${prefix}${ACCOUNTS[0]}_CloudTrail_${REGIONS[0]}_20261102T${pad(Math.floor(i / 120))}${pad(Math.floor(i / 2) % 60)}Z_${String(i).padStart(16, "0")}.json.gz`, Buffer.alloc(0));
    const endpoint = await stub.start();
    try {
      const listed = await withAwsEnv(endpoint, "111122223333", { AWS_ENDPOINT_URL_S3: endpoint }, () =>
        new TrailReader(s3Client(), 4).listDay("big-day", `AWSLogs/${ORG}/${ACCOUNTS[0]}/CloudTrail/${REGIONS[0]}/`, ACCOUNTS[0], REGIONS[0], "2026/11/02", { since: new Date("2026-11-01T00:00Z"), until: new Date("2026-11-03T00:00Z") }),
      );
      expect(listed).to.have.length(2500);
      expect(stub.requests.map((r) => r.entries)).to.deep.equal([1000, 1000, 500]);
      // A narrower range: starts after since's minute, stops at the first name at or after until.
      stub.requests.length = 0;
      const narrow = await withAwsEnv(endpoint, "111122223333", { AWS_ENDPOINT_URL_S3: endpoint }, () =>
        new TrailReader(s3Client(), 4).listDay("big-day", `AWSLogs/${ORG}/${ACCOUNTS[0]}/CloudTrail/${REGIONS[0]}/`, ACCOUNTS[0], REGIONS[0], "2026/11/02", { since: new Date("2026-11-02T01:00Z"), until: new Date("2026-11-02T02:00Z") }),
      );
      expect(narrow.map((o) => deliveryTime(o.key)!.toISOString().slice(11, 16)).every((t) => t >= "01:00" && t < "02:00")).to.equal(true);
      expect(narrow).to.have.length(120);
      expect(stub.requests).to.have.length(1); // StartAfter skipped 00:xx, the listing stopped at 02:00
    } finally {
      await stub.stop();
    }
  });

  it("a bucket (or trail prefix) URL reads every trail under AWSLogs/: the organization's and an account's own", async () => {
    const r = await inStub(f, () => run([`s3://${BUCKET}`, ...RANGE, "--json", "--quiet"]));
    expect(r.code, r.err).to.equal(0);
    expect(gets(f.stub)).to.deep.equal([...f.otherTrail, ...f.inRange].sort());
  });

  it("an account or region in the URL lists only under it", async () => {
    const r = await inStub(f, () => run([`${URL_ORG}${ACCOUNTS[1]}/CloudTrail/${REGIONS[1]}/`, ...RANGE, "--json", "--quiet"]));
    expect(r.code, r.err).to.equal(0);
    expect(gets(f.stub)).to.deep.equal(f.inRange.filter((k) => k.includes(`/${ACCOUNTS[1]}/CloudTrail/${REGIONS[1]}/`)));
    expect(lists(f.stub).every((r) => r.prefix!.startsWith(`AWSLogs/${ORG}/${ACCOUNTS[1]}/CloudTrail/${REGIONS[1]}/`))).to.equal(true);
  });

  describe("access denied", () => {
    it("listing: names the bucket and prefix and the s3:ListBucket grant needed; exit 2, the summary still printed", async () => {
      f.stub.listGranted = [`AWSLogs/${ORG}/${ACCOUNTS[0]}/`];
      const r = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]));
      expect(r.code).to.equal(2);
      const line = r.err.split("\n").find((l) => l.startsWith("replay: access denied"))!;
      expect(line).to.contain(`replay: access denied listing s3://${BUCKET}/AWSLogs/${ORG}/ (ListObjectsV2: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/replay/test is not authorized to perform: s3:ListBucket`);
      expect(line).to.contain(`Replay needs s3:ListBucket on arn:aws:s3:::${BUCKET} for this prefix`);
      expect(line).to.contain(`"s3:prefix": "AWSLogs/${ORG}/*"`);
      expect(summaryOf(r.out)).to.include({ kind: "summary", records: 0 });
      // Naming the granted account in the URL reads it.
      f.stub.getGranted = [`AWSLogs/${ORG}/${ACCOUNTS[0]}/`];
      const ok = await inStub(f, () => run([`${URL_ORG}${ACCOUNTS[0]}/`, ...RANGE, "--json", "--quiet"]));
      expect(ok.code, ok.err).to.equal(0);
      expect(gets(f.stub)).to.deep.equal(f.inRange.filter((k) => k.includes(`/${ACCOUNTS[0]}/`)));
    });

    it("reading: names the object and the s3:GetObject (and kms:Decrypt) grant needed; exit 2", async () => {
      f.stub.getGranted = ["nothing/"];
      const r = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]));
      expect(r.code).to.equal(2);
      expect(r.err).to.contain(`replay: access denied reading s3://${BUCKET}/${f.inRange[0]} (GetObject: AccessDenied: Access Denied). Replay needs s3:GetObject on arn:aws:s3:::${BUCKET}/AWSLogs/*, and kms:Decrypt on the trail's KMS key when its log files use SSE-KMS`);
      expect(summaryOf(r.out).kind).to.equal("summary");
    });

    it("an SSE-KMS object the caller may not decrypt: says kms:Decrypt; what was read before is reported", async () => {
      f.stub.kmsDenied.add(f.inRange[5]);
      const r = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet", "--s3-concurrency", "1"]));
      expect(r.code).to.equal(2);
      expect(r.err).to.contain(`replay: access denied reading s3://${BUCKET}/${f.inRange[5]} (GetObject: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/replay/test is not authorized to perform: kms:Decrypt`);
      expect(r.err).to.contain("the trail's log files use SSE-KMS, so the caller also needs kms:Decrypt on the trail's KMS key");
      const fromDisk = await run([asLocalFiles(f.stub, f.inRange.slice(0, 5)), "--json"]);
      expect(r.out).to.equal(fromDisk.out); // the five objects before it, as a local replay of them
    });
  });

  it("an object gone between listing and reading is reported and skipped; the others are read", async () => {
    const gone = f.inRange[7];
    f.stub.vanished.add(gone);
    const r = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]));
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.contain(`replay: skipped s3://${BUCKET}/${gone}: GetObject failed: NoSuchKey: The specified key does not exist.`);
    const fromDisk = await run([asLocalFiles(f.stub, f.inRange.filter((k) => k !== gone)), "--json"]);
    const [s3Summary, diskSummary] = [summaryOf(r.out), summaryOf(fromDisk.out)];
    expect(s3Summary.skipped).to.equal(diskSummary.skipped + 1);
    // Everything else as the local replay without that file: the findings, and the summary but for that one skip.
    expect(r.out.split("\n").slice(0, -2)).to.deep.equal(fromDisk.out.split("\n").slice(0, -2));
    expect({ ...s3Summary, skipped: 0 }).to.deep.equal({ ...diskSummary, skipped: 0 });
  });

  describe("progress on stderr", () => {
    it("plain lines when stderr is no terminal: objects and bytes done of those listed, and a last line with the request counts", async () => {
      const r = await inStub(f, () => run([URL_ORG, ...RANGE, "--json"], { stderrIsTTY: false, progressIntervalMs: 0 }));
      const lines = r.err.split("\n").filter((l) => l.startsWith("replay: s3: "));
      expect(lines.length).to.be.greaterThan(f.inRange.length);
      for (const l of lines) expect(l).to.match(/^replay: s3: \d+\/\d+\+? objects, [\d.]+ (B|KiB|MiB)\/[\d.]+ (B|KiB|MiB)\+? read( \(listing\))?/);
      const bytes = f.inRange.reduce((n, k) => n + f.stub.objects.get(k)!.length, 0);
      const { formatBytes } = await import("../cli/progress");
      expect(lines[lines.length - 1]).to.equal(`replay: s3: ${f.inRange.length}/${f.inRange.length} objects, ${formatBytes(bytes)}/${formatBytes(bytes)} read; ${lists(f.stub).length} LIST and ${f.inRange.length} GET requests`);
      expect(r.out).to.equal((await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]))).out);
    });

    it("a bar redrawn in place on a terminal, cleared around other messages; none with --quiet", async () => {
      const r = await inStub(f, () => run([URL_ORG, ...RANGE, "--json"], { stderrIsTTY: true, columns: 120 }));
      expect(r.err).to.match(/\r\x1b\[Kreplay: s3 \[#{24}\] 100% 43\/43 objects, .*; \d+ LIST and 43 GET requests\n$/);
      // The corrupt object's message starts on a cleared line, not after the bar.
      expect(r.err).to.contain(`\r\x1b[Kreplay: skipped s3://${BUCKET}/${f.corrupt}`);
      const quiet = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"], { stderrIsTTY: true }));
      expect(quiet.err).not.to.match(/replay: s3(: | \[)/);
      expect(quiet.err).not.to.contain("\r");
    });
  });

  it("keeps listing and GetObject each within --s3-concurrency, and uses it", async () => {
    f.stub.delayMs = 15;
    await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet", "--s3-concurrency", "3"]));
    expect(f.stub.maxInFlight.GetObject).to.be.within(2, 3);
    expect(f.stub.maxInFlight.ListObjectsV2).to.be.within(2, 3);
  });

  it("says so when no log file was delivered in the range", async () => {
    const r = await inStub(f, () => run([URL_ORG, "--since", "2026-12-01", "--until", "2026-12-02", "--json", "--quiet"]));
    expect(r.code).to.equal(0);
    expect(r.err).to.contain(`replay: no CloudTrail log files delivered from 2026-12-01T00:00:00.000Z to 2026-12-02T00:00:00.000Z under ${URL_ORG}`);
    expect(summaryOf(r.out)).to.include({ records: 0, files: 0 });
  });

  it("runs as `npm run replay` does (a fresh process, the SDK's endpoint setting, 2 worker threads)", async () => {
    const inProcess = await inStub(f, () => run([URL_ORG, ...RANGE, "--json", "--quiet"]));
    const tsNode = path.join(ROOT, "node_modules/ts-node/dist/bin.js");
    const env = { ...process.env, AWS_ENDPOINT_URL_S3: f.endpoint, AWS_ACCESS_KEY_ID: "AKIASTUB", AWS_SECRET_ACCESS_KEY: "stub", AWS_REGION: "eu-west-1", AWS_EC2_METADATA_DISABLED: "true", AWS_PROFILE: undefined };
    // Not spawnSync: the stub answers from this process's event loop.
    const child = spawn(process.execPath, [tsNode, "--transpile-only", "cli/replay.ts", URL_ORG, ...RANGE, "--json", "--workers", "2"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });
    const r = { stdout: "", stderr: "", status: null as number | null };
    child.stdout.on("data", (d) => (r.stdout += d));
    child.stderr.on("data", (d) => (r.stderr += d));
    r.status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(inProcess.out);
    expect(r.stderr).to.match(/replay: s3: 43\/43 objects, .* read; \d+ LIST and 43 GET requests\n/);
  });
});

describe("replay s3:// arguments", () => {
  const bad = (argv: string[], message: string | RegExp) => {
    let thrown: Error | undefined;
    try {
      parseReplayArgs(argv);
    } catch (e) {
      thrown = e as Error;
    }
    expect(thrown, argv.join(" ")).to.be.instanceOf(Error);
    const first = thrown!.message.split("\n")[0];
    if (typeof message === "string") expect(first).to.equal(message);
    else expect(first).to.match(message);
    expect(thrown!.message).to.contain("usage: npm run replay --");
  };

  it("refuses a bad URL, naming what was expected", () => {
    bad(["s3://", ...RANGE], /^s3:\/\/: "" is no S3 bucket name/);
    bad(["s3:/bucket/AWSLogs/", ...RANGE], /^s3:\/bucket\/AWSLogs\/: not an S3 URL: expected s3:\/\/<bucket>/);
    bad(["s3://Bad_Bucket!/AWSLogs/", ...RANGE], /"Bad_Bucket!" is no S3 bucket name/);
    bad([`s3://${BUCKET}/AWSLogs/o-a1b2c3d4e5/notanaccount/`, ...RANGE], `s3://${BUCKET}/AWSLogs/o-a1b2c3d4e5/notanaccount/: expected an account id (12 digits) after AWSLogs/o-a1b2c3d4e5/, found "notanaccount"`);
    bad([`s3://${BUCKET}/AWSLogs/111111111111/CloudTrail-Digest/`, ...RANGE], /found "CloudTrail-Digest" \(digest and Insights files are not read\)$/);
    bad([`s3://${BUCKET}/AWSLogs/111111111111/CloudTrail/eu-west-1/2026/11/01/`, ...RANGE], /goes below the region folder \("2026\/11\/01"\): give the days with --since and --until instead$/);
    bad([`s3://${BUCKET}/a//AWSLogs/`, ...RANGE], /empty folder name/);
  });

  it("refuses a missing, bad or empty time range", () => {
    bad([URL_ORG], /^an s3:\/\/ source needs --since <time>/);
    bad([URL_ORG, "--since", "yesterday"], "--since needs a time such as 2026-11-01 (UTC day), 2026-11-01T06:30Z or 36h (ago), found yesterday");
    bad([URL_ORG, "--since", "2026-11-01T06:00"], /found 2026-11-01T06:00: add the time zone \(Z for UTC\)$/);
    bad([URL_ORG, "--since", "2026-02-30"], /found 2026-02-30: no such date or time$/);
    bad([URL_ORG, "--since", "2026-11-02", "--until", "2026-11-01"], "--since (2026-11-02T00:00:00.000Z) must be before --until (2026-11-01T00:00:00.000Z)");
    bad([URL_ORG, "--since", "2026-11-01", "--until"], /^--until needs a time/);
    bad([URL_ORG, "--since", "2026-11-01", "--s3-concurrency", "0"], /^--s3-concurrency needs a number of concurrent S3 requests from 1 to 256, found 0$/);
  });

  it("refuses S3 flags without an s3:// source, and local paths mixed with one", () => {
    bad(["--since", "2026-11-01"], /^--since applies to s3:\/\/ sources only/);
    bad([SAMPLES, "--until", "2026-11-01"], /^--until applies to s3:\/\/ sources only/);
    bad([SAMPLES, URL_ORG, ...RANGE], /^s3:\/\/ URLs and local paths cannot be mixed in one run/);
  });

  it("fixes the range once, as ISO times (an age counts from now); --until defaults to now", () => {
    const a = parseReplayArgs([URL_ORG, "--since", "2026-11-01T08:30:00+02:00", "--until", "2026-11-01T07:00Z"]);
    expect([a.since, a.until]).to.deep.equal(["2026-11-01T06:30:00.000Z", "2026-11-01T07:00:00.000Z"]);
    const before = Date.now();
    const b = parseReplayArgs([URL_ORG, "--since", "36h"]);
    expect(Date.parse(b.until!) - Date.parse(b.since!)).to.equal(36 * 3_600_000);
    expect(Date.parse(b.until!)).to.be.within(before, Date.now());
    expect(parseTime("--since", "90m", new Date("2026-11-01T12:00:00Z")).toISOString()).to.equal("2026-11-01T10:30:00.000Z");
  });

  it("parses the trail layout from the URL, and the days and delivery times the listing uses", () => {
    expect(parseTrailUrl(`s3://${BUCKET}`)).to.deep.include({ bucket: BUCKET, logsPrefix: "AWSLogs/" });
    expect(parseTrailUrl(`s3://${BUCKET}/trails/org`)).to.deep.include({ logsPrefix: "trails/org/AWSLogs/" });
    expect(parseTrailUrl(`s3://${BUCKET}/p/AWSLogs/${ORG}/111111111111/CloudTrail/eu-west-1/`)).to.deep.include({ logsPrefix: "p/AWSLogs/", org: ORG, account: "111111111111", region: "eu-west-1" });
    expect(parseTrailUrl(`s3://${BUCKET}/AWSLogs/111111111111`)).to.deep.equal({ url: `s3://${BUCKET}/AWSLogs/111111111111`, bucket: BUCKET, logsPrefix: "AWSLogs/", account: "111111111111" });
    expect(daysOf({ since: new Date("2026-10-31T23:59:30Z"), until: new Date("2026-11-02T00:00Z") })).to.deep.equal(["2026/10/31", "2026/11/01"]);
    // AWS's own example name (CloudTrail log file name format).
    expect(deliveryTime("AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz")!.toISOString()).to.equal("2015-08-01T02:10:00.000Z");
    expect(deliveryTime("AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/01/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150801T021000Z.json.gz")).to.equal(null);
  });
});
