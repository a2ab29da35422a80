import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../util/files";
import { checkName, type Store } from "./index";

/** Archived records as files under `dir` (`.wattflow/archive/`), each written to a temporary name, fsynced and renamed. */
export class LocalArchive implements Store {
  constructor(readonly dir: string) {}

  describe() {
    return { kind: "local" as const, location: this.dir };
  }

  async put(name: string, body: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, checkName(name)), body);
  }

  async list(limit: number): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return names
      .filter((name) => name.endsWith(".json"))
      .sort()
      .slice(0, limit);
  }

  get(name: string): Promise<Buffer> {
    return readFile(join(this.dir, checkName(name)));
  }

  remove(name: string): Promise<void> {
    return rm(join(this.dir, checkName(name)), { force: true });
  }
}
