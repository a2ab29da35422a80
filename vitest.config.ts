import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions needs.
    setupFiles: ["scripts/with-resolvers.ts"],
    // Forks: PGlite (wasm), DuckDB and better-sqlite3 (native) are happiest one per process.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers than that only make each test slower.
    maxWorkers: 2,
  },
});
