/**
 * A streaming multipart/form-data reader (RFC 7578): parts come out one at a time with their body as
 * chunks, so a file can go to the upload store as it arrives instead of the whole request being held
 * in memory. Pure: it reads the chunks it is given.
 */
import { VisibleError } from "../util/error";

export type Part = {
  /** The form field's name. */
  name: string;
  /** The file name, for file fields. */
  filename?: string;
  /** The part's bytes; read it to the end (or not at all) before asking for the next part. */
  body: AsyncGenerator<Uint8Array>;
};

/** Part headers longer than this are not a browser's or curl's: refused instead of buffered. */
const maxHeaderBytes = 16 * 1024;

const invalid = (message: string) => new VisibleError("input", "upload.invalid_multipart", "The multipart body cannot be read", [{ path: "(body)", message }]);

/** The boundary of a `multipart/form-data; boundary=…` content type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/**
 * The parts of a multipart body, in order.
 * @example for await (const part of Multipart.parts(request.body, boundary)) if (part.filename) await Uploads.save(key, part.body, limit)
 */
export async function* parts(body: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  const iterator = body[Symbol.asyncIterator]();
  // The body's first delimiter has no CRLF before it; adding one makes every delimiter look alike.
  let buffer = Buffer.from("\r\n");
  let ended = false;
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      return false;
    }
    buffer = buffer.length === 0 ? Buffer.from(next.value) : Buffer.concat([buffer, next.value]);
    return true;
  };
  const find = async (needle: Buffer, limit = Number.POSITIVE_INFINITY): Promise<number> => {
    for (;;) {
      const at = buffer.indexOf(needle);
      if (at >= 0) return at;
      if (buffer.length > limit) throw invalid("a part's headers are too long");
      if (!(await more())) return -1;
    }
  };

  // Preamble: everything up to the first delimiter.
  const first = await find(delimiter);
  if (first < 0) throw invalid(`no part starts with the boundary ${boundary}`);
  buffer = buffer.subarray(first + delimiter.length);
  for (;;) {
    while (buffer.length < 2 && (await more()));
    if (buffer.subarray(0, 2).toString() === "--") return;
    const headersEnd = await find(Buffer.from("\r\n\r\n"), maxHeaderBytes);
    if (headersEnd < 0) throw invalid("the body ends inside a part's headers");
    const headers = buffer.subarray(0, headersEnd).toString("utf8");
    buffer = buffer.subarray(headersEnd + 4);
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? "";
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw invalid("a part has no Content-Disposition name");
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    let finished = false;
    const partBody = async function* (): AsyncGenerator<Uint8Array> {
      for (;;) {
        const at = buffer.indexOf(delimiter);
        if (at >= 0) {
          if (at > 0) yield buffer.subarray(0, at);
          buffer = buffer.subarray(at + delimiter.length);
          finished = true;
          return;
        }
        // Keep what could be the start of a delimiter split across chunks.
        const safe = buffer.length - (delimiter.length - 1);
        if (safe > 0) {
          const chunk = buffer.subarray(0, safe);
          buffer = buffer.subarray(safe);
          yield chunk;
        }
        if (!(await more())) throw invalid(`the body ends inside the part ${JSON.stringify(name)}`);
      }
    };
    const part = partBody();
    yield { name, filename, body: part };
    // The caller may have skipped the part (or stopped reading it): read past it.
    if (!finished) for await (const _ of part);
    if (!finished) throw invalid(`the part ${JSON.stringify(name)} was not read to its end`);
  }
}

/** A text field's value (at most `maxBytes`, refused beyond). */
export async function text(part: Part, maxBytes = 1024): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of part.body) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes) throw invalid(`the field ${JSON.stringify(part.name)} is over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
