/**
 * Loaded first by vitest (root vitest.config.ts `setupFiles`) and the benchmarks (packages/bench/bin/wattflow-bench.mjs, src/import.ts, src/export.ts): aws-local-stepfunctions uses Promise.withResolvers,
 * which Node 20 lacks — the same polyfill packages/cli/bin/wattflow.mjs installs for the CLI.
 */
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
