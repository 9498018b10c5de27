/**
 * Running one Athena query: StartQueryExecution, GetQueryExecution polled with backoff until a final state, then
 * GetQueryResults page by page. Errors say what failed and what to check.
 * API: https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html,
 * https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryExecution.html (states QUEUED, RUNNING,
 * SUCCEEDED, FAILED, CANCELLED; StateChangeReason and AthenaError say why),
 * https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html (MaxResults at most 1000; a SELECT's
 * first row of the first page holds the column labels; a NULL is a Datum without VarCharValue).
 */
import { randomUUID } from "crypto";
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
} from "@aws-sdk/client-athena";

export interface QueryOptions {
  /** Athena workgroup; its settings may enforce an output location and a per-query scan limit. Default "primary". */
  workGroup?: string;
  /** s3://bucket/prefix/ for the result files; needed unless the workgroup sets one. */
  outputLocation?: string;
  database?: string;
  /** Data catalog; default AwsDataCatalog (Glue). */
  catalog?: string;
  /** First poll delay and the cap of its doubling, in ms. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** Give up (and stop the query) after this long; default 30 minutes. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told each poll's state (for progress on stderr). */
  onState?: (state: string) => void;
}

export class AthenaQueryError extends Error {
  constructor(
    message: string,
    readonly queryExecutionId?: string,
    readonly state?: string,
  ) {
    super(message);
  }
}

