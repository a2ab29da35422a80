import { describe, expect, it } from "vitest";
import { readingWindow } from "../src/config";
import { Flux } from "../src/flux";
import { Reading } from "../src/reading";
import { Time } from "../src/time";
import { Instant } from "../src/util/instant";

const utc = { zone: { kind: "utc" } } as const;
const offset = { zone: { kind: "offset" } } as const;
const wallClock = (timeZone: string) => ({ zone: { kind: "wallClock", timeZone } }) as const;
const now = new Date("2026-11-30T08:00:00Z");
const meterId = "mtr_01jtest0000000000000000000";

describe("Instant.parse: impossible times are refused, never rolled over", () => {
  // Date.parse turns each of these into a real instant a day or two later (2026-04-31 → 2026-05-01).
  it.each([
    ["2026-04-31T00:00:00Z", "2026-04-31 is not a date: April 2026 has 30 days"],
    ["2026-02-30T00:00Z", "2026-02-30 is not a date: February 2026 has 28 days"],
    ["2026-02-29T12:00:00Z", "2026-02-29 is not a date: February 2026 has 28 days"],
    ["2026-13-01T00:00:00Z", "month 13 does not exist (01 to 12)"],
    ["2026-05-01T24:00:00Z", "24:00 is not a time of day (00:00 to 23:59); write 00:00 of the next day"],
    ["2026-05-01T23:60:00Z", "minute 60 does not exist (00 to 59)"],
    ["2026-05-01T23:59:60Z", "second 60 does not exist (00 to 59; leap seconds are not written)"],
    ["2026-05-01T12:00:00+14:30", "offset +14:30 is out of range (-12:00 to +14:00)"],
    ["2026-05-01T12:00:00-12:01", "offset -12:01 is out of range (-12:00 to +14:00)"],
    ["2026-05-01T12:00:00+05:60", "offset +05:60 is out of range (-12:00 to +14:00)"],
  ])("%s: %s", (text, message) => {
    expect(Instant.parse(text, offset)).toEqual({ ok: false, message });
  });

  it("reads a leap day of a leap year and the last instants of a month", () => {
    // 2028 is divisible by 4 and not by 100: February has 29 days.
    expect(Instant.parse("2028-02-29T23:59:59.999Z", utc)).toEqual({ ok: true, value: Date.UTC(2028, 1, 29, 23, 59, 59, 999) });
    // +14:00 is the largest offset in use: 2026-05-01T00:00+14:00 is 2026-04-30T10:00Z.
    expect(Instant.parse("2026-05-01T00:00+14:00", offset)).toEqual({ ok: true, value: Date.UTC(2026, 3, 30, 10) });
  });

  it("refuses year 0000 and other years no store can hold, outside the absolute bounds", () => {
    const result = Instant.parse("0000-01-01T00:00:00Z", offset);
    expect(result).toEqual({ ok: false, message: "0000-01-01T00:00:00Z is outside the accepted range 1970-01-01T00:00:00Z to 2262-04-11T23:47:16Z" });
    expect(Instant.parseMonth("0000-01").ok).toBe(false);
  });

  it("asks for Z where only UTC is taken and for a zone where an offset is needed", () => {
    expect(Instant.parse("2026-05-01T00:00:00-06:00", utc)).toMatchObject({ ok: false, message: expect.stringContaining("must be in UTC") });
    expect(Instant.parse("2026-05-01T00:00:00", offset)).toMatchObject({ ok: false, message: expect.stringContaining("needs a zone") });
  });
});

describe("Instant.parse: wall-clock times in the factory's zone", () => {
  it("reads a zone-less spreadsheet time as Monterrey wall clock (UTC-6 all year since 2022)", () => {
    // 03:00 at UTC-6 is 09:00Z, the same local day.
    const result = Instant.parse("2026-10-06 03:00", wallClock("America/Monterrey"));
    expect(result).toEqual({ ok: true, value: Date.UTC(2026, 9, 6, 9) });
    expect(Time.localDate(Date.UTC(2026, 9, 6, 9), "America/Monterrey")).toBe("2026-10-06");
  });

  it("moves a time in the spring-forward gap forward by the gap (Tijuana, 8 March 2026)", () => {
    // Clocks jump 02:00 PST → 03:00 PDT at 10:00Z; 02:30 does not exist and becomes 03:30 PDT = 10:30Z.
    expect(Instant.parse("2026-03-08T02:30", wallClock("America/Tijuana"))).toEqual({ ok: true, value: Date.UTC(2026, 2, 8, 10, 30) });
  });

  it("takes the earlier of an ambiguous time (Tijuana, 1 November 2026)", () => {
    // 01:30 happens twice: first in PDT (UTC-7) = 08:30Z, then in PST (UTC-8) = 09:30Z; the first is taken.
    expect(Instant.parse("2026-11-01T01:30", wallClock("America/Tijuana"))).toEqual({ ok: true, value: Date.UTC(2026, 10, 1, 8, 30) });
  });
});

