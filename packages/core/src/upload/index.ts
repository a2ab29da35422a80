/**
 * Customer files as objects: S3 on AWS (./aws.ts), a folder locally (./local.ts, `.wattflow/uploads/`).
 * Workflow states carry the keys, never the bytes.
 */
import { createHash } from "node:crypto";
import { UnavailableError, VisibleError } from "../util/error";
import { portSlot } from "../util/port";

export * as Uploads from "./index";

export interface Store {
  put(key: string, body: Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** An object written chunk by chunk as it arrives; nobody sees it until `commit`, and `abort` leaves nothing. */
  writer(key: string): Promise<Writer>;
}

export interface Writer {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export type Saved = { key: string; bytes: number; sha256: string /** The first bytes, to tell the format by. */; head: Uint8Array };

export class UploadError extends UnavailableError {
  readonly code = "upload.unavailable";
  override readonly name = "UploadError";
}

const slot = portSlot<Store>(
  "wattflow.uploads",
  () => new UploadError("no upload store: the stack provides the local one; on AWS set WATTFLOW_UPLOADS_BUCKET"),
);

/**
 * This process's store (util/port.ts): `provide` sets it (the Lambda runtime: S3 from WATTFLOW_UPLOADS_BUCKET, made on
 * first use; the local stack: a folder), `use` returns it and throws UploadError when none was provided.
 */
export const { provide, provideLazily, current, provided, use } = slot;

/** Keys are made by us from ids and a cleaned file name; refuse anything that could climb out of a folder. */
export function checkKey(key: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) || key.split("/").some((part) => part === ".." || part === ""))
    throw new UploadError(`invalid object key ${key}`);
  return key;
}

/**
 * Streams `chunks` into the object `key`, counting and hashing as they pass: past `maxBytes` the
 * partial object is dropped and a VisibleError("too_large") names the limit, without reading on.
 * @example await Uploads.save("imports/org_…/imp_…/march.csv", request.body, 100 * 1024 * 1024)
 */
export async function save(key: string, chunks: AsyncIterable<Uint8Array>, maxBytes: number, name = key): Promise<Saved> {
  const writer = await (await use()).writer(key);
  const hash = createHash("sha256");
  const head = new Uint8Array(8);
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      if (bytes < head.length) head.set(chunk.subarray(0, head.length - bytes), bytes);
      bytes += chunk.byteLength;
      if (bytes > maxBytes)
        throw new VisibleError("too_large", "upload.too_large", `${name} is over the limit of ${maxBytes} bytes`, [
          { path: name, message: `at most ${maxBytes} bytes` },
        ]);
      hash.update(chunk);
      await writer.write(chunk);
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.commit();
  return { key, bytes, sha256: hash.digest("hex"), head: head.subarray(0, Math.min(bytes, head.length)) };
}
