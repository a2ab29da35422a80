#!/usr/bin/env node
// The `wattflow` command runs its TypeScript sources directly through tsx: no build step to forget.
import { register } from "tsx/esm/api";

// aws-local-stepfunctions and some SDK paths use Promise.withResolvers, which Node 20 lacks.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

register();
await import("../src/index.ts");
