/**
 * replay's S3 source: `npm run replay -- s3://bucket/[prefix/]AWSLogs/... --since <time> [--until <time>]` lists and
 * reads a trail's log files where CloudTrail delivered them, with no copy of the bucket.
 *
 * Where CloudTrail puts them ("Finding your CloudTrail log files",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html):
 *   bucket/[prefix/]AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<file>.json.gz            (a trail)
 *   bucket/[prefix/]AWSLogs/<o-id>/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<file>.json.gz     (an organization trail)
 * and the file name is `<account>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<unique>.json.gz`, the time being when the
 * file was delivered, in UTC; "a log file delivered at a specific time can contain records written at any point
 * before that time" (CloudTrail log file name format:
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html). Digest files are
 * under `CloudTrail-Digest/` and Insights under `CloudTrail-Insight/`: not read.
 *
 * So: the accounts (and organization folders) under AWSLogs/ and the regions under each `<account>/CloudTrail/` are
 * listed as folders (ListObjectsV2 with Delimiter "/": CommonPrefixes), then one prefix per account, region and UTC
 * day of the range is listed page by page (ContinuationToken; at most 1,000 keys a page), and the objects whose file
 * name says they were delivered in [since, until) are read (by the minute of the name: since is rounded down to its
 * minute). Within a day prefix the names sort by delivery time, so the first day starts after `since` (StartAfter)
 * and a listing stops at the first name at or after `until`. ListObjectsV2:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 *
 * Objects are read in key order (account, region, day, time: what a local replay of the same files under one folder
 * reads), their output written in that order whatever order the requests finish in. Listing and GetObject run
 * concurrently, each at most `--s3-concurrency` requests at a time, and listing runs only as far ahead of reading as
 * that allows: memory holds the objects in flight, not the listing of the range.
 *
 * Permissions (ListObjectsV2 needs s3:ListBucket on the bucket, GetObject s3:GetObject on the object:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html; log files encrypted with SSE-KMS also need
 * kms:Decrypt on the trail's key: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail-decrypt.html).
 * AccessDenied stops the run with a message naming the bucket, the prefix or object, and what to grant. A corrupt
 * object is reported (skipped input, as a corrupt local file) and the others are read.
 */
import type { ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";
import type { Readable } from "stream";
import type { FileTask } from "./replayWorkers";

/** The SDK, loaded when an S3 replay runs (a local replay does not pay its load time). */
const sdk = () => require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");

/** Concurrent S3 requests when --s3-concurrency is not given (listing and GetObject each). */
export const S3_CONCURRENCY = 16;

/** An error that stops an S3 replay with a message for the user (bad URL, access denied): exit 2. */
export class S3SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "S3SourceError";
  }
}

export const isS3Url = (p: string): boolean => /^s3:/i.test(p);

/** What an s3:// URL points at in a trail's layout: the AWSLogs/ folder, and as much below it as the URL names. */
export interface TrailScope {
  url: string;
  bucket: string;
  /** `[prefix/]AWSLogs/` */
  logsPrefix: string;
  org?: string;
  account?: string;
  region?: string;
}

// Bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html); older us-east-1 buckets may also
// hold capitals and underscores, up to 255 characters, so those are let through.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;
/** Organization ids: "o-" and 10 to 32 lowercase letters or digits (Organizations API, Organization.Id). */
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** `<account>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<unique>.json.gz` */
const LOG_NAME = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[A-Za-z0-9]+\.json\.gz$/;

const EXAMPLE = "s3://<bucket>/[<prefix>/]AWSLogs/[<o-id>/][<account>/CloudTrail/[<region>/]]";

export function parseTrailUrl(url: string): TrailScope {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) throw new S3SourceError(`${url}: not an S3 URL: expected ${EXAMPLE}`);
  const bucket = m[1];
  if (!BUCKET.test(bucket) || bucket.includes("..")) throw new S3SourceError(`${url}: "${bucket}" is no S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens): expected ${EXAMPLE}`);
  const segments = (m[2] ?? "").split("/").filter((s, i, all) => s !== "" || i < all.length - 1);
  if (segments.some((s) => s === "")) throw new S3SourceError(`${url}: empty folder name ("//") in the prefix`);
  const at = segments.indexOf("AWSLogs");
  // No AWSLogs/ in the URL: the URL is the bucket or the trail's prefix, the logs are under its AWSLogs/.
  const before = at < 0 ? segments : segments.slice(0, at);
  const after = at < 0 ? [] : segments.slice(at + 1);
  const scope: TrailScope = { url, bucket, logsPrefix: [...before, "AWSLogs", ""].join("/") };
  let i = 0;
  if (after[i] !== undefined && ORG_ID.test(after[i])) scope.org = after[i++];
  if (after[i] !== undefined) {
    if (!ACCOUNT.test(after[i])) throw new S3SourceError(`${url}: expected ${scope.org ? "an account id (12 digits)" : "an organization id (o-...) or an account id (12 digits)"} after ${scope.logsPrefix}${scope.org ? `${scope.org}/` : ""}, found "${after[i]}"`);
    scope.account = after[i++];
  }
  if (after[i] !== undefined) {
    if (after[i] !== "CloudTrail") throw new S3SourceError(`${url}: replay reads the log files under <account>/CloudTrail/, found "${after[i]}" (digest and Insights files are not read)`);
    i++;
  }
  if (after[i] !== undefined) {
    if (!REGION.test(after[i])) throw new S3SourceError(`${url}: expected a region such as eu-west-1 after CloudTrail/, found "${after[i]}"`);
    scope.region = after[i++];
  }
  if (after[i] !== undefined) throw new S3SourceError(`${url}: the URL goes below the region folder ("${after.slice(i).join("/")}"): give the days with --since and --until instead`);
  return scope;
}

