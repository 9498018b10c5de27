/**
 * Reads CloudTrail logs in every shape teams keep them: S3 log files as CloudTrail delivers them
 * (`{"Records":[...]}`, `.json` or `.json.gz`), JSON arrays, JSON lines, and EventBridge envelopes (`detail` holds
 * the record); files or folders (recursively, sorted). One file at a time: memory stays bounded by the largest
 * file, JSON lines stream. Bad input never stops the run: it is yielded as a problem with file and line.
 * CloudTrail log file format: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
 */
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import * as zlib from "zlib";
import { checkRecord, type CloudTrailRecord, type FieldProblem } from "../functions/cloudtrail";

export interface RecordItem {
  kind: "record";
  record: CloudTrailRecord;
  file: string;
  /** 1-based line where the record starts (JSON lines), or null when the file is one document. */
  line: number | null;
  /** 0-based index within the file's records. */
  index: number;
  /** Fields of the wrong type the boundary treated as absent (checkRecord): bad input, reported, the record still read. */
  ignored: FieldProblem[];
}

export interface ProblemItem {
  kind: "problem";
  file: string;
  line: number | null;
  message: string;
}

/**
 * A CloudTrail digest file (log file integrity validation: hashes of the hour's log files, no events), delivered
 * beside the logs under `AWSLogs/<account>/CloudTrail-Digest/`. Counted, not read as records and not bad input.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html
 */
export interface DigestItem {
  kind: "digest";
  file: string;
  line: null;
}

export type LogItem = RecordItem | ProblemItem | DigestItem;

/** A digest file's document: an object with the digest's own fields and no Records. */
export function isDigestDocument(doc: unknown): boolean {
  if (!doc || typeof doc !== "object" || Array.isArray(doc) || "Records" in doc) return false;
  const d = doc as Record<string, unknown>;
  return typeof d.digestStartTime === "string" && typeof d.digestEndTime === "string" && (Array.isArray(d.logFiles) || "digestPublicKeyFingerprint" in d);
}

const LOG_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/i;