describe("Reading.validate: the readings window", () => {
  const reading = (start: string) => ({ meterId, start, seconds: 300, kwh: 1 });

  it("refuses readings from year 0000 and 1900 and from before the window, each with its path", () => {
    for (const start of ["0000-01-01T00:00:00Z", "1900-01-01T00:00:00Z", "2021-11-30T07:55:00Z"]) {
      const result = Reading.validate(reading(start), now, ["readings", 3]);
      expect(result).toMatchObject({ ok: false, problems: [{ path: "readings.3.start" }] });
    }
  });

  it("takes the oldest and the newest reading the window allows", () => {
    // Window: now − 5 years = 2021-11-30T08:00Z … now + 600 s; the newest 5-minute interval ends at 08:10Z.
    expect(readingWindow.pastYears).toBe(5);
    expect(Reading.validate(reading("2021-11-30T08:00:00Z"), now).ok).toBe(true);
    expect(Reading.validate(reading("2026-11-30T08:05:00Z"), now).ok).toBe(true);
    expect(Reading.validate(reading("2026-11-30T08:10:00Z"), now)).toMatchObject({
      ok: false,
      problems: [{ message: expect.stringContaining("ends in the future") }],
    });
  });

  it("names an impossible start by its path", () => {
    expect(Reading.validate(reading("2026-04-31T00:00:00Z"), now, ["readings", 0])).toEqual({
      ok: false,
      problems: [{ path: "readings.0.start", message: "start 2026-04-31 is not a date: April 2026 has 30 days" }],
    });
  });
});

describe("Reading.decodeRecord: the consumer reads stream records with the same parser", () => {
  it("rejects a record whose reading starts on 2026-04-31 by the reading's path, and takes 2026-05-01", () => {
    const record = (start: string) =>
      new TextEncoder().encode(
        JSON.stringify({ v: 1, deviceId: "dev_01jtest0000000000000000000", via: "kinesis", reading: { meterId, start, seconds: 300, kwh: 1 } }),
      );
    expect(Reading.decodeRecord(record("2026-04-31T00:00:00Z"), now)).toEqual({
      ok: false,
      problems: [{ path: "reading.start", message: "start 2026-04-31 is not a date: April 2026 has 30 days" }],
    });
    expect(Reading.decodeRecord(record("0000-01-01T00:00:00Z"), now)).toMatchObject({ ok: false, problems: [{ path: "reading.start" }] });
    expect(Reading.decodeRecord(record("2026-05-01T00:00:00Z"), now).ok).toBe(true);
  });
});

describe("Flux.time", () => {
  it("refuses impossible instants instead of rolling them into the next month", () => {
    expect(() => Flux.time("2026-02-30T00:00:00Z")).toThrow("February 2026 has 28 days");
    expect(() => Flux.time("2026-03-01T24:00:00Z")).toThrow(Flux.FluxError);
    expect(() => Flux.time("0000-01-01T00:00:00Z")).toThrow(Flux.FluxError);
  });
});

describe("the lake range comes from the readings window", () => {
  it("projects exactly the days ingest accepts: a day inside the range is taken, a day before it refused", () => {
    // Athena reads "NOW-<n>YEARS,NOW+1DAYS"; the readings window must reach back the same n years.
    const years = Number(/^NOW-(\d+)YEARS,NOW\+1DAYS$/.exec(Instant.lakeRange.athena)?.[1]);
    const edge = new Date(now);
    edge.setUTCFullYear(edge.getUTCFullYear() - years);
    const start = (ms: number) => ({ meterId, start: Instant.format(Math.floor(ms / 300_000) * 300_000), seconds: 300, kwh: 1 });
    expect(Reading.validate(start(edge.getTime() + 86_400_000), now).ok).toBe(true);
    expect(Reading.validate(start(edge.getTime() - 86_400_000), now).ok).toBe(false);
  });
});