/**
 * A time for --since / --until: a UTC day (2026-11-01), an ISO 8601 time with its zone (2026-11-01T06:30Z,
 * 2026-11-01T08:30:00+02:00), "now", or an age (90m, 36h, 7d: that long before `now`).
 */
export function parseTime(flag: string, value: string, now: Date): Date {
  const hint = `${flag} needs a time such as 2026-11-01 (UTC day), 2026-11-01T06:30Z or 36h (ago)`;
  const age = /^(\d{1,6})([mhd])$/.exec(value);
  if (age) return new Date(now.getTime() - Number(age[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as "m" | "h" | "d"]);
  if (value === "now") return new Date(now.getTime());
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const time = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.exec(value);
  if (!day && !time) {
    if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value)) throw new S3SourceError(`${hint}, found ${value}: add the time zone (Z for UTC)`);
    throw new S3SourceError(`${hint}, found ${value}`);
  }
  const [, y, mo, d] = (day ?? time)!;
  const t = day ? Date.UTC(Number(y), Number(mo) - 1, Number(d)) : Date.parse(value);
  // Date.UTC rolls 2026-02-30 over to March: a day that does not exist is refused, not moved.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (Number.isNaN(t) || check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) throw new S3SourceError(`${hint}, found ${value}: no such date or time`);
  return new Date(t);
}

export interface TimeRange {
  since: Date;
  until: Date;
}

/** The range --since/--until give (until defaults to now), or why it is no range. */
export function parseRange(since: string | undefined, until: string | undefined, now: Date): TimeRange {
  if (since === undefined) throw new S3SourceError("an s3:// source needs --since <time> (e.g. --since 2026-11-01, --since 2026-11-01T06:00Z or --since 24h): replay reads the log files delivered from then on, never a whole bucket by default");
  const range = { since: parseTime("--since", since, now), until: until === undefined ? new Date(now.getTime()) : parseTime("--until", until, now) };
  if (range.since.getTime() >= range.until.getTime()) throw new S3SourceError(`--since (${range.since.toISOString()}) must be before --until (${range.until.toISOString()}${until === undefined ? ", now" : ""})`);
  return range;
}

const floorMinute = (d: Date) => Math.floor(d.getTime() / 60_000) * 60_000;
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** When a log file was delivered, from its name (to the minute), or null when the name is no CloudTrail log file's. */
export function deliveryTime(key: string): Date | null {
  const m = LOG_NAME.exec(key.slice(key.lastIndexOf("/") + 1));
  if (!m) return null;
  const [, , , y, mo, d, h, mi] = m;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)));
}

/** Delivered in [since, until), to the minute of the name. */
export function inRange(t: Date, range: TimeRange): boolean {
  return t.getTime() >= floorMinute(range.since) && t.getTime() < range.until.getTime();
}

/** The UTC days the range touches, as `YYYY/MM/DD`, oldest first. */
export function daysOf(range: TimeRange): string[] {
  const days: string[] = [];
  const last = range.until.getTime() - 1;
  for (let t = Math.floor(floorMinute(range.since) / 86_400_000) * 86_400_000; t <= last; t += 86_400_000) {
    const d = new Date(t);
    days.push(`${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`);
  }
  return days;
}

/** `YYYYMMDDTHHmm` of a time (UTC), as in log file names. */
const stamp = (t: number) => {
  const d = new Date(t);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
};

