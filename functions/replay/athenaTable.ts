/**
 * The organization trail's Athena table, as data: which CloudTrail record fields it has, under which column, with which
 * type. One model renders the table DDL (Athena), the same columns for DuckDB's JSON reader (the offline test), the
 * SELECT list of a replay query, and the way back from a result row to a CloudTrail record.
 *
 * Columns follow AWS's documented table, "Create the table for CloudTrail logs in Athena using partition projection"
 * (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html), with the
 * organization trail's layout (`AWSLogs/<org id>/<account>/CloudTrail/<region>/<yyyy/MM/dd>/`, partitions `account`,
 * `region` as in "Create a table for an organization wide trail using manual partitioning",
 * https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-org-wide-trail.html), plus three fields the
 * documented table lacks and trailwatch reads: `managementEvent` (the change stream, data-event marking),
 * `userIdentity.sessionContext.sourceIdentity` (a deny's session name) and `userIdentity.credentialId`. The JSON SerDe
 * maps keys to columns without regard to case, so `eventName` lands in `eventname`. Nested JSON in a STRING column
 * (`requestParameters`, ...) comes back as its JSON text; booleans in a STRING column as `true`/`false`.
 * No @pulumi imports: the CLI and tests load this file.
 */

/** string: a JSON string; boolean: a JSON boolean kept in a STRING column; json: any JSON kept as its text. */
export type LeafKind = "string" | "boolean" | "json";
export type Field =
  | { kind: LeafKind; name: string }
  | { kind: "struct"; name: string; fields: readonly Field[] }
  | { kind: "array"; name: string; element: readonly Field[] };

const s = (name: string): Field => ({ kind: "string", name });
const b = (name: string): Field => ({ kind: "boolean", name });
const j = (name: string): Field => ({ kind: "json", name });
const struct = (name: string, fields: Field[]): Field => ({ kind: "struct", name, fields });

/**
 * The record fields, in the documented table's order (CloudTrail's names; the column is the lower-cased name).
 * Record contents: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */
export const CLOUDTRAIL_FIELDS: readonly Field[] = [
  s("eventVersion"),
  struct("userIdentity", [
    s("type"), s("principalId"), s("arn"), s("accountId"), s("invokedBy"), s("accessKeyId"), s("userName"),
    struct("onBehalfOf", [s("userId"), s("identityStoreArn")]),
    struct("sessionContext", [
      struct("attributes", [s("mfaAuthenticated"), s("creationDate")]),
      struct("sessionIssuer", [s("type"), s("principalId"), s("arn"), s("accountId"), s("userName")]),
      s("ec2RoleDelivery"),
      // The documented table also has webIdFederationData (federatedProvider, attributes map): not kept here.
      s("sourceIdentity"),
    ]),
    s("credentialId"),
  ]),
  s("eventTime"), s("eventSource"), s("eventName"), s("awsRegion"), s("sourceIPAddress"), s("userAgent"),
  s("errorCode"), s("errorMessage"),
  j("requestParameters"), j("responseElements"), j("additionalEventData"),
  s("requestID"), s("eventID"),
  b("readOnly"),
  { kind: "array", name: "resources", element: [s("ARN"), s("accountId"), s("type")] },
  s("eventType"), s("apiVersion"),
  b("managementEvent"),
  s("recipientAccountId"),
  j("serviceEventDetails"),
  s("sharedEventID"), s("vpcEndpointId"), s("vpcEndpointAccountId"), s("eventCategory"),
  b("sessionCredentialFromConsole"),
  j("edgeDeviceDetails"),
  struct("tlsDetails", [s("tlsVersion"), s("cipherSuite"), s("clientProvidedHostHeader")]),
];

/** The partition columns of the organization trail table (projected: no partitions to add). */
export const PARTITIONS = { account: "account", region: "region", day: "timestamp" } as const;

export const columnOf = (f: { name: string }) => f.name.toLowerCase();
/** A SQL identifier, quoted (both Trino and DuckDB quote with ", doubled inside). */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** A SQL string literal (both dialects: '' inside, backslashes literal). */
export const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;

