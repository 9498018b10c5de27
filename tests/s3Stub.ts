/**
 * A local S3 for the replay tests: one bucket over HTTP (path-style requests, as the SDK sends them to an IP
 * endpoint set with AWS_ENDPOINT_URL_S3), ListObjectsV2 and GetObject with the rules the S3 source relies on, so a
 * client that breaks them fails here as it would against S3:
 * - ListObjectsV2 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html): keys in UTF-8 binary
 *   order; at most max-keys (default and cap 1,000) entries a page, and possibly fewer (`pageSize`: S3 "might
 *   contain fewer keys but will never contain more"); a CommonPrefix (with a delimiter) counts as one entry and its
 *   keys are not returned; IsTruncated with an opaque NextContinuationToken, a token the stub did not issue refused;
 *   StartAfter ignored once a ContinuationToken is sent; list-type=2 required (ListObjects v1 refused).
 * - Access: a request must be SigV4-signed for service s3; ListObjectsV2 is allowed only for a prefix under one of
 *   `listGranted` (a policy's s3:ListBucket with an s3:prefix condition), GetObject only for keys under one of
 *   `getGranted` (s3:GetObject on bucket/prefix*); otherwise 403 AccessDenied as S3 answers. Keys in `kmsDenied`
 *   answer GetObject with the 403 AccessDenied S3 returns when the caller may not use the object's KMS key.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface S3Request {
  op: "ListObjectsV2" | "GetObject";
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  continuationToken?: string;
  key?: string;
  status: number;
  /** Entries (keys and common prefixes) returned. */
  entries?: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

export class S3Stub {
  readonly objects = new Map<string, Buffer>();
  listGranted: string[] = [""];
  getGranted: string[] = [""];
  kmsDenied = new Set<string>();
  /** Keys listed but gone by the time they are read (deleted, expired by a lifecycle rule). */
  vanished = new Set<string>();
  /** Entries per page at most (S3 may return fewer than max-keys). */
  pageSize = 1000;
  /** Delay before each answer, so concurrency shows. */
  delayMs = 0;
  readonly requests: S3Request[] = [];
  inFlight = { ListObjectsV2: 0, GetObject: 0 };
  maxInFlight = { ListObjectsV2: 0, GetObject: 0 };
  private readonly tokens = new Map<string, { after: string; skip?: string }>();
  private server?: http.Server;

  constructor(readonly bucket: string) {}

