/**
 * The house rules of docs/architecture.md, read from the code's own imports (static, type-only and dynamic
 * `import()`): which package may import which, and no import cycle between files anywhere.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const packages = readdirSync(join(root, "packages")).filter((name) => existsSync(join(root, "packages", name, "package.json")));

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sources(path);
    return /\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const files = [...packages.flatMap((name) => sources(join(root, "packages", name, "src"))), ...sources(join(root, "stacks")), join(root, "sst.config.ts")];

function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

/** The file an import names, or the bare package name when it is outside this repository's sources. */
function resolveImport(from: string, specifier: string): string {
  if (specifier.startsWith(".")) {
    const base = resolve(dirname(from), specifier);
    const stem = base.replace(/\.(js|ts|tsx)$/, "");
    return firstExisting([base, `${stem}.ts`, `${stem}.tsx`, join(base, "index.ts"), join(base, "index.tsx")]) ?? base;
  }
  const match = /^@wattflow\/([^/]+)(?:\/(.+))?$/.exec(specifier);
  if (!match) return specifier;
  const [, name = "", sub] = match;
  const src = join(root, "packages", name, "src");
  if (!sub) return firstExisting([join(src, "index.ts")]) ?? join(root, "packages", name);
  return firstExisting([join(src, `${sub}.ts`), join(src, `${sub}.tsx`), join(src, sub, "index.ts")]) ?? join(src, sub);
}

const imports = new Map<string, string[]>(
  files.map((file) => {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    return [file, info.importedFiles.map((imported) => resolveImport(file, imported.fileName))];
  }),
);

/** packages/<name>/…, stacks/… or sst.config.ts: the part of the house a file belongs to. */
function partOf(path: string): string {
  const rel = relative(root, path);
  if (rel.startsWith("packages/")) return rel.split("/")[1] ?? rel;
  if (rel.startsWith("stacks/") || rel === "sst.config.ts") return "stacks";
  return "outside";
}

/** What each part must never import (docs/architecture.md, "What must never import what"). */
const forbidden: Record<string, string[]> = {
  core: ["functions", "cli", "local", "edge", "web", "bench", "stacks"],
  functions: ["cli", "local", "edge", "web", "bench", "stacks"],
  edge: ["functions", "cli", "local", "web", "bench", "stacks"],
  local: ["cli", "web", "bench", "stacks"],
  web: ["cli", "local", "edge", "bench", "stacks"],
  cli: ["bench"],
};

describe("the house", () => {
  it("reads every source file of every package", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(packages).toEqual(expect.arrayContaining(["core", "functions", "edge", "cli", "web"]));
  });

  it.each(Object.entries(forbidden))("%s imports nothing from %j", (part, never) => {
    const found = [...imports]
      .filter(([file]) => partOf(file) === part)
      .flatMap(([file, targets]) =>
        targets
          .filter((target) => target.startsWith(root) && never.includes(partOf(target)))
          .map((target) => `${relative(root, file)} → ${relative(root, target)}`),
      );
    expect(found).toEqual([]);
  });

  it("has one error family: every error class extends WattflowError (util/error.ts), so none reaches a caller as a 500 by accident", () => {
    const strays = files
      // The local twin's errors play AWS's own (KinesisApiError, LimitExceeded): they stay as AWS names them.
      .filter((file) => ["core", "functions"].includes(partOf(file)))
      .flatMap((file) =>
        [...readFileSync(file, "utf8").matchAll(/class (\w+) extends (Error|TypeError|RangeError)\b/g)].map((match) => `${relative(root, file)}: ${match[1]}`),
      )
      .filter((stray) => stray !== "packages/core/src/util/error.ts: WattflowError");
    expect(strays).toEqual([]);
  });

  it("wires ports one way: each port's index.ts holds a util/port.ts slot and imports no adapter or driver", () => {
    const ports = ["archive", "database", "drain", "lake", "sink", "stream", "timeseries", "upload", "workflow"];
    const core = join(root, "packages/core/src");
    const driver = /^(pg|@electric-sql\/pglite|@aws-sdk\/.*|@influxdata\/.*|@duckdb\/.*|aws-local-stepfunctions)$/;
    const found = ports.flatMap((port) => {
      const index = join(core, port, "index.ts");
      const targets = imports.get(index) ?? [];
      return [
        ...(targets.includes(join(core, "util/port.ts")) ? [] : [`${port}/index.ts has no portSlot`]),
        ...targets
          .filter(
            (target) =>
              driver.test(target) || (dirname(target) === join(core, port) && target !== index && /\/(aws|local|influx|postgres|pglite)\.ts$/.test(target)),
          )
          .map((target) => `${port}/index.ts → ${relative(root, target)}`),
      ];
    });
    expect(found).toEqual([]);
  });

  it("lets no domain code build an adapter: outside its port folder, a core adapter is imported only by another adapter or test support", () => {
    const core = join(root, "packages/core/src");
    const adapter = /\/(archive|database|drain|lake|sink|stream|timeseries|upload|workflow)\/(aws|local|influx|postgres|pglite)\.ts$/;
    const found = [...imports]
      // An adapter may stand on another (DuckDB series over the local lake's files).
      .filter(([file]) => file.startsWith(core) && !file.startsWith(join(core, "testing")) && !adapter.test(file))
      .flatMap(([file, targets]) =>
        targets
          .filter((target) => adapter.test(target) && dirname(target) !== dirname(file))
          .map((target) => `${relative(root, file)} → ${relative(root, target)}`),
      );
    expect(found).toEqual([]);
  });

  it("has no import cycle between files (type-only and dynamic imports count)", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, "open");
      stack.push(file);
      for (const target of imports.get(file) ?? []) {
        // `export * as Bill from "./index"` names the file itself: a namespace, not a cycle.
        if (!imports.has(target) || target === file) continue;
        if (state.get(target) === "open") cycles.push([...stack.slice(stack.indexOf(target)), target].map((path) => relative(root, path)).join(" → "));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of imports.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
