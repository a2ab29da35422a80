import { defineConfig } from "vitest/config";

/** `npm run test:browser`: the console in headless Chromium against a real local stack; not part of `npm test`. */
export default defineConfig({
  test: {
    include: ["packages/web/test/browser/**/*.browser.ts"],
    pool: "forks",
    // One stack and one browser at a time: each test file starts its own.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
  },
});
