#!/usr/bin/env node
// The gateway's own entry: `wattflow-edge run --config FILE` is `wattflow edge run` without the rest
// of the CLI (local stack, database, lake), so a gateway starts in a fraction of the time and memory.
// tsx's CommonJS hook compiles the sources in this thread; its ESM hook would add a loader thread (~20 MB).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
require("tsx/cjs/api").register();
const { main } = require("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
