import { readdirSync } from "node:fs";
import { bodyLimits, importLimits, ingestMaxReadings } from "@wattflow/core/config";
import { Testing } from "@wattflow/core/testing";
import { Uploads } from "@wattflow/core/upload";
import { LocalStore } from "@wattflow/core/upload/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { deviceToken, ids, type Pipeline, pipeline } from "./support";

type Answer = { code: string; message: string; errors: { path: string; message: string }[] };

/** A body of `total` bytes made lazily in 64 KiB chunks; `pulled()` tells how much the server read. */
function lazyBody(total: number, fill = 0x20) {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(fill);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunk.length, total - sent);
      sent += size;
      controller.enqueue(chunk.subarray(0, size));
    },
  });
  return { stream, pulled: () => sent };
}

const post = (path: string, token: string, body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  app.request(path, { method: "POST", headers: { authorization: `Bearer ${token}`, ...headers }, body, duplex: "half" } as RequestInit);

/** What the stream pipeline may hold past the limit when the refusal comes: a few 64 KiB chunks. */
const slack = 4 * 64 * 1024;

/** Every file under `dir`. */
const files = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());

describe("request body limits", () => {
  let p: Pipeline;
  let uploads: ReturnType<typeof Testing.temporaryDir>;
  beforeAll(async () => {
    p = await pipeline();
    uploads = Testing.temporaryDir();
    Uploads.provide(new LocalStore(uploads.path));
  });
  afterAll(async () => {
    Uploads.provide(undefined);
    uploads.remove();
    await p.close();
  });

  it("takes 500 of the largest readings the schema allows, pretty-printed, under the ingest limit", () => {
    // Every field, numbers of 24 characters, a 9-digit fraction on start: the most bytes a valid reading can take.
    const widest = {
      meterId: ids.meters[0],
      start: "2026-04-06T20:30:00.000000000Z",
      seconds: 3_888_000,
      kwh: 1.2345678901234568e-300,
      kvarh: -1.2345678901234567e300,
      kwAvg: 1.2345678901234568e-300,
      kwMax: 1.2345678901234568e-300,
      pf: -0.12345678901234566,
      voltage: 1.2345678901234568e-300,
      current: 1.2345678901234568e-300,
      gap: false,
    };
    const compact = JSON.stringify(widest).length;
    const pretty = JSON.stringify({ readings: [widest] }, null, 4).length;
    console.log(`widest reading: ${compact} bytes compact, ${pretty} pretty-printed; limit ${bodyLimits.ingestBytesPerReading} a reading`);
    expect(pretty).toBeLessThan(bodyLimits.ingestBytesPerReading);
    const batch = JSON.stringify({ readings: Array.from({ length: ingestMaxReadings }, () => widest) }, null, 4);
    expect(batch.length).toBeLessThanOrEqual(bodyLimits.ingestBytes);
  });

  it("refuses a 150 MB ingest body with 413 naming the limit, reading no more than the limit", async () => {
    const body = lazyBody(150 * 1024 * 1024);
    const response = await post("/v1/ingest", deviceToken, body.stream, { "content-type": "application/json" });
    expect(response.status).toBe(413);
    expect((await response.json()) as Answer).toEqual({
      code: "request.too_large",
      message: `The request body is over this route's limit of ${bodyLimits.ingestBytes} bytes`,
      errors: [{ path: "(body)", message: `at most ${bodyLimits.ingestBytes} bytes` }],
    });
    expect(body.pulled()).toBeLessThanOrEqual(bodyLimits.ingestBytes + slack);
  });

  it("refuses a body whose declared length is over the limit before reading it", async () => {
    const response = await app.request("/v1/ingest", {
      method: "POST",
      headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json", "content-length": String(150 * 1024 * 1024) },
      body: "{}",
    });
    expect(response.status).toBe(413);
  });

  it("keeps small JSON routes small: 300 KiB to sign-in is 413", async () => {
    const response = await post("/v1/session", "", JSON.stringify({ email: "a@b.c", password: "x".repeat(300 * 1024) }), {
      "content-type": "application/json",
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Answer).message).toContain(String(bodyLimits.jsonBytes));
  });

  it("streams a 150 MB import to the upload store and stops at the file limit, leaving no file behind", async () => {
    const body = lazyBody(150 * 1024 * 1024, 0x41);
    const response = await post(`/v1/imports?kind=production&factory=${ids.factory}&name=huge.csv`, p.apiToken, body.stream, { "content-type": "text/csv" });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Answer).errors).toEqual([{ path: "huge.csv", message: `at most ${importLimits.fileBytes} bytes` }]);
    expect(body.pulled()).toBeLessThanOrEqual(importLimits.fileBytes + slack);
    expect(files(uploads.path)).toEqual([]);
  });

  it("streams each multipart file to the store and refuses a whole request over the import limit", async () => {
    const boundary = "----wattflow-test";
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nproduction\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`,
    );
    const rest = lazyBody(150 * 1024 * 1024, 0x42);
    const reader = rest.stream.getReader();
    let first = true;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (first) {
          first = false;
          return controller.enqueue(head);
        }
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
    });
    const response = await post("/v1/imports", p.apiToken, stream, { "content-type": `multipart/form-data; boundary=${boundary}` });
    expect(response.status).toBe(413);
    expect(rest.pulled()).toBeLessThanOrEqual(importLimits.fileBytes + slack);
    expect(files(uploads.path)).toEqual([]);
  });
});
