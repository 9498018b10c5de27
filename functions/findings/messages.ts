/**
 * Security findings as the Slack channel reads them: GuardDuty findings and AWS Config non-compliance, parsed from
 * their EventBridge events into one shape, then a short Block Kit message with a console link.
 * GuardDuty finding event: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 * Finding fields: https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html
 * Config compliance event: https://docs.aws.amazon.com/config/latest/developerguide/monitor-config-with-cloudwatchevents.html
 */
import { bandOf, type SeverityBand } from "./severity";

export interface SecurityFinding {
  /** Dedupe key: `guardduty:<finding id>` or `config:<account>:<region>:<rule>:<resource>`. */
  key: string;
  kind: "guardduty" | "config";
  title: string;
  /** GuardDuty finding type, or the Config rule name. */
  type: string;
  severity: number | null;
  band: SeverityBand | null;
  account: string | null;
  region: string | null;
  /** What it is about, e.g. "EC2 instance i-0abc", "access key AKIA... (user alice)". */
  resource: string;
  /** GuardDuty: occurrences so far (republished updates raise it). */
  count: number | null;
  consoleUrl: string | null;
}

type Json = Record<string, any>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});

function consoleHost(region: string | null, partition?: string): string {
  if (partition === "aws-us-gov") return `https://console.amazonaws-us-gov.com`;
  if (partition === "aws-cn") return `https://console.amazonaws.cn`;
  return `https://${region ?? "us-east-1"}.console.aws.amazon.com`;
}

function guardDutyResource(resource: Json): string {
  const r = obj(resource);
  const inst = obj(r.instanceDetails);
  if (inst.instanceId) return `EC2 instance ${inst.instanceId}`;
  const key = obj(r.accessKeyDetails);
  if (key.accessKeyId || key.userName) return `access key ${key.accessKeyId ?? "?"}${key.userName ? ` (${key.userType ?? "user"} ${key.userName})` : ""}`;
  const buckets = Array.isArray(r.s3BucketDetails) ? r.s3BucketDetails.map((b: Json) => obj(b).name).filter(Boolean) : [];
  if (buckets.length) return `S3 bucket ${buckets.join(", ")}`;
  if (obj(r.eksClusterDetails).name) return `EKS cluster ${obj(r.eksClusterDetails).name}`;
  if (obj(r.lambdaDetails).functionName) return `Lambda function ${obj(r.lambdaDetails).functionName}`;
  const rds = obj(r.rdsDbInstanceDetails);
  if (rds.dbInstanceIdentifier) return `RDS instance ${rds.dbInstanceIdentifier}`;
  const ecs = obj(r.ecsClusterDetails);
  if (ecs.name) return `ECS cluster ${ecs.name}`;
  return typeof r.resourceType === "string" ? r.resourceType : "unknown resource";
}

/** A `GuardDuty Finding` event, or null when the event is something else. */
export function fromGuardDutyEvent(event: unknown): SecurityFinding | null {
  const e = obj(event);
  if (e.source !== "aws.guardduty" || e["detail-type"] !== "GuardDuty Finding") return null;
  const d = obj(e.detail);
  if (typeof d.id !== "string") return null;
  const severity = typeof d.severity === "number" ? d.severity : Number(d.severity);
  const region = d.region ?? e.region ?? null;
  return {
    key: `guardduty:${d.id}`,
    kind: "guardduty",
    title: typeof d.title === "string" ? d.title : String(d.type ?? "GuardDuty finding"),
    type: String(d.type ?? "unknown"),
    severity: Number.isFinite(severity) ? severity : null,
    band: Number.isFinite(severity) ? bandOf(severity) : null,
    account: d.accountId ?? e.account ?? null,
    region,
    resource: guardDutyResource(d.resource),
    count: typeof obj(d.service).count === "number" ? obj(d.service).count : null,
    consoleUrl: `${consoleHost(region, d.partition)}/guardduty/home?region=${region}#/findings?macros=current&fId=${encodeURIComponent(d.id)}`,
  };
}

/** A `Config Rules Compliance Change` event to NON_COMPLIANT, or null. */
export function fromConfigComplianceEvent(event: unknown): SecurityFinding | null {
  const e = obj(event);
  if (e.source !== "aws.config" || e["detail-type"] !== "Config Rules Compliance Change") return null;
  const d = obj(e.detail);
  if (obj(d.newEvaluationResult).complianceType !== "NON_COMPLIANT") return null;
  const rule = String(d.configRuleName ?? "unknown rule");
  const account = d.awsAccountId ?? e.account ?? null;
  const region = d.awsRegion ?? e.region ?? null;
  const resourceType = String(d.resourceType ?? obj(obj(obj(d.newEvaluationResult).evaluationResultIdentifier).evaluationResultQualifier).resourceType ?? "");
  const resourceId = String(d.resourceId ?? "unknown");
  const annotation = obj(d.newEvaluationResult).annotation;
  return {
    key: `config:${account}:${region}:${rule}:${resourceId}`,
    kind: "config",
    title: `${rule}: ${resourceType || "resource"} ${resourceId} is non-compliant${typeof annotation === "string" ? ` (${annotation})` : ""}`,
    type: rule,
    severity: null,
    band: null,
    account,
    region,
    resource: `${resourceType ? resourceType.replace(/^AWS::/, "") + " " : ""}${resourceId}`,
    count: null,
    consoleUrl: `${consoleHost(region)}/config/home?region=${region}#/rules/details?configRuleName=${encodeURIComponent(rule)}`,
  };
}

const BAND_ICON: Record<SeverityBand, string> = { low: ":large_blue_circle:", medium: ":large_yellow_circle:", high: ":large_orange_circle:", critical: ":red_circle:" };

/** Slack escapes: &, <, > are control characters in mrkdwn. https://api.slack.com/reference/surfaces/formatting#escaping */
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function findingMessage(f: SecurityFinding, accountNames: Record<string, string> = {}): { text: string; blocks: object[] } {
  const where = `${f.account ? (accountNames[f.account] ? `${accountNames[f.account]} (${f.account})` : f.account) : "unknown account"}, ${f.region ?? "unknown region"}`;
  // The notification text (what a phone shows) reads plainly; the message itself leads with a severity colour.
  const head = f.kind === "guardduty" ? `GuardDuty ${f.band ?? "unrated"} (${f.severity ?? "?"}): ${f.title}` : `AWS Config: ${f.title}`;
  const icon = f.kind === "guardduty" ? (f.band ? BAND_ICON[f.band] : ":white_circle:") : ":clipboard:";
  const fields = [
    `*Type*\n${esc(f.type)}`,
    `*Where*\n${esc(where)}`,
    `*Resource*\n${esc(f.resource)}`,
    ...(f.count !== null ? [`*Seen*\n${f.count} time${f.count === 1 ? "" : "s"}`] : []),
  ];
  const blocks: object[] = [
    { type: "section", text: { type: "mrkdwn", text: `${icon} *${esc(head)}*`.slice(0, 3000) } },
    { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text: text.slice(0, 2000) })) },
  ];
  if (f.consoleUrl) blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open in console" }, url: f.consoleUrl }] });
  return { text: `${head} - ${f.resource} in ${where}`.slice(0, 3000), blocks };
}
