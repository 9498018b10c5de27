/**
 * A representative first event for each Lambda in the plan, in the shape its trigger delivers it, built from the
 * shipped real CloudTrail records (Stratus Red Team detonations) where the trigger carries one.
 * Keyed by the function's role (the end of its resource name), so renamed components still find theirs.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { toEnvelope, type CloudTrailRecord } from "../../functions/cloudtrail";
import { SAMPLES } from "../../cli/replay";
import { SHARED_CLOUDTRAIL } from "./common";
import { guardDutyEvent } from "../../tests/fixtures/guardDutyFinding";

function stratus(): CloudTrailRecord[] {
  const shared = path.join(SHARED_CLOUDTRAIL, "stratus-red-team/detonation-logs");
  const dir = fs.existsSync(shared) ? shared : path.join(SAMPLES, "stratus-red-team/detonation-logs");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as CloudTrailRecord[]);
}

const scheduled = (rule: string, account = "444455556666", region = "eu-west-1") => ({
  version: "0",
  id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account,
  time: "2026-11-20T10:05:00Z",
  region,
  resources: [`arn:aws:events:${region}:${account}:rule/${rule}`],
  detail: {},
});

function sqsMessage(id: string, body: unknown) {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1763632800000" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:eu-west-1:444455556666:deny-advisor-denies",
    awsRegion: "eu-west-1",
  };
}

/** A Slack block_actions click as a Lambda Function URL (payload 2.0) delivers it, signed with a dummy secret. */
function slackClick() {
  const payload = {
    type: "block_actions",
    user: { id: "U02ALICE001" },
    channel: { id: "C04SECOPS01" },
    actions: [{ action_id: "sg_review_deny", value: JSON.stringify({ changeId: "bench", ruleIds: ["sgr-0123456789abcdef0"] }) }],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = "v0=" + crypto.createHmac("sha256", "bench-signing-secret").update(`v0:${ts}:${body}`).digest("hex");
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: "",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts, "x-slack-signature": sig },
    requestContext: { http: { method: "POST", path: "/", sourceIp: "54.80.0.1" }, requestId: "bench", timeEpoch: Date.now() },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

/** The event for a function, and a line saying what it is; null when no event is known for that role. */
export function eventFor(functionName: string): { event: unknown; what: string } | null {
  const records = stratus();
  const find = (p: (r: CloudTrailRecord) => boolean, what: string) => {
    const r = records.find(p);
    if (!r) throw new Error(`no ${what} in the shipped CloudTrail samples`);
    return r;
  };
  const role = functionName.split("-").pop();
  switch (role) {
    case "heartbeat":
      return { event: scheduled("trailwatch-heartbeat", "210987654321", "eu-central-1"), what: "forwarded heartbeat (Scheduled Event)" };
    case "processor": {
      const denies = records.filter((r) => r.errorCode === "Client.UnauthorizedOperation" || r.errorCode === "AccessDenied").slice(0, 10);
      return { event: { Records: denies.map((d, i) => sqsMessage(`m${i}`, toEnvelope(d))) }, what: `SQS batch of ${denies.length} real denies` };
    }
    case "roles":
      return { event: toEnvelope(find((r) => r.eventName === "CreateRole", "CreateRole")), what: "CreateRole (EventBridge)" };
    case "notifier":
      return { event: guardDutyEvent(8), what: "GuardDuty finding, severity 8" };
    case "detect":
      return {
        event: toEnvelope(find((r) => r.eventName === "AuthorizeSecurityGroupIngress" && !r.errorCode, "AuthorizeSecurityGroupIngress")),
        what: "AuthorizeSecurityGroupIngress 0.0.0.0/0:22 (EventBridge)",
      };
    case "expire":
      return { event: scheduled("sg-bot-expire-tick"), what: "5-minute tick (Scheduled Event)" };
    case "interact":
    case "app":
      return { event: slackClick(), what: "Slack button click (Function URL)" };
    case "counter": {
      // No public data set has real SCP denies: a real Stratus deny with the message an SCP deny carries
      // (AWS's access-denied catalogue form, plus the policy ARN), as tests/fixtures/scp-denies.json does.
      const d = find((r) => r.errorCode === "AccessDenied" && !!r.userIdentity?.arn, "AccessDenied");
      const action = `${(d.eventSource ?? "iam.amazonaws.com").split(".")[0]}:${d.eventName}`;
      const errorMessage = `User: ${d.userIdentity!.arn} is not authorized to perform: ${action} on resource: * with an explicit deny in a service control policy: arn:aws:organizations::111122223333:policy/o-7k2mq9x4ab/service_control_policy/p-examplescp1`;
      return { event: toEnvelope({ ...d, errorMessage }), what: `SCP deny of ${action} (EventBridge)` };
    }
    case "windows":
      return { event: scheduled("scp-watch-digest"), what: "digest tick (Scheduled Event)" };
    case "detach":
      return {
        event: { Records: [{ eventID: "1", eventName: "MODIFY", eventSource: "aws:dynamodb", awsRegion: "eu-west-1", dynamodb: { NewImage: { pk: { S: "window#p-examplescp1" } } } }] },
        what: "DynamoDB stream record (detach requested)",
      };
    case "worker":
      return {
        event: { Records: [{ eventID: "1", eventName: "MODIFY", eventSource: "aws:dynamodb", awsRegion: "eu-west-1", dynamodb: { NewImage: { pk: { S: "sgr-0123456789abcdef0" }, state: { S: "DENIED" } } } }] },
        what: "DynamoDB stream record (review DENIED)",
      };
    default:
      return null;
  }
}
