/**
 * Time-of-use classification (pure): which season, day type and period a local time falls in, and a
 * per-15-minute cache that maps instants to periods in a factory's IANA zone. Periods change on whole
 * quarters of local hours and every current UTC offset is a multiple of 15 minutes, so one lookup per
 * UTC quarter-hour is exact.
 */

import { type Local, offsetAt, toLocal } from "../time";
import type { DateRule, Season, TimeOfUse } from "./definition";
import { Holidays } from "./holidays";

export * as Periods from "./periods";

export type DayType = "weekday" | "saturday" | "sunday";
export type Classification = { period: string; demandPeriod: string; season: string; dayType: DayType; holiday: string | null };

const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;
const SLOTS_PER_DAY = 96;
/** Codes pack the energy period index and the demand period index: energy + 64 · demand. */
export const DEMAND_SHIFT = 64;

/** The day of the month a date rule falls on in `year`. */
export function dayOf(rule: DateRule, year: number): number {
  return "day" in rule ? rule.day : Holidays.nthWeekday(year, rule.month, rule.weekday, rule.nth);
}

type Day = { season: Season; dayType: DayType; holiday: string | null; codes: Uint16Array };

/** A tariff's seasons, day types, holidays and bands, with no time zone: classifies local times. */
export class Schedule {
  readonly periods: string[] = [];
  readonly demandPeriods: string[] = [];
  private readonly days = new Map<number, Day>();
  private readonly starts = new Map<number, { key: number; season: Season }[]>();

  constructor(private readonly tou: Pick<TimeOfUse, "seasons" | "holidays">) {
    for (const season of tou.seasons)
      for (const bands of [season.weekday, season.saturday, season.sunday])
        for (const band of bands) {
          if (!this.periods.includes(band.period)) this.periods.push(band.period);
          const demand = band.demand ?? band.period;
          if (!this.demandPeriods.includes(demand)) this.demandPeriods.push(demand);
        }
    // A stable order for bills and summaries: base, intermedia, punta; p0, p1, p2…
    const order = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
    this.periods.sort(order);
    this.demandPeriods.sort(order);
  }

  /** Season starts of a year, in date order (key = month · 100 + day). */
  private seasonStarts(year: number) {
    let found = this.starts.get(year);
    if (!found) {
      found = this.tou.seasons.map((season) => ({ key: season.starts.month * 100 + dayOf(season.starts, year), season })).sort((a, b) => a.key - b.key);
      this.starts.set(year, found);
    }
    return found;
  }

  seasonOn(year: number, month: number, day: number): Season {
    const key = month * 100 + day;
    const starts = this.seasonStarts(year);
    let season = (starts[starts.length - 1] as (typeof starts)[number]).season;
    for (const start of starts) if (start.key <= key) season = start.season;
    return season;
  }

  /** Season, day type, holiday and the period codes of each local quarter-hour of a local date. */
  day(year: number, month: number, day: number): Day {
    const key = (year * 100 + month) * 100 + day;
    let found = this.days.get(key);
    if (!found) {
      const season = this.seasonOn(year, month, day);
      const holiday = Holidays.on(this.tou.holidays, year, month, day);
      const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
      const dayType: DayType = holiday !== null || weekday === 0 ? "sunday" : weekday === 6 ? "saturday" : "weekday";
      const codes = new Uint16Array(SLOTS_PER_DAY);
      for (const band of season[dayType]) {
        const code = this.periods.indexOf(band.period) + DEMAND_SHIFT * this.demandPeriods.indexOf(band.demand ?? band.period);
        codes.fill(code, band.from * 4, band.to * 4);
      }
      found = { season, dayType, holiday, codes };
      this.days.set(key, found);
    }
    return found;
  }

  /** The classification of a local wall time. */
  classify(local: Local): Classification {
    const day = this.day(local.year, local.month, local.day);
    const code = day.codes[local.hour * 4 + Math.floor(local.minute / 15)] as number;
    return {
      period: this.periods[code % DEMAND_SHIFT] as string,
      demandPeriod: this.demandPeriods[Math.floor(code / DEMAND_SHIFT)] as string,
      season: day.season.name,
      dayType: day.dayType,
      holiday: day.holiday,
    };
  }
}

/** Period codes and local months of consecutive UTC quarter-hours from `origin`. */
export type Table = { origin: number; codes: Uint16Array; months: Int32Array };

/** A schedule read in one IANA zone, cached per UTC day: instants → period codes. */
export class Calendar {
  private readonly days = new Map<number, { codes: Uint16Array; months: Int32Array }>();

