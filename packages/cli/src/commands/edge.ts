/**
 * `wattflow edge run|status|install|probe|scan`: the factory gateway agent (packages/edge).
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomicSync } from "@wattflow/core/util/files";
import type { Command } from "commander";
import { CliError } from "../client";

const edgeBin = fileURLToPath(new URL("../../../edge/bin/wattflow-edge.mjs", import.meta.url));

export function register(program: Command): void {
  const edge = program.command("edge").description("the factory gateway: read meters, keep readings in an outbox, upload them");
  edge
    .command("run")
    .description("run the gateway agent (with `until` in the config it exits 0 once every interval before it is read and acknowledged)")
    .requiredOption("--config <file>", "gateway config JSON")
    .action(async (options: { config: string }) => {
      // The same entry as the gateway's own `wattflow-edge run`.
      const { main } = await import("@wattflow/edge/main");
      process.exitCode = await main(["run", "--config", options.config]);
    });
  edge
    .command("status")
    .description(
      "backlog, oldest unsent reading, last success per route, rejected readings, clock trusted or not, disk ok or full, meter ratings, buses, meters' last good read, held reads, meter events, cloud config",
    )
    .requiredOption("--data <dir>", "the agent's data folder (dataDir in its config)")
    .option("--json", "print JSON")
    .action(async (options: { data: string; json?: boolean }) => {
      const { Outbox } = await import("@wattflow/edge/outbox");
      const { defaultMaxBytes, warnShare } = await import("@wattflow/edge/config");
      const { freeBytes, readHealth } = await import("@wattflow/edge/health");
      const dir = resolve(options.data);
      if (!existsSync(Outbox.path(dir))) throw new CliError(`no outbox in ${dir} (expected ${Outbox.path(dir)}); is that the agent's dataDir?`);
      const outbox = Outbox.open(dir, { maxBytes: defaultMaxBytes, warnBytes: defaultMaxBytes * warnShare, readonly: true });
      try {
        const status = outbox.status();
        const { diskCapBytes: _cap, diskWarnBytes: _warn, ...figures } = status;
        // Clock and disk state live in health.json (written in place, so a full disk cannot stop it); free space is asked now.
        const health = readHealth(dir);
        const clock = health?.clock ?? null;
        const disk = health?.disk ? { ...health.disk, freeBytes: freeBytes(dir) } : null;
        if (options.json) return console.log(JSON.stringify({ ...figures, clock, disk, healthWrittenAt: health?.writtenAt ?? null }, null, 2));
        const age = (seconds: number | null) =>
          seconds === null ? "—" : seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 360) / 10} h`;
        console.log(`backlog          ${status.backlog} reading(s)${status.oldestUnsentStart ? ` from ${status.oldestUnsentStart}` : ""}`);
        console.log(`oldest unsent    ${age(status.oldestUnsentSeconds)}`);
        console.log(`last success     kinesis ${status.lastSuccess.kinesis ?? "never"} · http ${status.lastSuccess.http ?? "never"}`);
        if (status.lastError.kinesis) console.log(`last error       kinesis ${status.lastError.kinesis}`);
        if (status.lastError.http) console.log(`last error       http ${status.lastError.http}`);
        console.log(`rejected         ${status.rejected}${status.rejected > 0 ? " (kept in the outbox with the reason)" : ""}`);
        for (const item of status.rejected > 0 ? outbox.rejected(5) : []) console.log(`  ${item.meterId} ${item.start}: ${item.reason}`);
        console.log(`clock offset     ${status.clockOffsetMs === null ? "unknown (no API answer yet)" : `${status.clockOffsetMs} ms (cloud − gateway)`}`);
        console.log(
          `clock            ${
            clock === null
              ? "unknown (no health.json: the agent has not run since its upgrade)"
              : clock.state === "trusted"
                ? `trusted (${clock.source}): ${clock.reason}`
                : `UNTRUSTED since ${clock.untrustedSince ?? "boot (never trusted)"}: ${clock.reason}; no reading is stamped until NTP or the cloud confirms the time`
          }`,
        );
        console.log(
          `disk             ${
            disk === null
              ? "unknown (no health.json)"
              : disk.state === "ok"
                ? `ok, ${disk.freeBytes === null ? "free space unknown" : `${Math.round(disk.freeBytes / 1024)} KiB free`}`
                : `FULL since ${disk.since} (${disk.error}): ${disk.pendingReadings} reading(s) held in memory, counters kept; ${disk.freeBytes === null ? "" : `${Math.round(disk.freeBytes / 1024)} KiB free now`}`
          }${health ? ` (as of ${health.writtenAt})` : ""}`,
        );
        console.log(`read up to       ${status.newestCommittedEnd ?? "—"}`);
        console.log(`outbox           ${Math.round(status.diskBytes / 1024)} KiB`);
        for (const item of status.ratings)
          console.log(`rating           ${item.meterId} ${item.maxKw} kW${item.source === "class" ? " (CLASS DEFAULT, not configured)" : ""}: ${item.basis}`);
        for (const bus of status.buses)
          console.log(
            `bus              ${bus.bus} (${bus.link}): ${bus.answered} of ${bus.requests} request(s) answered, ${bus.timeouts} timeout(s), ${bus.crcErrors} CRC error(s), ${bus.exceptions} exception(s), ${bus.portErrors} port error(s), ${bus.retries} retries, ${bus.badFrames} bad frame(s), ${bus.strayFrames} stray frame(s) dropped${typeof bus.lastCycleMs === "number" ? `, last cycle ${bus.lastCycleMs} ms` : ""}${bus.lastError ? `; last error ${bus.lastError}` : ""}`,
          );
        for (const meter of status.meters)
          console.log(
            `meter            ${meter.meterId}: last good read ${meter.lastGoodRead ?? "never"}${meter.consecutiveFailures > 0 ? `, ${meter.consecutiveFailures} failed read(s) in a row` : ""}`,
          );
        if (status.config) {
          const config = status.config;
          console.log(
            `config           ${config.source === "cloud" ? `cloud version ${config.version} applied ${config.appliedAt}` : "local file only"}; cloud last answered ${config.checkedAt ?? "never"}${config.lastError ? ` (last error: ${config.lastError})` : ""}`,
          );
          if (config.refused)
            console.log(
              `config REFUSED   cloud version ${config.refused.version} at ${config.refused.at}: ${config.refused.problems.map((problem) => `${problem.path}: ${problem.message}`).join("; ")}`,
            );
        }
        for (const item of status.held)
          console.log(`held             ${item.meterId} ${item.reads} read(s) since ${item.since} (${item.cause}); last good read ${item.lastGood}`);
        for (const event of status.lastEvents)
          console.log(`event            ${new Date(event.atMs).toISOString()} ${event.meterId} ${event.kind}: ${event.detail}`);
      } finally {
        outbox.close();
      }
    });
  edge
    .command("probe")
    .description("read one meter of the config once and print every value its map decodes, with its unit")
    .requiredOption("--config <file>", "gateway config JSON")
    .requiredOption("--meter <id>", "the meter's id (mtr_…)")
    .option("--json", "print JSON")
    .action(async (options: { config: string; meter: string; json?: boolean }) => {
      const { probe, CommissionError } = await import("@wattflow/edge/commission");
      const config = await loadConfig(options.config);
      let found: Awaited<ReturnType<typeof probe>>;
      try {
        found = await probe(config, options.meter);
      } catch (error) {
        if (error instanceof CommissionError) throw new CliError(error.message);
        throw error;
      }
      if (options.json) return console.log(JSON.stringify(found, null, 2));
      console.log(`${found.meterId}: ${found.name} (${found.model}), unit ${found.unitId} on ${found.link}, ${found.function} registers`);
      for (const item of found.values)
        console.log(
          `  ${item.quantity.padEnd(12)} ${String(Number(item.value.toPrecision(10))).padStart(16)} ${item.unit.padEnd(6)} (${item.type} at ${item.address})`,
        );
    });
  edge
    .command("scan")
    .description("list the unit ids that answer on a bus of the config")
    .requiredOption("--config <file>", "gateway config JSON")
    .requiredOption("--bus <name>", "the bus's name in the config's buses")
    .option("--from <id>", "first unit id", "1")
    .option("--to <id>", "last unit id", "247")
    .option("--timeout <ms>", "how long to wait for each unit (default the bus's timeoutMs)")
    .option("--json", "print JSON")
    .action(async (options: { config: string; bus: string; from: string; to: string; timeout?: string; json?: boolean }) => {
      const { scan, CommissionError } = await import("@wattflow/edge/commission");
      const config = await loadConfig(options.config);
      const from = Number(options.from);
      const to = Number(options.to);
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > 247 || from > to)
        throw new CliError("--from and --to must be unit ids 1…247, from ≤ to", 2);
      let found: Awaited<ReturnType<typeof scan>>;
      try {
        found = await scan(config, options.bus, { from, to, timeoutMs: options.timeout === undefined ? undefined : Number(options.timeout) });
      } catch (error) {
        if (error instanceof CommissionError) throw new CliError(error.message);
        throw error;
      }
      if (options.json) return console.log(JSON.stringify(found, null, 2));
      console.log(`bus ${found.bus} (${found.link}), unit ids ${from}…${to}:`);
      console.log(found.units.length > 0 ? `  answering: ${found.units.join(", ")}` : "  no unit answered: check the port, baud rate, parity and wiring");
      if (found.garbled.length > 0)
        console.log(`  answers failing their CRC from: ${found.garbled.join(", ")} (a wrong baud rate or parity, or a line without termination)`);
    });
  edge
    .command("install")
    .description("write a systemd unit that runs the agent as a service (restart on failure; upgrades keep the outbox)")
    .requiredOption("--config <file>", "gateway config JSON")
    .option("--unit-dir <dir>", "where to write the unit", "/etc/systemd/system")
    .option("--name <name>", "service name", "wattflow-edge")
    .option("--user <user>", "run the service as this user")
    .action(async (options: { config: string; unitDir: string; name: string; user?: string }) => {
      const { unit } = await import("@wattflow/edge/service");
      const configPath = resolve(options.config);
      const config = await loadConfig(configPath);
      if (config.clock || config.until) throw new CliError("a service runs on the real clock: remove clock and until from the config", 2);
      const text = unit({
        name: options.name,
        description: `Wattflow edge agent (${config.deviceId})`,
        node: process.execPath,
        bin: edgeBin,
        configPath,
        dataDir: config.dataDir,
        workingDirectory: dirname(configPath),
        user: options.user,
      });
      const path = join(resolve(options.unitDir), `${options.name}.service`);
      try {
        mkdirSync(dirname(path), { recursive: true });
        mkdirSync(config.dataDir, { recursive: true });
        writeFileAtomicSync(path, text);
      } catch (error) {
        throw new CliError(`cannot write ${path}: ${(error as Error).message} (run as root, or pass --unit-dir)`);
      }
      console.log(`wrote ${path}`);
      console.log(`enable it with: systemctl daemon-reload && systemctl enable --now ${options.name}`);
      console.log(`the outbox stays in ${config.dataDir} across upgrades and reinstalls`);
    });
}

/** The gateway config at `path`, or exit 2 with what is wrong in it. */
async function loadConfig(path: string) {
  const { load, ConfigError } = await import("@wattflow/edge/config");
  try {
    return load(resolve(path));
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}