/** The S3 error code of an SDK error (its name, or Code from the XML body). */
function codeOf(e: unknown): string {
  const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return err?.Code ?? err?.name ?? "";
}
const isAccessDenied = (e: unknown) => codeOf(e) === "AccessDenied" || (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403;
const messageOf = (e: unknown) => ((e as Error)?.message ?? String(e)).replace(/\s+/g, " ").trim();

export function listDenied(bucket: string, prefix: string, e: unknown): S3SourceError {
  return new S3SourceError(
    `access denied listing s3://${bucket}/${prefix} (ListObjectsV2: ${codeOf(e) || "403"}: ${messageOf(e)}). ` +
      `Replay needs s3:ListBucket on arn:aws:s3:::${bucket} for this prefix (a policy may limit it with the s3:prefix condition key, e.g. "StringLike": {"s3:prefix": "${prefix}*"}). ` +
      `If only some accounts or regions are granted, name one in the URL: ${EXAMPLE}`,
  );
}

export function getDenied(bucket: string, key: string, e: unknown): S3SourceError {
  const kms = /kms|key/i.test(messageOf(e));
  return new S3SourceError(
    `access denied reading s3://${bucket}/${key} (GetObject: ${codeOf(e) || "403"}: ${messageOf(e)}). ` +
      `Replay needs s3:GetObject on arn:aws:s3:::${bucket}/${key.slice(0, key.indexOf("AWSLogs/") + "AWSLogs/".length) || ""}*` +
      `${kms ? "; this message names KMS: the trail's log files use SSE-KMS, so the caller also needs kms:Decrypt on the trail's KMS key (key policy and IAM policy)" : ", and kms:Decrypt on the trail's KMS key when its log files use SSE-KMS"}`,
  );
}

/** `fn` over `items` with at most `limit` calls running or finished-but-not-taken, results in the order of `items`. */
export async function* orderedMap<T, R>(items: Iterable<T> | AsyncIterable<T>, limit: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const window: Promise<{ ok: true; value: R } | { ok: false; error: unknown }>[] = [];
  const iterator = (Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]()) as AsyncIterator<T> | Iterator<T>;
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && window.length < limit) {
        const n = await iterator.next();
        if (n.done) exhausted = true;
        else
          window.push(
            fn(n.value).then(
              (value) => ({ ok: true as const, value }),
              (error) => ({ ok: false as const, error }),
            ),
          );
      }
      const head = window.shift();
      if (!head) return;
      const r = await head;
      if (!r.ok) throw r.error;
      yield r.value;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}

/** At most `limit` calls of run() at a time. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface S3Object {
  bucket: string;
  key: string;
  size: number;
}

export interface S3ListStats {
  listRequests: number;
  getRequests: number;
}

/** Lists a trail's log files in a time range and reads them: one per URL (or per run: the client is shared). */
export class TrailReader {
  readonly stats: S3ListStats = { listRequests: 0, getRequests: 0 };
  /** All ListObjectsV2 requests (folders and days, however many stages list at once) share this bound. */
  private readonly listLimit: Semaphore;

  constructor(
    private readonly client: S3Client,
    private readonly concurrency: number,
  ) {
    this.listLimit = new Semaphore(concurrency);
  }

  private async listPage(bucket: string, input: { Prefix: string; Delimiter?: string; StartAfter?: string; ContinuationToken?: string }): Promise<ListObjectsV2CommandOutput> {
    this.stats.listRequests++;
    try {
      return await this.listLimit.run(() => this.client.send(new (sdk().ListObjectsV2Command)({ Bucket: bucket, ...input })));
    } catch (e) {
      if (isAccessDenied(e)) throw listDenied(bucket, input.Prefix, e);
      if (codeOf(e) === "NoSuchBucket") throw new S3SourceError(`s3://${bucket}: no such bucket (ListObjectsV2: ${messageOf(e)})`);
      throw new S3SourceError(`listing s3://${bucket}/${input.Prefix} failed: ${codeOf(e)}: ${messageOf(e)}`);
    }
  }

  /** The folders right under `prefix` (CommonPrefixes with Delimiter "/"), every page, in key order. */
  async folders(bucket: string, prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage(bucket, { Prefix: prefix, Delimiter: "/", ContinuationToken: token });
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix.slice(prefix.length, -1));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** `<...>/<account>/CloudTrail/` folders the scope covers, in key order. */
  async accountRoots(scope: TrailScope): Promise<string[]> {
    const { bucket, logsPrefix } = scope;
    if (scope.account) return [`${logsPrefix}${scope.org ? `${scope.org}/` : ""}${scope.account}/CloudTrail/`];
    const accountsUnder = async (prefix: string) => (await this.folders(bucket, prefix)).filter((a) => ACCOUNT.test(a)).map((a) => `${prefix}${a}/CloudTrail/`);
    if (scope.org) return accountsUnder(`${logsPrefix}${scope.org}/`);
    // Under AWSLogs/: organization folders (an organization trail) and account folders (trails of one account).
    const roots: string[] = [];
    for (const name of await this.folders(bucket, logsPrefix)) {
      if (ORG_ID.test(name)) roots.push(...(await accountsUnder(`${logsPrefix}${name}/`)));
      else if (ACCOUNT.test(name)) roots.push(`${logsPrefix}${name}/CloudTrail/`);
    }
    return roots.sort();
  }