/** What the Athena API reference allows, checked before calling: a bad value is our bad argument, said as such. */
export function requestProblems(sql: string, o: QueryOptions): string[] {
  const p: string[] = [];
  if (sql.length < 1 || Buffer.byteLength(sql) > 262144) p.push(`query: 1 to 262,144 bytes, found ${Buffer.byteLength(sql)}`);
  if (o.workGroup !== undefined && !/^[a-zA-Z0-9._-]{1,128}$/.test(o.workGroup)) p.push(`workgroup: letters, digits, . _ - (1 to 128), found ${JSON.stringify(o.workGroup)}`);
  if (o.outputLocation !== undefined && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(o.outputLocation)) p.push(`output location: expected s3://bucket/prefix/, found ${JSON.stringify(o.outputLocation)}`);
  if (o.database !== undefined && (o.database.length < 1 || o.database.length > 255)) p.push(`database: 1 to 255 characters, found ${JSON.stringify(o.database)}`);
  if (o.catalog !== undefined && (o.catalog.length < 1 || o.catalog.length > 256 || /[\u0000-\u0008\u000A-\u001F]/.test(o.catalog))) p.push(`catalog: 1 to 256 characters, found ${JSON.stringify(o.catalog)}`);
  return p;
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An SDK error (permissions, throttling, a bad request) as one line with a hint. */
function describeSdkError(call: string, e: unknown): string {
  const err = e as { name?: string; message?: string; AthenaErrorCode?: string };
  const name = err.name ?? "Error";
  const hint =
    name === "AccessDeniedException" || /not authorized|AccessDenied/i.test(err.message ?? "")
      ? `: the caller needs athena:${call} on the workgroup (and Glue read on the database and table, S3 read on the trail bucket, S3 write on the output location, kms:Decrypt where those are encrypted; see docs/athena.md)`
      : name === "InvalidRequestException"
        ? `${err.AthenaErrorCode ? ` (${err.AthenaErrorCode})` : ""}: Athena refused the request`
        : name === "TooManyRequestsException"
          ? ": Athena is throttling; try again later"
          : "";
  return `Athena ${call}: ${name}: ${err.message ?? String(e)}${hint}`;
}

/** Start `sql` and wait for it to finish. Returns the finished execution; throws AthenaQueryError on FAILED or CANCELLED. */
export async function runQuery(client: AthenaClient, sql: string, o: QueryOptions = {}): Promise<QueryExecution & { QueryExecutionId: string }> {
  const problems = requestProblems(sql, o);
  if (problems.length > 0) throw new AthenaQueryError(`Athena: ${problems.join("; ")}`);
  let id: string | undefined;
  try {
    const started = await client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        // Idempotency: a retried StartQueryExecution with the same token does not start a second query (32-128 chars).
        ClientRequestToken: `trailwatch-replay-${randomUUID()}`,
        WorkGroup: o.workGroup ?? "primary",
        ...(o.database || o.catalog ? { QueryExecutionContext: { ...(o.database ? { Database: o.database } : {}), ...(o.catalog ? { Catalog: o.catalog } : {}) } } : {}),
        ...(o.outputLocation ? { ResultConfiguration: { OutputLocation: o.outputLocation } } : {}),
      }),
    );
    id = started.QueryExecutionId;
  } catch (e) {
    throw new AthenaQueryError(describeSdkError("StartQueryExecution", e));
  }
  if (!id) throw new AthenaQueryError("Athena StartQueryExecution: no QueryExecutionId in the response");
  const sleep = o.sleep ?? sleepMs;
  const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
  let delay = o.pollInitialMs ?? 500;
  for (;;) {
    let exec: QueryExecution | undefined;
    try {
      exec = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
    } catch (e) {
      throw new AthenaQueryError(describeSdkError("GetQueryExecution", e), id);
    }
    const state = exec?.Status?.State;
    o.onState?.(state ?? "UNKNOWN");
    if (state === "SUCCEEDED") return { ...exec, QueryExecutionId: id };
    if (state === "FAILED" || state === "CANCELLED") {
      const reason = exec?.Status?.StateChangeReason ?? exec?.Status?.AthenaError?.ErrorMessage ?? "no reason given";
      const athenaError = exec?.Status?.AthenaError;
      const kind = athenaError?.ErrorCategory === 2 ? " (a user error: the query, the table or permissions)" : athenaError?.ErrorCategory === 1 ? " (an Athena system error: retry)" : "";
      const hint = /access denied|not authorized|permission|AccessDenied/i.test(reason)
        ? ": check S3 read on the trail bucket, S3 write on the output location, Glue read on the table, and kms:Decrypt on the trail's key (docs/athena.md)"
        : state === "CANCELLED"
          ? ": cancelled by someone, or by the workgroup's per-query data usage limit"
          : "";
      throw new AthenaQueryError(`Athena query ${id} ${state}${kind}: ${reason}${hint}`, id, state);
    }
    if (Date.now() + delay > deadline) {
      try {
        await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      } catch {
        // Stopping is a courtesy (the query would run on and be billed); the timeout is the error to report.
      }
      throw new AthenaQueryError(`Athena query ${id} still ${state ?? "unknown"} after ${Math.round((o.timeoutMs ?? 1_800_000) / 1000)} s: stopped`, id, state);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, o.pollMaxMs ?? 5000);
  }
}

/**
 * The result rows, a page (up to 1,000 rows) at a time, each row a list of values (null for SQL NULL). The header row
 * of a SELECT (the first row of the first page) is dropped when it equals `header`.
 */
export async function* queryRows(client: AthenaClient, queryExecutionId: string, header?: readonly string[]): AsyncGenerator<(string | null)[][]> {
  let token: string | undefined;
  let first = true;
  do {
    let page;
    try {
      page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: queryExecutionId, MaxResults: 1000, ...(token ? { NextToken: token } : {}) }));
    } catch (e) {
      throw new AthenaQueryError(describeSdkError("GetQueryResults", e), queryExecutionId);
    }
    let rows = (page.ResultSet?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => (d.VarCharValue === undefined ? null : d.VarCharValue)));
    if (first && header && rows.length > 0 && rows[0].length === header.length && rows[0].every((v, i) => v === header[i])) rows = rows.slice(1);
    first = false;
    if (rows.length > 0) yield rows;
    token = page.NextToken;
  } while (token);
}
