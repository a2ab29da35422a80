#!/usr/bin/env node
// The gateway's own entry: `wattflow-edge run --config FILE` is `wattflow edge run` without the rest
// of the CLI (local stack, database, lake), so a gateway starts in a fraction of the time and memory.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
