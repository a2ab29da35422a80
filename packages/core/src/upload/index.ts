/**
 * Customer files as objects: S3 on AWS (./aws.ts), a folder locally (./local.ts, `.wattflow/uploads/`).
 * Workflow states carry the keys, never the bytes.
 */
import { processState } from "../util/global";

export * as Uploads from "./index";

export interface Store {
  put(key: string, body: Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer>;
}

export class UploadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UploadError";
  }
}

const state = processState("wattflow.uploads", (): { store?: Store } => ({}));

export function provide(store: Store | undefined): void {
  state.store = store;
}

export function current(): Store | undefined {
  return state.store;
}

export function use(): Store {
  if (!state.store) throw new UploadError("no upload store: the stack provides the local one; on AWS set WATTFLOW_UPLOADS_BUCKET");
  return state.store;
}

/** Keys are made by us from ids and a cleaned file name; refuse anything that could climb out of a folder. */
export function checkKey(key: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) || key.split("/").some((part) => part === ".." || part === ""))
    throw new UploadError(`invalid object key ${key}`);
  return key;
}
