import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { checkKey, type Store, UploadError } from "./index";

/** Objects as files under `dir` (`.wattflow/uploads/`); written to a temporary name, then renamed, so a reader never sees half a file. */
export class LocalStore implements Store {
  constructor(readonly dir: string) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = join(this.dir, checkKey(key));
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, body);
    await rename(temporary, path);
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
