/**
 * Entry of replay's worker threads (replayWorkers.ts). A worker thread starts without the parent's ts-node hook, so it
 * registers ts-node the way `npm run replay` runs (`ts-node --transpile-only`, this checkout's tsconfig.json) and
 * loads the TypeScript worker. Plain JavaScript so that it loads with nothing registered.
 */
"use strict";
const path = require("path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "../tsconfig.json") });
require("./replayWorkerThread.ts");
