/** The CLI as a new user pipes it: a reader that stops early (`| head -3`) ends the output quietly. */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const bin = fileURLToPath(new URL("../bin/wattflow.mjs", import.meta.url));

test("wattflow cost piped into a reader that closes after the first line exits 0 without an EPIPE stack", async () => {
  // Prepare: a 45-day gap reading prints 12,960 slot lines (about 3 MB), far more than a pipe holds (64 KiB).
  const dir = mkdtempSync(join(tmpdir(), "wattflow-pipe-"));
  const prices = join(dir, "prices.json");
  const input = join(dir, "readings.ndjson");
  writeFileSync(prices, JSON.stringify({ fixed: "0", energy: { base: "1", intermedia: "2", punta: "3" }, distribution: "0", capacity: "0" }));
  writeFileSync(
    input,
    `${JSON.stringify({ meterId: "mtr_01m8nw5b5h8vzkzg2njw0t9kn1", start: "2026-04-06T06:00:00Z", seconds: 45 * 86_400, kwh: 10_800, gap: true })}\n`,
  );
  const child = spawn(process.execPath, [bin, "cost", "--tariff", "cfe-gdmth", "--zone", "central", "--prices", prices, "--input", input], {
    env: { ...process.env, WATTFLOW_API: "", WATTFLOW_TOKEN: "" },
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });

  // Act: read the first chunk, then close the pipe as `head` does.
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on("close", (exitCode) => resolve(exitCode)));

  // Assess
  expect(stderr).not.toContain("EPIPE");
  expect(code).toBe(0);
});
