#!/usr/bin/env node
// The benchmarks run their TypeScript sources through tsx, as `wattflow` does: no build step to forget.
import { register } from "tsx/esm/api";

register();
// aws-local-stepfunctions and some SDK paths use Promise.withResolvers, which Node 20 lacks: the tests' polyfill.
await import("../../../scripts/with-resolvers.ts");
await import("../src/index.ts");