/** Expand files and folders into the log files under them, sorted, so runs are repeatable. */
export function listLogFiles(paths: string[]): { files: string[]; problems: ProblemItem[] } {
  const files: string[] = [];
  const problems: ProblemItem[] = [];
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      problems.push({ kind: "problem", file: p, line: null, message: "no such file or folder" });
      return;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = fs.readdirSync(p).sort();
      } catch (err) {
        problems.push({ kind: "problem", file: p, line: null, message: `folder not readable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        return;
      }
      for (const name of names) {
        const child = path.join(p, name);
        let isDir = false;
        try {
          isDir = fs.statSync(child).isDirectory();
        } catch {
          // A dangling link or a file gone since the listing: reported by walk when it is a log file.
        }
        if (isDir || LOG_FILE.test(name)) walk(child);
      }
    } else files.push(p);
  };
  paths.forEach(walk);
  return { files, problems };
}

/** The CloudTrail record inside whatever one JSON value is (through the boundary, checkRecord), or a reason it is not one. */
export function recordOf(value: unknown): CloudTrailRecord | string {
  const check = checkRecord(value);
  return check.ok ? check.record : check.problem;
}

/** The 1-based line of a character offset, for JSON.parse errors that name a position. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function parseError(text: string, err: Error): { line: number | null; message: string } {
  const m = /position (\d+)/.exec(err.message);
  return { line: m ? lineAt(text, Number(m[1])) : null, message: `not valid JSON: ${err.message}` };
}

/**
 * How many JSON-lines items go in one batch: large enough that the per-batch async step costs nothing per record,
 * small enough that a huge JSON-lines file still streams.
 */
const JSON_LINES_BATCH = 1000;

/** Read one file; yields records and problems. */
export async function* readLogFile(file: string): AsyncGenerator<LogItem> {
  for await (const batch of readLogFileBatches(file)) yield* batch;
}

/**
 * Read one file, its records and problems in batches, in order: all of a one-document file at once (it is parsed
 * whole anyway), JSON lines in runs of up to JSON_LINES_BATCH. Handing out records one await at a time costs more
 * than the little most records need (replay finds nothing in ~98% of them).
 */
export async function* readLogFileBatches(file: string): AsyncGenerator<LogItem[]> {
  const gz = file.toLowerCase().endsWith(".gz");
  if (/\.(jsonl|ndjson)(\.gz)?$/i.test(file)) {
    // JSON lines stream from disk: memory stays flat however large the file.
    const stream = fs.createReadStream(file);
    let batch: LogItem[] = [];
    try {
      for await (const item of readJsonLines(file, gz ? stream.pipe(zlib.createGunzip()) : stream)) {
        batch.push(item);
        if (batch.length >= JSON_LINES_BATCH) {
          yield batch;
          batch = [];
        }
      }
    } catch (err) {
      batch.push({ kind: "problem", file, line: null, message: `read failed: ${(err as Error).message}` });
    }
    if (batch.length > 0) yield batch;
    return;
  }
  // S3 log files and arrays are one JSON document each (CloudTrail files are bounded in size).
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    yield [{ kind: "problem", file, line: null, message: (err as Error).message }];
    return;
  }
  yield* readLogBytesBatches(file, raw);
}

/**
 * One input to read: a local file, or an object already fetched (an S3 object: its bytes, or why they could not be
 * had). `file` names it in messages and decides the format as a file name does (`.json.gz`, `.jsonl`, ...).
 */
export interface LogInput {
  file: string;
  data?: Uint8Array;
  problem?: string;
}

/** readLogFileBatches for any LogInput: a file from disk, fetched bytes, or the problem that stood for them. */
export async function* readInputBatches(input: LogInput): AsyncGenerator<LogItem[]> {
  if (input.problem !== undefined) yield [{ kind: "problem", file: input.file, line: null, message: input.problem }];
  else if (input.data) yield* readLogBytesBatches(input.file, Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength));
  else yield* readLogFileBatches(input.file);
}

/** The records and problems in one file's bytes (named `file`), in batches: what readLogFileBatches yields for it. */
export async function* readLogBytesBatches(file: string, raw: Buffer): AsyncGenerator<LogItem[]> {
  const gz = file.toLowerCase().endsWith(".gz");
  let text: string;
  try {
    text = (gz ? gunzip(raw) : raw).toString("utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "Z_BUF_ERROR" || e.code === "Z_DATA_ERROR" ? `truncated or corrupt gzip (${e.message})` : e.message;
    yield [{ kind: "problem", file, line: null, message: why }];
    return;
  }
  if (text.trimStart().startsWith("{") && looksLikeJsonLines(text)) {
    let batch: LogItem[] = [];
    for await (const item of readJsonLines(file, require("stream").Readable.from([text]))) {
      batch.push(item);
      if (batch.length >= JSON_LINES_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    return;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    yield [{ kind: "problem", file, ...parseError(text, err as Error) }];
    return;
  }
  if (isDigestDocument(doc)) {
    yield [{ kind: "digest", file, line: null }];
    return;
  }
  const values: unknown[] = Array.isArray(doc)
    ? doc
    : doc && typeof doc === "object" && Array.isArray((doc as { Records?: unknown }).Records)
      ? (doc as { Records: unknown[] }).Records
      : [doc];
  const items: LogItem[] = [];
  for (let index = 0; index < values.length; index++) {
    const r = checkRecord(values[index]);
    if (!r.ok) items.push({ kind: "problem", file, line: null, message: `record ${index}: ${r.problem}` });
    else items.push({ kind: "record", record: r.record, file, line: null, index, ignored: r.ignored });
  }
  if (items.length > 0) yield items;
}

/** Output buffers beyond this are not sized from a file's own say-so (a corrupt trailer may claim up to 4 GiB). */
const MAX_PRESIZED_OUTPUT = 256 * 1024 * 1024;

/**
 * gunzipSync with its output buffer sized from the gzip trailer (ISIZE, the uncompressed length mod 2^32: RFC 1952,
 * section 2.3.1): one buffer, where zlib's default 16 KiB chunks have to be joined at the end, which is about a
 * fifth of the time a 1 MB CloudTrail file takes to inflate. The size is only a hint (a multi-member or corrupt file
 * may state another): zlib still adds chunks as needed and checks the length itself, so output and errors are those
 * of a plain gunzipSync.
 */
export function gunzip(raw: Buffer): Buffer {
  const stated = raw.length >= 18 ? raw.readUInt32LE(raw.length - 4) : 0;
  // One byte more than the output: a full buffer makes zlib go round once more for the end of the stream.
  const chunkSize = Math.min(Math.max(stated + 1, zlib.constants.Z_DEFAULT_CHUNK), MAX_PRESIZED_OUTPUT);
  return zlib.gunzipSync(raw, { chunkSize });
}

/** Several top-level objects, one per line: the second non-empty line starts with "{". */
function looksLikeJsonLines(text: string): boolean {
  const nl = text.indexOf("\n", text.indexOf("{"));
  if (nl < 0) return false;
  const rest = text.slice(nl + 1).trimStart();
  if (!rest.startsWith("{")) return false;
  try {
    JSON.parse(text.slice(0, nl));
    return true;
  } catch {
    return false;
  }
}

async function* readJsonLines(file: string, input: NodeJS.ReadableStream): AsyncGenerator<LogItem> {
  let lineNo = 0;
  let index = 0;
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    lineNo++;
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      yield { kind: "problem", file, line: lineNo, message: `not valid JSON: ${(err as Error).message}` };
      continue;
    }
    // Panther-style test rows and similar wrappers keep the record under "event".
    if (value && typeof value === "object" && !Array.isArray(value) && !Object.prototype.hasOwnProperty.call(value, "eventName") && Object.prototype.hasOwnProperty.call(value, "event"))
      value = (value as { event: unknown }).event;
    const r = checkRecord(value);
    if (!r.ok) yield { kind: "problem", file, line: lineNo, message: r.problem };
    else yield { kind: "record", record: r.record, file, line: lineNo, index: index++, ignored: r.ignored };
  }
}

/** Every record and problem under `paths`, file by file. */
export async function* readLogs(paths: string[]): AsyncGenerator<LogItem> {
  for await (const batch of readLogBatches(paths)) yield* batch;
}

/** The same items as readLogs, in the same order, in batches (see readLogFileBatches): for callers that go fast. */
export async function* readLogBatches(paths: string[]): AsyncGenerator<LogItem[]> {
  const { files, problems } = listLogFiles(paths);
  if (problems.length > 0) yield problems;
  for (const f of files) yield* readLogFileBatches(f);
}
