import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../util/files";
import { checkKey, type Store, UploadError } from "./index";

/** Objects as files under `dir` (`.wattflow/uploads/`); written atomically (util/files), so a reader never sees half a file. */
export class LocalStore implements Store {
  constructor(readonly dir: string) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = join(this.dir, checkKey(key));
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, body);
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(join(this.dir, checkKey(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new UploadError(`no object ${key}`, { cause: error });
      throw error;
    }
  }
}