function hiveType(f: Field): string {
  switch (f.kind) {
    case "struct":
      return `STRUCT<${f.fields.map((x) => `${columnOf(x)}: ${hiveType(x)}`).join(", ")}>`;
    case "array":
      return `ARRAY<STRUCT<${f.element.map((x) => `${columnOf(x)}: ${hiveType(x)}`).join(", ")}>>`;
    default:
      return "STRING";
  }
}

/** DuckDB types with CloudTrail's own key names: read_json matches keys by exact name (SQL then ignores case). */
function duckType(f: Field): string {
  switch (f.kind) {
    case "struct":
      return `STRUCT(${f.fields.map((x) => `${ident(x.name)} ${duckType(x)}`).join(", ")})`;
    case "array":
      return `STRUCT(${f.element.map((x) => `${ident(x.name)} ${duckType(x)}`).join(", ")})[]`;
    default:
      return "VARCHAR";
  }
}

/** `columns={...}` for DuckDB's read_json: the Athena table's columns and types over CloudTrail JSON. */
export function duckdbColumns(): string {
  return `{${CLOUDTRAIL_FIELDS.map((f) => `${literal(f.name)}: ${literal(duckType(f))}`).join(", ")}}`;
}

export interface TableOptions {
  database: string;
  table: string;
  /** s3://bucket[/prefix] holding `AWSLogs/<org id>/...` */
  bucket: string;
  organizationId: string;
  accounts: readonly string[];
  regions: readonly string[];
  /** First day of logs, yyyy/MM/dd. */
  since: string;
}

/**
 * CREATE EXTERNAL TABLE for the organization trail, partition projection on account (enum), region (enum) and day
 * (date, `yyyy/MM/dd` up to NOW): Athena computes the partitions from the query's WHERE clause and lists only their S3
 * prefixes. Enum projections need every value listed: an account or region missing from the list is never read.
 * https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
 */
export function createTableDdl(o: TableOptions): string {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_]+$/.test(o.database)) problems.push(`database: expected letters, digits or _, found ${JSON.stringify(o.database)}`);
  if (!/^[A-Za-z0-9_]+$/.test(o.table)) problems.push(`table: expected letters, digits or _, found ${JSON.stringify(o.table)}`);
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^'\s]*)?$/.test(o.bucket)) problems.push(`bucket: expected s3://bucket[/prefix], found ${JSON.stringify(o.bucket)}`);
  if (!/^o-[a-z0-9]{10,32}$/.test(o.organizationId)) problems.push(`organization id: expected o-xxxxxxxxxx, found ${JSON.stringify(o.organizationId)}`);
  if (o.accounts.length === 0 || o.accounts.some((a) => !/^\d{12}$/.test(a))) problems.push(`accounts: expected 12-digit account ids, found ${JSON.stringify(o.accounts)}`);
  if (o.regions.length === 0 || o.regions.some((r) => !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(r))) problems.push(`regions: expected region names such as us-east-1, found ${JSON.stringify(o.regions)}`);
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(o.since)) problems.push(`since: expected yyyy/MM/dd, found ${JSON.stringify(o.since)}`);
  if (problems.length > 0) throw new Error(`Athena table: ${problems.join("; ")}`);
  const root = `${o.bucket.replace(/\/$/, "")}/AWSLogs/${o.organizationId}`;
  const cols = CLOUDTRAIL_FIELDS.map((f) => `  ${columnOf(f)} ${hiveType(f)}`).join(",\n");
  return `CREATE EXTERNAL TABLE IF NOT EXISTS ${o.database}.${o.table} (
${cols}
)
PARTITIONED BY (${PARTITIONS.account} STRING, ${PARTITIONS.region} STRING, \`${PARTITIONS.day}\` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${root}/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.${PARTITIONS.account}.type'='enum',
  'projection.${PARTITIONS.account}.values'='${o.accounts.join(",")}',
  'projection.${PARTITIONS.region}.type'='enum',
  'projection.${PARTITIONS.region}.values'='${o.regions.join(",")}',
  'projection.${PARTITIONS.day}.type'='date',
  'projection.${PARTITIONS.day}.format'='yyyy/MM/dd',
  'projection.${PARTITIONS.day}.interval'='1',
  'projection.${PARTITIONS.day}.interval.unit'='DAYS',
  'projection.${PARTITIONS.day}.range'='${o.since},NOW',
  'storage.location.template'='${root}/\${${PARTITIONS.account}}/CloudTrail/\${${PARTITIONS.region}}/\${${PARTITIONS.day}}'
)`;
}