  constructor(
    readonly schedule: Schedule,
    readonly timeZone: string,
  ) {
    // An unknown zone fails here (TimeZoneError), not at the first lookup.
    offsetAt(0, timeZone);
  }

  /** The UTC day's 96 quarter-hour codes and local months (year · 12 + month − 1). */
  day(dayIndex: number): { codes: Uint16Array; months: Int32Array } {
    let found = this.days.get(dayIndex);
    if (!found) {
      const start = dayIndex * DAY_MS;
      const first = offsetAt(start, this.timeZone);
      const steady = first === offsetAt(start + DAY_MS - QUARTER_MS, this.timeZone);
      const codes = new Uint16Array(SLOTS_PER_DAY);
      const months = new Int32Array(SLOTS_PER_DAY);
      for (let slot = 0; slot < SLOTS_PER_DAY; slot++) {
        const ms = start + slot * QUARTER_MS;
        const local = new Date(ms + (steady ? first : offsetAt(ms, this.timeZone)));
        const year = local.getUTCFullYear();
        const month = local.getUTCMonth() + 1;
        const day = this.schedule.day(year, month, local.getUTCDate());
        codes[slot] = day.codes[local.getUTCHours() * 4 + Math.floor(local.getUTCMinutes() / 15)] as number;
        months[slot] = year * 12 + month - 1;
      }
      found = { codes, months };
      this.days.set(dayIndex, found);
    }
    return found;
  }

  /** The period code of the quarter-hour holding instant `ms`. */
  codeAt(ms: number): number {
    const quarter = Math.floor(ms / QUARTER_MS);
    const dayIndex = Math.floor(quarter / SLOTS_PER_DAY);
    return this.day(dayIndex).codes[quarter - dayIndex * SLOTS_PER_DAY] as number;
  }

  /**
   * The energy and demand periods of instant `ms`, as `classify` gives them, from the cached quarter-hour codes
   * instead of a local time worked out per call (for loops over a month of slots: a statement, a close).
   */
  periodsAt(ms: number): { period: string; demandPeriod: string } {
    const code = this.codeAt(ms);
    return {
      period: this.schedule.periods[code % DEMAND_SHIFT] as string,
      demandPeriod: this.schedule.demandPeriods[Math.floor(code / DEMAND_SHIFT)] as string,
    };
  }

  /** The local month key (year · 12 + month − 1) of instant `ms`. */
  monthAt(ms: number): number {
    const quarter = Math.floor(ms / QUARTER_MS);
    const dayIndex = Math.floor(quarter / SLOTS_PER_DAY);
    return this.day(dayIndex).months[quarter - dayIndex * SLOTS_PER_DAY] as number;
  }

  /** Codes and months of every quarter-hour in [from, to): the bulk paths index it by (ms − origin) / 900,000. */
  table(from: number, to: number): Table {
    const origin = Math.floor(from / QUARTER_MS) * QUARTER_MS;
    const count = Math.max(0, Math.ceil((to - origin) / QUARTER_MS));
    const codes = new Uint16Array(count);
    const months = new Int32Array(count);
    for (let at = 0; at < count; ) {
      const quarter = origin / QUARTER_MS + at;
      const dayIndex = Math.floor(quarter / SLOTS_PER_DAY);
      const offset = quarter - dayIndex * SLOTS_PER_DAY;
      const take = Math.min(SLOTS_PER_DAY - offset, count - at);
      const day = this.day(dayIndex);
      codes.set(day.codes.subarray(offset, offset + take), at);
      months.set(day.months.subarray(offset, offset + take), at);
      at += take;
    }
    return { origin, codes, months };
  }

  /** The classification of instant `ms`, with its local time. */
  classify(ms: number): Classification & { local: Local } {
    const local = toLocal(ms, this.timeZone);
    return { ...this.schedule.classify(local), local };
  }
}

const localPattern = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?)?$/;

/** A local date or wall time written `YYYY-MM-DD[THH:MM[:SS]]`, or null when it is not a real one (2026-02-30, 24:10). */
export function parseLocal(value: string): Local | null {
  const match = localPattern.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return { year, month, day, hour, minute };
}

/** An ISO 8601 instant with `Z` or an offset, in epoch ms, or null when it is not a real one. */
export function parseInstant(value: string): number | null {
  const match = /^(.+?)(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!match?.[1]?.includes("T") || !parseLocal(match[1])) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
