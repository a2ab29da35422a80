import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { syncDirectory, writeFileAtomic } from "../util/files";
import { checkKey, type Store, UploadError, type Writer } from "./index";

/** Objects as files under `dir` (`.wattflow/uploads/`); written atomically (util/files), so a reader never sees half a file. */
export class LocalStore implements Store {
  constructor(readonly dir: string) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = join(this.dir, checkKey(key));
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, body);
  }

  /** Chunks go to a temporary file as they arrive; commit fsyncs and renames it into place. */
  async writer(key: string): Promise<Writer> {
    const path = join(this.dir, checkKey(key));
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const file = await open(temporary, "wx");
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await file.close();
    };
    return {
      write: async (chunk) => {
        await file.write(chunk);
      },
      commit: async () => {
        await file.sync();
        await close();
        await rename(temporary, path);
        await syncDirectory(dirname(path));
      },
      abort: async () => {
        await close();
        await rm(temporary, { force: true });
      },
    };
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