  /** The log files of one account, region and day delivered in the range, every page, in key order. */
  async listDay(bucket: string, prefix: string, account: string, region: string, day: string, range: TimeRange): Promise<S3Object[]> {
    const dayPrefix = `${prefix}${day}/`;
    const namePrefix = `${dayPrefix}${account}_CloudTrail_${region}_`;
    const start = floorMinute(range.since);
    // On the range's first day, start after the names delivered before `since` (they sort before it).
    const startAfter = stamp(start).slice(0, 8) === day.replace(/\//g, "") ? `${namePrefix}${stamp(start)}` : undefined;
    const out: S3Object[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage(bucket, { Prefix: dayPrefix, StartAfter: token ? undefined : startAfter, ContinuationToken: token });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        const t = deliveryTime(o.Key);
        if (t && inRange(t, range)) out.push({ bucket, key: o.Key, size: o.Size ?? 0 });
        // Names sort by delivery time: from the first one at or after `until`, none is in range.
        else if (t && o.Key.startsWith(namePrefix) && t.getTime() >= range.until.getTime()) token = undefined;
      }
    } while (token);
    return out;
  }

  /** Every log file the scope holds delivered in the range, in key order; listing at most `concurrency` requests ahead. */
  async *list(scope: TrailScope, range: TimeRange): AsyncGenerator<S3Object> {
    const { bucket } = scope;
    const self = this;
    const roots = await this.accountRoots(scope);
    const regionsOf = async (root: string) => (scope.region ? [scope.region] : (await this.folders(bucket, root)).filter((r) => REGION.test(r))).map((region) => ({ root, region }));
    async function* dayPrefixes() {
      for await (const regions of orderedMap(roots, self.concurrency, regionsOf))
        for (const { root, region } of regions) for (const day of daysOf(range)) yield { prefix: `${root}${region}/`, account: root.split("/").slice(-3)[0], region, day };
    }
    for await (const objects of orderedMap(dayPrefixes(), this.concurrency, (d) => this.listDay(bucket, d.prefix, d.account, d.region, d.day, range))) yield* objects;
  }

  /** An object's bytes as stored (gzip: replay's reader inflates them), or why they could not be read. */
  async fetch(o: S3Object): Promise<{ data: Uint8Array } | { problem: string }> {
    this.stats.getRequests++;
    try {
      const r = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: o.bucket, Key: o.key }));
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of r.Body as Readable) {
        chunks.push(chunk as Buffer);
        length += (chunk as Buffer).length;
      }
      if (r.ContentLength !== undefined && length !== r.ContentLength) return { problem: `read ${length} of ${r.ContentLength} bytes (connection cut): not read` };
      return { data: Buffer.concat(chunks, length) };
    } catch (e) {
      if (isAccessDenied(e)) throw getDenied(o.bucket, o.key, e);
      // Gone since the listing (lifecycle, deleted), or failing after the SDK's retries: reported, the others read.
      return { problem: `GetObject failed: ${codeOf(e)}: ${messageOf(e)}` };
    }
  }
}

export interface S3Source {
  /** Tasks in order (index 0, 1, ...), each an object's bytes (or its problem), named s3://bucket/key. */
  tasks: AsyncGenerator<FileTask & { size: number }>;
  reader: TrailReader;
}

/**
 * The log files of all `scopes` in the range, fetched `concurrency` at a time (ahead of replay by at most that many),
 * with `listed(size)` called as each is listed and `listingDone()` when the listing ended.
 */
export function openS3Source(scopes: TrailScope[], range: TimeRange, opts: { client: S3Client; concurrency: number; listed?: (size: number) => void; listingDone?: () => void }): S3Source {
  const reader = new TrailReader(opts.client, opts.concurrency);
  async function* listed(): AsyncGenerator<S3Object> {
    for (const scope of scopes)
      for await (const o of reader.list(scope, range)) {
        opts.listed?.(o.size);
        yield o;
      }
    opts.listingDone?.();
  }
  async function* tasks() {
    let index = 0;
    for await (const r of orderedMap(listed(), opts.concurrency, async (o) => ({ o, got: await reader.fetch(o) })))
      yield { index: index++, file: `s3://${r.o.bucket}/${r.o.key}`, size: r.o.size, ...r.got };
  }
  return { tasks: tasks(), reader };
}

/** The S3 client replay uses: region and endpoint from the SDK's own settings (AWS_REGION, AWS_ENDPOINT_URL_S3). */
export function s3Client(): S3Client {
  return new (sdk().S3Client)({
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1",
    // The trail's bucket may be in another region than the caller's default: follow S3's redirect to it.
    followRegionRedirects: true,
  });
}
