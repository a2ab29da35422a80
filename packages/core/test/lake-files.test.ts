import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Lake } from "../src/lake";
import { LocalLake } from "../src/lake/local";
import { Testing } from "../src/testing";
import { clearUnreadableFiles, unreadableFiles } from "../src/util/files";

const row = (day: string, kwh: number): Lake.Row =>
  Testing.lakeRow({ meterId: "mtr_files", factoryId: "fac_files", intervalStart: new Date(`${day}T12:00:00Z`), kwh });

const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));

describe("the local lake's files", () => {
  let dir: ReturnType<typeof Testing.temporaryDir>;
  let lake: LocalLake;
  beforeEach(() => {
    dir = Testing.temporaryDir();
    lake = new LocalLake(dir.path);
    clearUnreadableFiles();
  });
  afterEach(async () => {
    await lake.close();
    dir.remove();
  });

  it("publishes each put as whole files in their dt= partitions and leaves nothing staged", async () => {
    await lake.put([row("2026-03-01", 1), row("2026-03-02", 2)]);
    const written = files(join(dir.path, "readings")).map((path) => path.slice(join(dir.path, "readings").length + 1));
    expect(written.sort()).toEqual([expect.stringMatching(/^dt=2026-03-01\/part-.*\.parquet$/), expect.stringMatching(/^dt=2026-03-02\/part-.*\.parquet$/)]);
    expect(files(join(dir.path, "staging"))).toEqual([]);
  });

  it("drops what a killed write left staged: it was never acknowledged, and no query sees it", async () => {
    const leftover = join(dir.path, "staging", "crashed", "dt=2026-03-01", "part-x.parquet");
    mkdirSync(join(leftover, ".."), { recursive: true });
    writeFileSync(leftover, "PAR1");
    await lake.put([row("2026-03-01", 1)]);
    expect(existsSync(join(dir.path, "staging", "crashed"))).toBe(false);
    expect(await lake.query("SELECT sum(kwh) AS kwh FROM readings")).toEqual([{ kwh: 1 }]);
  });

  it("reads past a torn file (its end cut off) and a 0-byte one, moving both to corrupt/ and listing them", async () => {
    // Prepare: 1 + 2 kWh in good files; a copy of the first cut 20 bytes short (no end magic), and an empty file.
    await lake.put([row("2026-03-01", 1)]);
    await lake.put([row("2026-03-02", 2)]);
    const [good] = files(join(dir.path, "readings", "dt=2026-03-01"));
    const torn = join(dir.path, "readings", "dt=2026-03-01", "part-torn.parquet");
    const empty = join(dir.path, "readings", "dt=2026-03-02", "part-empty.parquet");
    const bytes = readFileSync(good as string);
    writeFileSync(torn, bytes.subarray(0, bytes.length - 20));
    writeFileSync(empty, "");

    // Act
    const answer = await lake.query("SELECT sum(kwh) AS kwh FROM readings");

    // Assess: the good files' 3 kWh; both bad files moved aside and named with their reason.
    expect(answer).toEqual([{ kwh: 3 }]);
    expect(existsSync(torn) || existsSync(empty)).toBe(false);
    expect(
      files(join(dir.path, "corrupt"))
        .map((path) => path.split("/").slice(-2).join("/"))
        .sort(),
    ).toEqual([expect.stringMatching(/^dt=2026-03-01\/.*-part-torn\.parquet$/), expect.stringMatching(/^dt=2026-03-02\/.*-part-empty\.parquet$/)]);
    const listed = unreadableFiles();
    expect(listed.map((file) => file.path).sort()).toEqual([torn, empty].sort());
    expect(listed.find((file) => file.path === empty)?.reason).toMatch(/too small to be a Parquet file/);
    expect(listed.find((file) => file.path === torn)?.reason).toMatch(/magic/i);
  });

  it("finds a file whose footer does not decode, though DuckDB's error does not name it", async () => {
    // Prepare: 1 kWh in a good file; 100 bytes framed like Parquet (PAR1 … footer length … PAR1) with a garbage footer.
    await lake.put([row("2026-03-01", 1)]);
    const garbage = Buffer.alloc(100, 7);
    garbage.write("PAR1", 0, "latin1");
    garbage.writeUInt32LE(50, 92);
    garbage.write("PAR1", 96, "latin1");
    const bad = join(dir.path, "readings", "dt=2026-03-01", "part-garbage.parquet");
    writeFileSync(bad, garbage);

    // Act, Assess
    expect(await lake.query("SELECT sum(kwh) AS kwh FROM readings")).toEqual([{ kwh: 1 }]);
    expect(unreadableFiles().map((file) => file.path)).toEqual([bad]);
    expect(existsSync(bad)).toBe(false);
  });
});
