import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { readLogs, LogItem } from "../cli/readLogs";
import { stratusRecords } from "./sharedData";
import { toEnvelope } from "../functions/cloudtrail";

async function collect(paths: string[]): Promise<LogItem[]> {
  const out: LogItem[] = [];
  for await (const item of readLogs(paths)) out.push(item);
  return out;
}

describe("replay input reader", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trailwatch-logs-"));
  const real = stratusRecords().slice(0, 6).map((r) => r.record);

  before(() => {
    // As CloudTrail delivers to S3: gzip of {"Records":[...]}, in the AWSLogs/<account>/CloudTrail/<region>/ tree.
    const s3dir = path.join(dir, "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/23");
    fs.mkdirSync(s3dir, { recursive: true });
    fs.writeFileSync(path.join(s3dir, "111122223333_CloudTrail_eu-west-1_20261123T0000Z_a.json.gz"), zlib.gzipSync(JSON.stringify({ Records: real.slice(0, 2) })));
    fs.writeFileSync(path.join(dir, "array.json"), JSON.stringify(real.slice(2, 4), null, 2));
    fs.writeFileSync(path.join(dir, "lines.jsonl"), real.slice(4, 6).map((r) => JSON.stringify(toEnvelope(r))).join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "notes.txt"), "ignored: not a log file");
  });

  it("reads S3 log files (gzip), arrays, JSON lines and EventBridge envelopes, in sorted file order", async () => {
    const items = await collect([dir]);
    expect(items.every((i) => i.kind === "record")).to.equal(true);
    const ids = items.map((i) => (i.kind === "record" ? i.record.eventID : null));
    expect(ids).to.deep.equal([real[0], real[1], real[2], real[3], real[4], real[5]].map((r) => r.eventID));
    const jl = items.filter((i) => i.kind === "record" && i.file.endsWith("lines.jsonl"));
    expect(jl.map((i) => i.line)).to.deep.equal([1, 2]);
  });

  it("reports bad input with file and line and goes on", async () => {
    const bad = path.join(dir, "bad");
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, "a.jsonl"), `${JSON.stringify(real[0])}\n{not json\n${JSON.stringify({ eventSource: "ec2.amazonaws.com" })}\n${JSON.stringify(real[1])}\n`);
    const gz = zlib.gzipSync(JSON.stringify({ Records: real }));
    fs.writeFileSync(path.join(bad, "b.json.gz"), gz.subarray(0, Math.floor(gz.length / 2)));
    fs.writeFileSync(path.join(bad, "c.json"), '{"Records": [\n  {"eventName": "x",\n  oops\n]}');
    const items = await collect([bad, path.join(dir, "missing.json")]);
    const problems = items.filter((i) => i.kind === "problem").map((p) => `${path.basename(p.file)}:${p.line ?? "-"}: ${(p as any).message.split(":")[0]}`);
    expect(problems).to.deep.equal([
      "missing.json:-: no such file or folder",
      "a.jsonl:2: not valid JSON",
      "a.jsonl:3: record without eventName",
      "b.json.gz:-: truncated or corrupt gzip (unexpected end of file)",
      "c.json:3: not valid JSON",
    ]);
    const records = items.filter((i) => i.kind === "record");
    expect(records.map((r) => (r as any).record.eventID)).to.deep.equal([real[0].eventID, real[1].eventID]);
  });
});
