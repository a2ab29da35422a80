/** A local lake (Parquet files read by DuckDB) in a fresh temporary folder, for tests that write and query the lake. */
import { join } from "node:path";
import { LocalLake } from "../src/lake/local";
import { Testing } from "../src/testing";

/**
 * A `LocalLake` under `<temporary folder>/lake`. `remove()` closes its DuckDB instance, then deletes the folder;
 * call it once, after the last query (in `afterAll`).
 */
export function temporaryLake(): { lake: LocalLake; remove(): Promise<void> } {
  const dir = Testing.temporaryDir();
  const lake = new LocalLake(join(dir.path, "lake"));
  return {
    lake,
    remove: async () => {
      await lake.close();
      dir.remove();
    },
  };
}
