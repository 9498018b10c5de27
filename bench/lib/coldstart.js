// One cold start, in a fresh `node` process: require the archive's entry module, then await the first invocation
// of its `handler` on the event in <eventFile>, as the Lambda runtime does. Writes one JSON line to <resultFile>:
// { loadMs, invokeMs, sinceProcessStartMs, ok, error } (ms from performance.now()). Plain JS so that nothing but
// the function's own code is loaded. The first AWS / Slack call fails fast on a closed local port (the parent sets
// the endpoints); that failure is an expected outcome, recorded in `error`.
"use strict";
const fs = require("fs");
const { performance } = require("perf_hooks");

const [modulePath, eventFile, resultFile] = process.argv.slice(2);
const event = JSON.parse(fs.readFileSync(eventFile, "utf8"));
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: "$LATEST",
  awsRequestId: "00000000-0000-4000-8000-000000000000",
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:444455556666:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  memoryLimitInMB: "256",
  getRemainingTimeInMillis: () => 30000,
  callbackWaitsForEmptyEventLoop: true,
};
const done = (r) => {
  fs.writeFileSync(resultFile, JSON.stringify(r) + "\n");
  process.exit(0);
};
setTimeout(() => done({ ok: false, error: "timeout: no settlement in 30 s" }), 30000).unref();

const t0 = performance.now();
let handler;
try {
  handler = require(modulePath).handler;
  if (typeof handler !== "function") throw new Error("no handler export");
} catch (err) {
  done({ ok: false, error: `load failed: ${String(err && err.stack || err).split("\n")[0]}` });
}
const t1 = performance.now();
Promise.resolve()
  .then(() => handler(event, context))
  .then(
    (result) => ({ ok: true, error: null, result: JSON.stringify(result === undefined ? null : result).slice(0, 200) }),
    (err) => ({ ok: false, error: `${(err && (err.code || err.name)) || "Error"}: ${String((err && err.message) || err).split("\n")[0].slice(0, 160)}` }),
  )
  .then((r) => {
    const t2 = performance.now();
    done({ ...r, loadMs: t1 - t0, invokeMs: t2 - t1, sinceProcessStartMs: t2 });
  });
