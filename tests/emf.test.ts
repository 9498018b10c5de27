/**
 * Embedded metric format as CloudWatch needs it: every function that prints EMF (found by reading the planned
 * archives, not by a list) logs as Text and writes each EMF document as one raw JSON line on stdout. With Lambda's
 * JSON log format (or console.log) the line is wrapped and no metric is ever extracted: the quiet-forwarders alarm,
 * which treats missing data as breaching, was red from day one.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { prodPlan, ofType, loadHandler } from "./planFixture";
import { createTable, startDynalite, useLocalAwsEnv } from "./localServices";
import { HEARTBEAT_NAMESPACE, QUIET_METRIC } from "../functions/heartbeat";

describe("EMF lines reach CloudWatch raw (planned archives)", function () {
  this.timeout(180_000);

  it("every function whose archive prints EMF logs as Text and carries the trailwatch:emf tag", () => {
    const plan = prodPlan();
    const emitting = ofType(plan, "aws:lambda/function:Function").filter((f) =>
      fs.readFileSync(path.join(plan.dir, "functions", f.name, "__index.js"), "utf8").includes("CloudWatchMetrics"),
    );
    expect(emitting.map((f) => f.name).sort()).to.deep.equal(["central-heartbeat", "scp-watch-counter"]);
    for (const f of emitting) {
      expect(f.inputs.loggingConfig.logFormat, f.name).to.equal("Text");
      expect(f.inputs.tags, f.name).to.deep.equal({ "trailwatch:emf": "true" });
    }
    // The others keep JSON logs (structured, queryable) and no tag.
    for (const f of ofType(plan, "aws:lambda/function:Function").filter((x) => !emitting.includes(x))) expect(f.inputs.loggingConfig.logFormat, f.name).to.equal("JSON");
  });

  it("the heartbeat check writes its QuietForwarders EMF document as one raw line on stdout, not through console.log", async () => {
    const ddb = await startDynalite();
    const stdout: string[] = [];
    const consoled: unknown[][] = [];
    const write = process.stdout.write.bind(process.stdout);
    const log = console.log;
    try {
      await createTable(ddb.client, "heartbeats", "pk");
      useLocalAwsEnv({ DYNAMODB: ddb.url });
      Object.assign(process.env, { HEARTBEAT_TABLE: "heartbeats", QUIET_MINUTES: "30" });
      const handler = loadHandler(prodPlan(), "central-heartbeat");
      (process.stdout as any).write = (chunk: any, ...rest: any[]) => (stdout.push(String(chunk)), true);
      console.log = (...args: unknown[]) => void consoled.push(args);
      // The 5-minute check: the checker's own schedule, not a forwarded heartbeat.
      const out = await handler({ source: "aws.events", "detail-type": "Scheduled Event", resources: ["arn:aws:events:eu-west-1:444455556666:rule/check"], detail: {} }, {});
      (process.stdout as any).write = write;
      console.log = log;
      expect(out).to.deep.equal({ quiet: [] });
      const emf = stdout.filter((s) => s.includes('"_aws"'));
      expect(emf).to.have.length(1);
      expect(emf[0].endsWith("\n")).to.equal(true);
      expect(emf[0].trimEnd()).to.not.include("\n");
      const docu = JSON.parse(emf[0]);
      expect(docu._aws.CloudWatchMetrics).to.deep.equal([{ Namespace: HEARTBEAT_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: QUIET_METRIC, Unit: "Count" }] }]);
      expect(docu[QUIET_METRIC]).to.equal(0);
      expect(consoled.filter((a) => String(a[0]).includes('"_aws"'))).to.deep.equal([]);
    } finally {
      (process.stdout as any).write = write;
      console.log = log;
      await ddb.close();
    }
  });
});
