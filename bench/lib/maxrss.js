// Preloaded (node --require) into benchmark children: at exit, write this process's peak RSS (KiB, from
// getrusage via process.resourceUsage) to the file the parent named, so the parent can read a true peak, not a sample.
"use strict";
const file = process.env.TRAILWATCH_BENCH_RSS_FILE;
if (file) {
  delete process.env.TRAILWATCH_BENCH_RSS_FILE; // not inherited by grandchildren
  process.on("exit", () => {
    try {
      require("fs").writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      /* best effort */
    }
  });
}