  put(key: string, body: Buffer): void {
    this.objects.set(key, body);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string, resource: string): void {
    res.statusCode = status;
    res.setHeader("content-type", "application/xml");
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message><Resource>${esc(resource)}</Resource><RequestId>STUB</RequestId></Error>`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    for await (const _ of req) void _;
    const url = new URL(req.url ?? "/", "http://stub");
    const [, bucket, ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const op = key === "" ? "ListObjectsV2" : "GetObject";
    this.inFlight[op]++;
    this.maxInFlight[op] = Math.max(this.maxInFlight[op], this.inFlight[op]);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const auth = String(req.headers.authorization ?? "");
      if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request/.test(auth)) return this.error(res, 403, "AccessDenied", "request not signed with SigV4 for s3", url.pathname);
      if (req.method !== "GET") return this.error(res, 405, "MethodNotAllowed", `the stub serves GET only, not ${req.method}`, url.pathname);
      if (decodeURIComponent(bucket) !== this.bucket) return this.error(res, 404, "NoSuchBucket", "The specified bucket does not exist", `/${bucket}`);
      if (op === "ListObjectsV2") this.list(url, res);
      else this.get(key, res);
    } finally {
      this.inFlight[op]--;
    }
  }

  private list(url: URL, res: http.ServerResponse): void {
    const q = url.searchParams;
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const token = q.get("continuation-token") ?? undefined;
    const startAfter = q.get("start-after") ?? undefined;
    const request: S3Request = { op: "ListObjectsV2", prefix, delimiter, startAfter, continuationToken: token, status: 200 };
    this.requests.push(request);
    const fail = (status: number, code: string, message: string) => {
      request.status = status;
      this.error(res, status, code, message, `/${this.bucket}`);
    };
    if (q.get("list-type") !== "2") return fail(400, "InvalidRequest", "the stub speaks ListObjectsV2 (list-type=2) only");
    if (!this.listGranted.some((g) => prefix.startsWith(g))) return fail(403, "AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/replay/test is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:::" + this.bucket + "\" because no identity-based policy allows the s3:ListBucket action");
    const maxKeysParam = q.get("max-keys");
    const maxKeys = Math.min(1000, this.pageSize, maxKeysParam === null ? 1000 : Number(maxKeysParam));
    let after = startAfter ?? "";
    let skip: string | undefined;
    if (token !== undefined) {
      const t = this.tokens.get(token);
      if (!t) return fail(400, "InvalidArgument", "The continuation token provided is incorrect");
      ({ after, skip } = t);
    }
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && cmp(k, after) > 0 && !(skip && k.startsWith(skip))).sort(cmp);
    const contents: string[] = [];
    const prefixes: string[] = [];
    let last = "";
    let lastPrefix: string | undefined;
    let i = 0;
    for (; i < keys.length; i++) {
      const k = keys[i];
      const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = k.slice(0, at + delimiter.length);
        if (cp === lastPrefix) continue;
        if (contents.length + prefixes.length >= maxKeys) break;
        prefixes.push(cp);
        lastPrefix = cp;
        last = cp;
      } else {
        if (contents.length + prefixes.length >= maxKeys) break;
        contents.push(k);
        last = k;
      }
    }
    const truncated = i < keys.length;
    let next: string | undefined;
    if (truncated) {
      next = Buffer.from(`stub-token-${this.tokens.size}`).toString("base64");
      // After a common prefix, resume past every key it rolled up.
      this.tokens.set(next, { after: last, skip: last === lastPrefix ? lastPrefix : undefined });
    }
    request.entries = contents.length + prefixes.length;
    if (request.entries > 1000) throw new Error("stub bug: more than 1,000 entries in a page");
    const xml = [
      `<?xml version="1.0" encoding="UTF-8"?>`,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
      `<Name>${esc(this.bucket)}</Name><Prefix>${esc(prefix)}</Prefix>`,
      delimiter ? `<Delimiter>${esc(delimiter)}</Delimiter>` : "",
      `<MaxKeys>${maxKeysParam ?? 1000}</MaxKeys><KeyCount>${request.entries}</KeyCount><IsTruncated>${truncated}</IsTruncated>`,
      token !== undefined ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : "",
      next ? `<NextContinuationToken>${esc(next)}</NextContinuationToken>` : "",
      startAfter !== undefined ? `<StartAfter>${esc(startAfter)}</StartAfter>` : "",
      ...contents.map((k) => `<Contents><Key>${esc(k)}</Key><LastModified>2026-11-04T00:00:00.000Z</LastModified><ETag>&quot;stub&quot;</ETag><Size>${this.objects.get(k)!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`),
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${esc(p)}</Prefix></CommonPrefixes>`),
      `</ListBucketResult>`,
    ].join("");
    res.setHeader("content-type", "application/xml");
    res.end(xml);
  }

  private get(key: string, res: http.ServerResponse): void {
    const request: S3Request = { op: "GetObject", key, status: 200 };
    this.requests.push(request);
    const fail = (status: number, code: string, message: string) => {
      request.status = status;
      this.error(res, status, code, message, `/${this.bucket}/${key}`);
    };
    if (!this.getGranted.some((g) => key.startsWith(g))) return fail(403, "AccessDenied", "Access Denied");
    if (this.kmsDenied.has(key))
      return fail(403, "AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/replay/test is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action");
    const body = this.vanished.has(key) ? undefined : this.objects.get(key);
    // Without s3:ListBucket S3 answers a missing key with 403; the stub grants listing, so 404 NoSuchKey.
    if (!body) return fail(404, "NoSuchKey", "The specified key does not exist.");
    res.setHeader("content-type", "application/x-gzip");
    res.setHeader("content-length", String(body.length));
    res.end(body);
  }
}
