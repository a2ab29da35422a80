#!/usr/bin/env node
/**
 * Type-checks sst.config.ts and stacks/ against SST's platform types, offline (no AWS account).
 * `sst install` writes .sst/platform (the platform's types and its npm dependencies, from the npm
 * registry only) when it is missing or was made by another sst version; then tsc -p tsconfig.sst.json.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const platform = join(root, ".sst", "platform");
const wanted = JSON.parse(readFileSync(join(root, "node_modules", "sst", "package.json"), "utf8")).version;
const installed = existsSync(join(platform, "version")) ? readFileSync(join(platform, "version"), "utf8").trim() : undefined;

function run(command, args, env = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

// The AWS provider version pinned in sst.config.ts, and the one .sst/ holds (another pin means other types).
const pinnedAws = /aws:\s*\{\s*version:\s*"([^"]+)"/.exec(readFileSync(join(root, "sst.config.ts"), "utf8"))?.[1];
const providerLock = join(root, ".sst", "provider-lock.json");
const installedAws = existsSync(providerLock) ? JSON.parse(readFileSync(providerLock, "utf8")).find((p) => p.name === "aws")?.version : undefined;

if (!existsSync(join(platform, "config.d.ts")) || installed !== wanted || (pinnedAws && pinnedAws !== installedAws)) {
  console.log(
    `sst-typecheck: installing SST ${wanted} (was ${installed ?? "absent"}) with @pulumi/aws ${pinnedAws ?? "latest"} (was ${installedAws ?? "absent"}) into .sst/`,
  );
  const install = run(join(root, "node_modules", ".bin", "sst"), ["install"], {
    SST_TELEMETRY_DISABLED: "1",
    SST_SKIP_DEPENDENCY_CHECK: "1",
    SST_NO_BUN: "1",
    // Only app() is evaluated; the stage decides nothing here but must be set without AWS credentials.
    SST_STAGE: "dev",
  });
  if (install.status !== 0) {
    console.error(`sst-typecheck: sst install failed (exit ${install.status}); it needs the npm registry`);
    process.exit(install.status);
  }
  console.log(`sst-typecheck: sst install took ${install.seconds}s`);
}

// SST ships its platform as TypeScript source, which tsc checks under this repo's stricter flags
// (noUncheckedIndexedAccess, verbatimModuleSyntax, noImplicitOverride) and finds fault with. Those
// findings are SST's, not ours: report only errors located outside .sst/, and how many were set aside.
const started = Date.now();
const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.sst.json", "--pretty", "false"], { cwd: root, encoding: "utf8" });
if (tsc.error) throw tsc.error;
const groups = [];
for (const line of `${tsc.stdout}${tsc.stderr}`.split("\n")) {
  if (line.length === 0) continue;
  if (/^\s/.test(line) && groups.length > 0) groups[groups.length - 1].push(line);
  else groups.push([line]);
}
const ours = groups.filter((group) => !group[0].startsWith(".sst/"));
const seconds = ((Date.now() - started) / 1000).toFixed(1);
for (const group of ours) console.error(group.join("\n"));
const setAside = groups.length - ours.length;
if (ours.length > 0 || (tsc.status !== 0 && groups.length === 0)) {
  console.error(`sst-typecheck: ${ours.length} error(s) in sst.config.ts and stacks/ (${setAside} in SST's own source set aside), ${seconds}s`);
  process.exit(1);
}
console.log(`sst-typecheck: sst.config.ts and stacks/ type-check (${setAside} finding(s) in SST's own source set aside), ${seconds}s`);
