import { describe, expect, it } from "vitest";
import * as Multipart from "../src/upload/multipart";

const boundary = "xYz-123";
const body = Buffer.from(
  `preamble\r\n--${boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nproduction\r\n--${boundary}\r\n` +
    `Content-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\ndate,line\r\n--not-the-boundary\r\n2026-01-01,A\r\n` +
    `--${boundary}--\r\n`,
);

async function* chunks(buffer: Buffer, cuts: number[]) {
  let from = 0;
  for (const cut of [...cuts, buffer.length]) {
    yield buffer.subarray(from, cut);
    from = cut;
  }
}

async function read(source: AsyncIterable<Uint8Array>) {
  const found: { name: string; filename?: string; text: string }[] = [];
  for await (const part of Multipart.parts(source, boundary)) {
    const pieces: Uint8Array[] = [];
    for await (const chunk of part.body) pieces.push(chunk);
    found.push({ name: part.name, filename: part.filename, text: Buffer.concat(pieces).toString() });
  }
  return found;
}

describe("Multipart.parts", () => {
  it("reads the same parts wherever the chunks are cut, even through a delimiter", async () => {
    const expected = [
      { name: "kind", filename: undefined, text: "production" },
      { name: "file", filename: "a.csv", text: "date,line\r\n--not-the-boundary\r\n2026-01-01,A" },
    ];
    for (let cut = 1; cut < body.length; cut++) expect(await read(chunks(body, [cut]))).toEqual(expected);
    expect(
      await read(
        chunks(
          body,
          Array.from({ length: body.length - 1 }, (_, index) => index + 1),
        ),
      ),
    ).toEqual(expected);
  });

  it("refuses a body cut off inside a part", async () => {
    await expect(read(chunks(body.subarray(0, body.length - 20), []))).rejects.toThrow("cannot be read");
  });

  it("takes the boundary from the content type, quoted or not", () => {
    expect(Multipart.boundaryOf('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(Multipart.boundaryOf("multipart/form-data; boundary=----x; charset=utf-8")).toBe("----x");
  });
});
