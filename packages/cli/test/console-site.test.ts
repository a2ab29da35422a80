/** The console on the local API's origin: files from dist with their types and caching, the index for anything else, never a file outside dist. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { type ConsoleSite, consoleSite } from "@wattflow/local/stack/console";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("console site", () => {
  let dir: ReturnType<typeof Testing.temporaryDir>;
  let site: ConsoleSite;
  const get = (path: string, method = "GET") => site.serve(new Request(`http://127.0.0.1:3000${path}`, { method }));

  beforeAll(() => {
    dir = Testing.temporaryDir();
    mkdirSync(join(dir.path, "dist", "assets"), { recursive: true });
    writeFileSync(join(dir.path, "dist", "index.html"), "<!doctype html><title>Wattflow</title>");
    writeFileSync(join(dir.path, "dist", "assets", "index-abc.js"), "console.log(1)");
    writeFileSync(join(dir.path, "secret.txt"), "outside dist");
    site = consoleSite(() => {}, join(dir.path, "dist"));
  });
  afterAll(() => dir.remove());

  it("leaves the API's paths and non-GET requests to the API", async () => {
    expect(await get("/health")).toBeUndefined();
    expect(await get("/v1/factories")).toBeUndefined();
    expect(await get("/", "POST")).toBeUndefined();
  });

  it("serves the index without caching and hashed assets as immutable, with a strict content security policy", async () => {
    const index = await get("/");
    expect(index?.status).toBe(200);
    expect(index?.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index?.headers.get("cache-control")).toBe("no-cache");
    expect(index?.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await index?.text()).toContain("<title>Wattflow</title>");
    const asset = await get("/assets/index-abc.js");
    expect(asset?.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset?.headers.get("cache-control")).toContain("immutable");
    expect(await asset?.text()).toBe("console.log(1)");
  });

  it("never serves a file outside dist", async () => {
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2E%2E/%2E%2E/secret.txt", "/%E0%A4%A"]) {
      const response = await get(path);
      expect(response?.status, path).toBe(200);
      expect(await response?.text(), path).toContain("<title>Wattflow</title>");
    }
  });

  it("answers 503 with a reload while the console is not built", async () => {
    const unbuilt = consoleSite(() => {}, join(dir.path, "missing"));
    const response = await unbuilt.serve(new Request("http://127.0.0.1:3000/"));
    expect(response?.status).toBe(503);
    expect(await response?.text()).toContain("npm run build -w packages/web");
  });
});
