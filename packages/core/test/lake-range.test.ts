import { afterAll, describe, expect, it } from "vitest";
import { Reading } from "../src/reading";
import { Testing } from "../src/testing";
import { temporaryLake } from "./temporary-lake";

const row = (start: Date) => Testing.lakeRow({ meterId: "mtr_01jtest0000000000000000000", factoryId: "fac_range", intervalStart: start, kwh: 1 });

describe("the lake shows what ingest accepts (one readings window)", () => {
  const { lake, remove } = temporaryLake();
  afterAll(remove);

  it("shows a baseline year three years back, which ingest accepts, and hides what ingest refuses", async () => {
    // Relative to the real clock, as DuckDB's current_date (and Athena's NOW) are: the window is 5 years.
    const now = new Date();
    const year = now.getUTCFullYear();
    const baseline = new Date(Date.UTC(year - 3, 5, 1));
    const tooOld = new Date(Date.UTC(year - 6, 5, 1));
    const reading = (start: Date) => ({ meterId: "mtr_01jtest0000000000000000000", start: start.toISOString(), seconds: 300, kwh: 1 });
    expect(Reading.validate(reading(baseline), now).ok).toBe(true);
    expect(Reading.validate(reading(tooOld), now).ok).toBe(false);

    await lake.put([row(baseline), row(tooOld)]);
    const visible = await lake.query("SELECT dt FROM readings ORDER BY dt");
    expect(visible.map((found) => found.dt)).toEqual([baseline.toISOString().slice(0, 10)]);
  });
});
