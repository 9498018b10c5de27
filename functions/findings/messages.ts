/**
 * Security findings as the Slack channel reads them: GuardDuty findings and AWS Config non-compliance, parsed from
 * their EventBridge events into one shape, then a short Block Kit message with a console link.
 * GuardDuty finding event: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 * Finding fields: https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html
 * Config compliance event: https://docs.aws.amazon.com/config/latest/developerguide/monitor-config-with-cloudwatchevents.html
 */
import { bandOf, type SeverityBand } from "./severity";
import { boundedKey } from "../boundedKey";
import { accountLabel, codeSpan, fitMessage, inlineList, mrkdwnText, slackDate, SLACK_LIMITS } from "../slack/text";

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
  // Added fields (optional): what a responder reads first.
  /** GuardDuty's description; Config's annotation. */
  description?: string | null;
  /** GuardDuty: service.eventFirstSeen / eventLastSeen. */
  firstSeen?: string | null;
  lastSeen?: string | null;
  /** GuardDuty: the API call, IP and user agent behind the finding, when its action names them. */
  caller?: { api: string | null; service: string | null; ip: string | null; where: string | null; userAgent: string | null } | null;
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

/**
 * The caller of an API-call finding (service.action.awsApiCallAction: api, serviceName, remoteIpDetails, userAgent),
 * or the remote side of a network finding. https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Action.html
 */
function guardDutyCaller(service: Json): SecurityFinding["caller"] {
  const action = obj(obj(service).action);
  const api = obj(action.awsApiCallAction);
  const remote = obj(api.remoteIpDetails ?? obj(action.networkConnectionAction).remoteIpDetails ?? obj(action.portProbeAction).remoteIpDetails);
  const ip = remote.ipAddressV4 ?? remote.ipAddressV6 ?? null;
  const place = [obj(remote.city).cityName, obj(remote.country).countryName, obj(remote.organization).asnOrg].filter((x) => typeof x === "string" && x);
  const userAgent = api.userAgent ?? obj(obj(obj(service).additionalInfo).userAgent).fullUserAgent ?? null;
  if (!api.api && !ip && !userAgent) return null;
  const str = (v: unknown) => (typeof v === "string" && v ? v : null);
  return { api: str(api.api), service: str(api.serviceName), ip: str(ip), where: place.length ? place.join(", ") : null, userAgent: str(userAgent) };
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
    consoleUrl: `${consoleHost(region, d.partition)}/guardduty/home?region=${encodeURIComponent(region ?? "")}#/findings?macros=current&fId=${encodeURIComponent(d.id)}`,
    description: typeof d.description === "string" ? d.description : null,
    firstSeen: typeof obj(d.service).eventFirstSeen === "string" ? obj(d.service).eventFirstSeen : null,
    lastSeen: typeof obj(d.service).eventLastSeen === "string" ? obj(d.service).eventLastSeen : null,
    caller: guardDutyCaller(d.service),
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
    // The resource id is the resource's choice (a secret id may be 2,040 characters): the key stays within DynamoDB's.
    key: boundedKey(`config:${account}:${region}:${rule}:${resourceId}`),
    kind: "config",
    title: `${rule}: ${resourceType || "resource"} ${resourceId} is non-compliant${typeof annotation === "string" ? ` (${annotation})` : ""}`,
    type: rule,
    severity: null,
    band: null,
    account,
    region,
    resource: `${resourceType ? resourceType.replace(/^AWS::/, "") + " " : ""}${resourceId}`,
    count: null,
    consoleUrl: `${consoleHost(region)}/config/home?region=${encodeURIComponent(region ?? "")}#/rules/details?configRuleName=${encodeURIComponent(rule)}`,
  };
}

const BAND_ICON: Record<SeverityBand, string> = { low: ":large_blue_circle:", medium: ":large_yellow_circle:", high: ":large_orange_circle:", critical: ":red_circle:" };

export function findingMessage(f: SecurityFinding, accountNames: Record<string, string> = {}): { text: string; blocks: object[] } {
  const where = `${accountLabel(f.account, accountNames)}, ${mrkdwnText(f.region ?? "unknown region", 30)}`;
  // The notification text (what a phone shows) reads plainly; the message itself leads with a severity colour.
  const head = f.kind === "guardduty" ? `GuardDuty ${f.band ?? "unrated"} (${f.severity ?? "?"}): ${mrkdwnText(f.title, 500)}` : `AWS Config: ${mrkdwnText(f.title, 500)}`;
  const icon = f.kind === "guardduty" ? (f.band ? BAND_ICON[f.band] : ":white_circle:") : ":clipboard:";
  const seen =
    f.count !== null
      ? `${f.count} time${f.count === 1 ? "" : "s"}${f.firstSeen ? `\nfirst ${slackDate(f.firstSeen)}` : ""}${f.lastSeen ? `\nlast ${slackDate(f.lastSeen)}` : ""}`
      : null;
  const caller = f.caller
    ? [
        f.caller.api ? `${codeSpan(`${f.caller.service ? f.caller.service.replace(/\.amazonaws\.com$/, "") + ":" : ""}${f.caller.api}`, 120)}` : null,
        f.caller.ip ? `from ${codeSpan(f.caller.ip, 60)}${f.caller.where ? ` (${mrkdwnText(f.caller.where, 120)})` : ""}` : null,
        f.caller.userAgent ? `agent ${codeSpan(f.caller.userAgent, 300)}` : null,
      ].filter(Boolean) as string[]
    : [];
  const fields = [
    `*Type*\n${mrkdwnText(f.type, 300)}`,
    `*Where*\n${where}`,
    `*Resource*\n${mrkdwnText(f.resource, 1000)}`,
    ...(seen ? [`*Seen*\n${seen}`] : []),
    ...(caller.length ? [`*Caller*\n${inlineList(caller, 3, "\n")}`] : []),
  ];
  const blocks: object[] = [{ type: "section", text: { type: "mrkdwn", text: `${icon} *${head}*` } }];
  if (f.description) blocks.push({ type: "section", text: { type: "mrkdwn", text: mrkdwnText(f.description, 1500, { multiline: true }) } });
  blocks.push({ type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text })) });
  if (f.consoleUrl) blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open in console" }, url: f.consoleUrl.slice(0, SLACK_LIMITS.buttonUrl) }] });
  return fitMessage({ text: `${head} - ${mrkdwnText(f.resource, 300)} in ${where}`, blocks });
}
