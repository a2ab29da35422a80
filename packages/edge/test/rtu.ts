/**
 * Test support for Modbus RTU on real serial lines: the virtual null-modem pair and the Modbus RTU slave with
 * a field bus's faults (src/meter/rtu-slave.ts, shared with `npm run bench:edge`), and Debian's pymodbus RTU
 * server as a slave from another implementation.
 */
import { spawn, spawnSync } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Table } from "../src/meter/bus";
import { stop, until } from "../src/meter/rtu-slave";

export { crc16, type Fault, imageOf, type Registers, RtuSlave, virtualLine } from "../src/meter/rtu-slave";

const pymodbusScript = fileURLToPath(new URL("./fixtures/pymodbus_rtu_slave.py", import.meta.url));

/** What the pymodbus slave serves: each unit's registers by table and address, and the units that do not answer now. */
export type PymodbusState = { units: Record<number, { table: Table; registers: Record<number, number> }>; silent: number[] };

/**
 * Debian's pymodbus (python3-pymodbus, run by /usr/bin/python3) as an RTU slave on `path`. It reads
 * `statePath` again whenever it changes: `update` writes it whole (rename) so it never sees half a file.
 */
export async function pymodbusSlave(
  path: string,
  statePath: string,
  state: PymodbusState,
): Promise<{ update(next: PymodbusState): void; close(): Promise<void> }> {
  const write = (next: PymodbusState) => {
    writeFileSync(`${statePath}.tmp`, JSON.stringify(next));
    renameSync(`${statePath}.tmp`, statePath);
  };
  write(state);
  const child = spawn("/usr/bin/python3", [pymodbusScript, path, statePath], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  await until(() => output.includes("ready") || child.exitCode !== null, 15_000, `pymodbus slave (${output})`);
  if (child.exitCode !== null) throw new Error(`pymodbus slave exited: ${output}`);
  return { update: write, close: () => stop(child) };
}

/**
 * What the serial lanes need that npm cannot install: socat (the virtual line) and Debian's pymodbus
 * (`apt-get install socat python3-pymodbus`). Null when both are here, else what is missing. CI installs
 * both and sets WATTFLOW_REQUIRE_SERIAL=1, so there a missing tool fails the tests instead of skipping them.
 */
export function serialToolsMissing(): string | null {
  const missing: string[] = [];
  if (spawnSync("socat", ["-V"], { stdio: "ignore" }).status !== 0) missing.push("socat");
  if (spawnSync("/usr/bin/python3", ["-c", "import pymodbus"], { stdio: "ignore" }).status !== 0)
    missing.push("python3-pymodbus (Debian's, for /usr/bin/python3)");
  if (missing.length === 0) return null;
  if (process.env.WATTFLOW_REQUIRE_SERIAL === "1")
    throw new Error(`the Modbus RTU tests need ${missing.join(" and ")}: apt-get install socat python3-pymodbus`);
  return missing.join(" and ");
}
