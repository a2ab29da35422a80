import { BillError } from "@wattflow/core/billing";
import { Database } from "@wattflow/core/database";
import { KpiError } from "@wattflow/core/kpi";
import { Stream } from "@wattflow/core/stream";
import { TimeZoneError } from "@wattflow/core/time";
import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { onError } from "../src/api/errors";

const throwing = (error: Error) => new Hono().get("/", () => Promise.reject(error)).onError(onError);

describe("one error family, mapped once", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers a domain error with its kind's status, code and message, never a 500", async () => {
    const cases = [
      [new TimeZoneError("unknown time zone Mars/Olympus"), 400, "time_zone.invalid"],
      [new KpiError("local midnight does not exist in America/Havana at a boundary of 2026-03"), 400, "kpi.invalid"],
    ] as const;
    for (const [error, status, code] of cases) {
      const response = await throwing(error).request("/");

      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ code, message: error.message, errors: [] });
    }
  });

  it("names the input's path as a problem when the error carries one", async () => {
    const response = await throwing(new BillError('"2026-02-30" is not a real date (YYYY-MM-DD)', "period.start")).request("/");

    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: unknown }).errors).toEqual([
      { path: "period.start", message: '"2026-02-30" is not a real date (YYYY-MM-DD)' },
    ]);
  });

  it("answers a store that is down with 503 and Retry-After, logging the detail and telling the caller none of it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});

    const response = await throwing(new Database.DatabaseError("connect ECONNREFUSED 10.0.3.7:5432 password=hunter2")).request("/");

    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("30");
    const body = await response.text();
    expect(body).toContain("database.unavailable");
    expect(body).not.toContain("10.0.3.7");
    expect(logged.mock.calls.flat().join(" ")).toContain("ECONNREFUSED");
    expect((await throwing(new Stream.StreamUnavailableError("shard busy")).request("/")).status).toBe(503);
  });

  it("keeps a bug a bare 500 that says nothing of it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});

    const response = await throwing(new TypeError("cannot read properties of undefined (reading 'secret')")).request("/");

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ code: "internal", message: "Internal error; it has been logged" });
  });
});
