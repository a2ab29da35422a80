/**
 * Request body limits (config `bodyLimits`), answered 413 with the limit named, while the body
 * streams in: a declared Content-Length over the limit is refused before a byte is read, and a
 * chunked body is counted and cut off at the limit (Hono's bodyLimit). Imports stream their files
 * to the upload store, which counts them itself, so only their declared length is checked here.
 */
import { bodyLimits } from "@wattflow/core/config";
import { VisibleError } from "@wattflow/core/util/error";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

const tooLarge = (maxBytes: number) =>
  new VisibleError("too_large", "request.too_large", `The request body is over this route's limit of ${maxBytes} bytes`, [
    { path: "(body)", message: `at most ${maxBytes} bytes` },
  ]);

const counted = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(maxBytes);
    },
  });

const declared =
  (maxBytes: number): MiddlewareHandler =>
  async (c, next) => {
    if (Number(c.req.header("content-length") ?? 0) > maxBytes) throw tooLarge(maxBytes);
    await next();
  };

const ingest = counted(bodyLimits.ingestBytes);
const imports = declared(bodyLimits.importBytes);
const json = counted(bodyLimits.jsonBytes);

/** Each route's body limit: ingest sized from its 500 readings, imports large and streamed, every other route small JSON. */
export const limitBody: MiddlewareHandler = async (c, next) => {
  const path = c.req.path;
  if (path.startsWith("/v1/ingest")) return ingest(c, next);
  if (path.startsWith("/v1/imports")) return imports(c, next);
  return json(c, next);
};

/** A request body's chunks as they arrive, cut off with 413 past `maxBytes` (a chunked body declares no length). */
export async function* chunksOf(body: ReadableStream<Uint8Array> | null, maxBytes: number): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    yield value;
  }
}
