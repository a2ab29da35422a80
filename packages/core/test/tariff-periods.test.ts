import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Cfe } from "../src/tariff/cfe";
import { Holidays } from "../src/tariff/holidays";
import { type CfeZone, Tariff } from "../src/tariff/index";
import { Calendar, Schedule } from "../src/tariff/periods";
import { toInstant, toLocal } from "../src/time";

const schedule = (zone: CfeZone) => new Schedule({ seasons: Cfe.seasons("cfe-gdmth", zone), holidays: "mx-lft74" });
const local = (text: string) => {
  const [date, time = "00:00"] = text.split("T") as [string, string?];
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const [hour, minute] = time.split(":").map(Number) as [number, number];
  return { year, month, day, hour, minute };
};
const periodAt = (zone: CfeZone, text: string) => schedule(zone).classify(local(text));

/**
 * The reference table of ../shared/reference/cfe-gdmth.md, written out again on its own: one letter
 * per hour (B, I, P) for weekday / Saturday / Sunday-holiday, and the season rule per zone.
 */
const table: Record<CfeZone, { summer: [string, string, string]; winter: [string, string, string]; summerFrom: (year: number) => string }> = {
  central: {
    summer: ["BBBBBBIIIIIIIIIIIIIIPPII", "BBBBBBBIIIIIIIIIIIIIIIII", "BBBBBBBBBBBBBBBBBBBIIIII"],
    winter: ["BBBBBBIIIIIIIIIIIIPPPPII", "BBBBBBBBIIIIIIIIIIIPPIII", "BBBBBBBBBBBBBBBBBBIIIIII"],
    summerFrom: (year) => `${year}-04-${String(Holidays.nthWeekday(year, 4, 0, 1)).padStart(2, "0")}`,
  },
  "baja-california": {
    summer: ["IIIIIIIIIIIIIIPPPPIIIIII", "IIIIIIIIIIIIIIIIIIIIIIII", "IIIIIIIIIIIIIIIIIIIIIIII"],
    winter: ["BBBBBBBBBBBBBBBBBIIIIIBB", "BBBBBBBBBBBBBBBBBBIIIBBB", "BBBBBBBBBBBBBBBBBBBBBBBB"],
    summerFrom: (year) => `${year}-05-01`,
  },
  "baja-california-sur": {
    summer: ["IIIIIIIIIIIIPPPPPPPPPPII", "IIIIIIIIIIIIIIIIIIIPPPII", "IIIIIIIIIIIIIIIIIIIIIIII"],
    winter: ["BBBBBBBBBBBBBBBBBBIIIIBB", "BBBBBBBBBBBBBBBBBBIIIBBB", "BBBBBBBBBBBBBBBBBBBIIBBB"],
    summerFrom: (year) => `${year}-04-${String(Holidays.nthWeekday(year, 4, 0, 1)).padStart(2, "0")}`,
  },
};
const letters: Record<string, string> = { B: "base", I: "intermedia", P: "punta" };