// ---- the SELECT list and the way back ----

/** One output column of a replay query: a leaf (scalar) at a record path, or an array of structs as JSON text. */
export interface OutputColumn {
  /** CloudTrail path, e.g. ["userIdentity", "sessionContext", "sessionIssuer", "arn"]. */
  path: string[];
  /** Column path in the table, lower-cased. */
  columns: string[];
  field: Field;
}

/** The alias of output column i: the header row Athena returns first is exactly these names. */
export const outputAlias = (i: number) => `c${i}`;

export function outputColumns(): OutputColumn[] {
  const out: OutputColumn[] = [];
  const walk = (fields: readonly Field[], path: string[], columns: string[]) => {
    for (const f of fields) {
      if (f.kind === "struct") walk(f.fields, [...path, f.name], [...columns, columnOf(f)]);
      else out.push({ path: [...path, f.name], columns: [...columns, columnOf(f)], field: f });
    }
  };
  walk(CLOUDTRAIL_FIELDS, [], []);
  return out;
}

export type Dialect = "trino" | "duckdb";

/** `a.b.c` with each part quoted: a struct field access in both dialects (a NULL struct gives NULL). */
export const columnRef = (columns: string[]) => columns.map(ident).join(".");

/**
 * The SELECT expression of an output column. Leaves are selected as they are (strings). An array of structs becomes
 * JSON text with CloudTrail's key names: in Trino through a MAP per element (a ROW cast to JSON is an array or an
 * object depending on the engine version; a MAP with VARCHAR keys is always an object), in DuckDB with to_json (struct
 * field names as declared, which are CloudTrail's).
 */
export function selectExpression(c: OutputColumn, dialect: Dialect): string {
  const ref = columnRef(c.columns);
  if (c.field.kind !== "array") return ref;
  const el = c.field.element;
  if (dialect === "duckdb") return `to_json(${ref})`;
  const keys = el.map((f) => literal(f.name)).join(", ");
  const values = el.map((f) => `e.${ident(columnOf(f))}`).join(", ");
  return `json_format(CAST(transform(${ref}, e -> MAP(ARRAY[${keys}], ARRAY[${values}])) AS JSON))`;
}

/**
 * A result row (one value per outputColumns() entry, null for SQL NULL) back to a CloudTrail record. What is lost
 * against the record CloudTrail wrote (docs/athena.md): fields the table has no column for; JSON null and absent are
 * the same (absent); a struct whose fields are all absent is absent; a JSON-typed field that is not valid JSON text
 * (a plain string) is kept as that string; key order follows the table.
 */
export function recordFromRow(row: readonly (string | null | undefined)[], columns: readonly OutputColumn[] = outputColumns()): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    const raw = row[i];
    if (raw === null || raw === undefined) return;
    let value: unknown;
    switch (c.field.kind) {
      case "string":
        value = raw;
        break;
      case "boolean": {
        const t = raw.toLowerCase();
        value = t === "true" ? true : t === "false" ? false : raw;
        break;
      }
      case "json":
        value = parseJson(raw);
        if (value === null) return;
        break;
      case "array": {
        const list = parseJson(raw);
        if (!Array.isArray(list)) return;
        value = list.map((e) => (e && typeof e === "object" ? Object.fromEntries(Object.entries(e).filter(([, v]) => v !== null)) : e));
        break;
      }
      default:
        return;
    }
    let node = record;
    for (const p of c.path.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[c.path[c.path.length - 1]] = value;
  });
  return record;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
