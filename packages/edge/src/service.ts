/**
 * The systemd unit that runs the agent as a service (`wattflow edge install`). The outbox and the
 * device key live in the config's dataDir, outside the installed code, so an upgrade (new package,
 * same unit, `systemctl restart`) keeps them; the outbox schema upgrades itself in place.
 */
/**
 * How the agent runs as a service: a small heap (its live data is ~20 MB; a large young generation only
 * holds garbage) and two malloc arenas (one per thread is glibc's default), so it stays well under
 * 150 MB RSS whatever the backlog. `npm run bench:edge` runs it the same way.
 */
export const runtimeEnvironment = {
  NODE_OPTIONS: "--max-old-space-size=64 --max-semi-space-size=1",
  MALLOC_ARENA_MAX: "2",
} as const;

export type UnitOptions = {
  name: string;
  description: string;
  node: string;
  /** The gateway's own entry, `wattflow-edge` (`run --config FILE`). */
  bin: string;
  configPath: string;
  dataDir: string;
  workingDirectory: string;
  user?: string;
};

export function unit(options: UnitOptions): string {
  const quote = (value: string) => (/[\s"\\]/.test(value) ? `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"` : value);
  return [
    "# Written by `wattflow edge install`; run it again after an upgrade (the outbox in dataDir is kept).",
    "[Unit]",
    `Description=${options.description}`,
    "Wants=network-online.target",
    "After=network-online.target time-sync.target",
    // Never give up restarting: a gateway that stops reading loses nothing only while it runs.
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${[options.node, options.bin, "run", "--config", options.configPath].map(quote).join(" ")}`,
    `WorkingDirectory=${quote(options.workingDirectory)}`,
    ...(options.user ? [`User=${options.user}`] : []),
    "Restart=on-failure",
    "RestartSec=5",
    // SIGTERM lets the agent finish its current commit; kill -9 after 30 s is safe too (WAL, synchronous FULL).
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30",
    "Environment=NODE_ENV=production",
    ...Object.entries(runtimeEnvironment).map(([name, value]) => `Environment=${quote(`${name}=${value}`)}`),
    "NoNewPrivileges=true",
    "ProtectSystem=full",
    "PrivateTmp=true",
    `ReadWritePaths=${quote(options.dataDir)}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