function expected(zone: CfeZone, year: number, month: number, day: number, hour: number): string {
  const date = `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  const winterFrom = `${year}-10-${String(Holidays.nthWeekday(year, 10, 0, -1)).padStart(2, "0")}`;
  const season = date >= table[zone].summerFrom(year) && date < winterFrom ? "summer" : "winter";
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const column = Holidays.on("mx-lft74", year, month, day) !== null || weekday === 0 ? 2 : weekday === 6 ? 1 : 0;
  return letters[table[zone][season][column][hour] as string] as string;
}

describe("time-of-use periods of the CFE GDMTH zones", () => {
  test("every 5-minute slot of 2026 gets exactly one period, the reference table's, in each zone", () => {
    for (const zone of Cfe.zones) {
      // Prepare
      const calendar = new Calendar(schedule(zone), Cfe.timeZones[zone]);
      const from = toInstant(local("2026-01-01T00:00"), Cfe.timeZones[zone]) as number;
      const to = toInstant(local("2027-01-01T00:00"), Cfe.timeZones[zone]) as number;
      const seen = new Map<string, number>();
      // Act
      for (let ms = from; ms < to; ms += 300_000) {
        const at = toLocal(ms, Cfe.timeZones[zone]);
        const period = calendar.schedule.periods[calendar.codeAt(ms) % 64] as string;
        // Assess
        if (period !== expected(zone, at.year, at.month, at.day, at.hour))
          throw new Error(`${zone} ${new Date(ms).toISOString()}: ${period}, expected ${expected(zone, at.year, at.month, at.day, at.hour)}`);
        seen.set(period, (seen.get(period) ?? 0) + 1);
      }
      const slots = [...seen.values()].reduce((sum, count) => sum + count, 0);
      expect(slots).toBe((to - from) / 300_000);
    }
  });

  test("the cached calendar agrees with direct classification at any instant of any year", () => {
    const calendars = Cfe.zones.map((zone) => ({ zone, calendar: new Calendar(schedule(zone), Cfe.timeZones[zone]) }));
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1) / 300_000, max: Date.UTC(2040, 0, 1) / 300_000 }), fc.nat(2), (slot, which) => {
        const { zone, calendar } = calendars[which] as (typeof calendars)[number];
        const ms = slot * 300_000;
        const at = toLocal(ms, Cfe.timeZones[zone]);
        expect(calendar.schedule.periods[calendar.codeAt(ms) % 64]).toBe(expected(zone, at.year, at.month, at.day, at.hour));
      }),
      { numRuns: 3000 },
    );
  });

  test("periodsAt gives classify's energy and demand periods at any 5-minute instant of any year, in each zone", () => {
    const calendars = Cfe.zones.map((zone) => new Calendar(schedule(zone), Cfe.timeZones[zone]));
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1) / 300_000, max: Date.UTC(2040, 0, 1) / 300_000 }), fc.nat(2), (slot, which) => {
        const calendar = calendars[which] as Calendar;
        const { period, demandPeriod } = calendar.classify(slot * 300_000);
        expect(calendar.periodsAt(slot * 300_000)).toEqual({ period, demandPeriod });
      }),
      { numRuns: 3000 },
    );
  });

  test("central's summer starts on the first Sunday of April", () => {
    expect(periodAt("central", "2026-04-04T19:30")).toMatchObject({ period: "punta", season: "winter", dayType: "saturday" });
    expect(periodAt("central", "2026-04-05T19:30")).toMatchObject({ period: "intermedia", season: "summer", dayType: "sunday" });
    expect(periodAt("central", "2026-04-06T20:30")).toMatchObject({ period: "punta", season: "summer", dayType: "weekday" });
    expect(periodAt("central", "2026-04-06T18:30").period).toBe("intermedia");
  });

  test("central's winter starts on the last Sunday of October", () => {
    expect(periodAt("central", "2026-10-23T18:30")).toMatchObject({ period: "intermedia", season: "summer" });
    expect(periodAt("central", "2026-10-24T19:30")).toMatchObject({ period: "intermedia", season: "summer", dayType: "saturday" });
    expect(periodAt("central", "2026-10-25T19:30")).toMatchObject({ season: "winter", dayType: "sunday" });
    expect(periodAt("central", "2026-10-26T18:30")).toMatchObject({ period: "punta", season: "winter" });
  });

  test("a holiday bills as a Sunday", () => {
    expect(periodAt("central", "2026-02-02T19:00")).toMatchObject({ period: "intermedia", dayType: "sunday", holiday: "Día de la Constitución" });
    expect(periodAt("central", "2026-02-03T19:00")).toMatchObject({ period: "punta", dayType: "weekday", holiday: null });
    expect(periodAt("central", "2024-10-01T20:30")).toMatchObject({ period: "intermedia", dayType: "sunday" });
    expect(periodAt("central", "2024-10-08T20:30").period).toBe("punta");
  });

  test("Baja California's periods follow its clock across the US daylight-saving change", () => {
    // Prepare: 17:30 local on a winter weekday is intermedia, 16:30 is base.
    const calendar = new Calendar(schedule("baja-california"), "America/Tijuana");
    const at = (iso: string) => calendar.schedule.periods[calendar.codeAt(Date.parse(iso)) % 64];
    // Act / Assess: the same UTC time of day is 16:30 in PST and 17:30 in PDT.
    expect(at("2026-03-03T00:30:00Z")).toBe("base");
    expect(at("2026-03-10T00:30:00Z")).toBe("intermedia");
    expect(at("2026-10-27T00:30:00Z")).toBe("intermedia");
    expect(at("2026-11-03T00:30:00Z")).toBe("base");
  });

  test("local times the clocks skip do not exist; repeated ones take their first occurrence", () => {
    expect(toInstant(local("2026-03-08T02:30"), "America/Tijuana")).toBeNull();
    expect(new Date(toInstant(local("2026-11-01T01:30"), "America/Tijuana") as number).toISOString()).toBe("2026-11-01T08:30:00.000Z");
    expect(new Date(toInstant(local("2026-11-01T02:30"), "America/Tijuana") as number).toISOString()).toBe("2026-11-01T10:30:00.000Z");
  });

  test("Tariff.periodAt classifies an instant under a definition, in the plan's zone unless told another", () => {
    const definition: Parameters<typeof Tariff.periodAt>[0] = {
      kind: "cfe-gdmth",
      zone: "baja-california",
      prices: [{ fixed: "1", energy: { base: "1", intermedia: "1", punta: "1" }, distribution: "1", capacity: "1" }],
    };
    // 21:30 UTC on Wednesday 1 July 2026 is 14:30 in Tijuana (PDT, summer punta) and 15:30 in Mexico City.
    expect(Tariff.periodAt(definition, new Date("2026-07-01T21:30:00Z"))).toEqual({
      period: "punta",
      demandPeriod: "punta",
      season: "summer",
      dayType: "weekday",
      holiday: null,
    });
    expect(Tariff.periodAt(definition, new Date("2026-07-01T21:30:00Z"), "America/Mexico_City").period).toBe("punta");
    expect(Tariff.periodAt(definition, new Date("2026-07-02T01:30:00Z")).period).toBe("intermedia");
  });

  test("Mexico City has had no daylight-saving time since 2022", () => {
    expect(new Date(toInstant(local("2026-07-01T12:00"), "America/Mexico_City") as number).toISOString()).toBe("2026-07-01T18:00:00.000Z");
    expect(new Date(toInstant(local("2021-07-01T12:00"), "America/Mexico_City") as number).toISOString()).toBe("2021-07-01T17:00:00.000Z");
  });
});
