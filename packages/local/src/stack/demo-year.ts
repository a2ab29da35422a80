/**
 * The demo factory's year, generated (pure and seeded: the same range gives the same figures on every
 * machine): every meter's 5-minute readings from the first day of the month twelve months back up to
 * the end of the range, and each production line's units per day. The plant is a plastics-parts plant
 * in Hermosillo (America/Hermosillo, no clock changes): injection and extrusion run three shifts Monday
 * to Saturday, assembly and paint two shifts on weekdays and Saturday mornings, compressors and utilities
 * follow the heat. Named events make the year worth looking at: a weekend maintenance shutdown, a month of
 * heavy punta use (a rush order run into the evening), a power-factor dip (a capacitor bank out of service)
 * and one afternoon when every line ran at once, near contracted demand. LFT holidays and Sundays idle.
 */
import { intervalSeconds } from "@wattflow/core/config";
import type { Reading } from "@wattflow/core/reading";
import { Tariff } from "@wattflow/core/tariff";
import { Holidays } from "@wattflow/core/tariff/holidays";
import { toLocal } from "@wattflow/core/tariff/periods";

export type YearMeter = { meterId: string; line: string };

/** Each demo line's rated load (kW), share of rated drawn while running, power factor, and kWh per unit made (null: not a production line). */
export const demoLines = [
  { line: "Injection", ratedKw: 420, running: 0.8, pf: 0.965, kwhPerUnit: 0.42 },
  { line: "Extrusion", ratedKw: 310, running: 0.75, pf: 0.96, kwhPerUnit: 1.9 },
  { line: "Assembly", ratedKw: 150, running: 0.8, pf: 0.97, kwhPerUnit: 0.11 },
  { line: "Compressors", ratedKw: 260, running: 0.7, pf: 0.955, kwhPerUnit: null },
  { line: "Paint", ratedKw: 180, running: 0.8, pf: 0.965, kwhPerUnit: 0.27 },
  { line: "Utilities", ratedKw: 90, running: 0.5, pf: 0.955, kwhPerUnit: null },
] as const;

/** The demo's contracted demand (kW): a 1.2–1.3 MW plant contracts headroom above its usual peak. */
export const contractedDemandKw = 1500;
/** The 15 minutes when every line ran at once: total demand aimed at, kW (97 % of contracted). */
export const peakTargetKw = 1455;

export type Events = {
  /** Local date (YYYY-MM-DD) of the Saturday of the maintenance weekend: Friday 22:00 to Monday 06:00 nearly everything is off. */
  shutdownSaturday: string;
  /** Local month (YYYY-MM) of the rush order: the lines run through punta. */
  heavyPuntaMonth: string;
  /** Local month of the capacitor bank failure: the plant's power factor falls near 0.8. */
  powerFactorDipMonth: string;
  /** Local start (YYYY-MM-DDTHH:mm) of the 15 minutes with every line at full load. */
  peakStart: string;
};

export type Plan = {
  /** [from, to) in epoch ms, on the 5-minute grid. */
  from: number;
  to: number;
  timeZone: string;
  meters: readonly YearMeter[];
  /** The factory's tariff: periods decide where the plant avoids (or, in the rush month, uses) punta. */
  tariff: Exclude<Tariff.Definition, { kind: "flat" }>;
  events: Events;
};

const step = intervalSeconds * 1000;
const pad = (value: number) => String(value).padStart(2, "0");
const monthKey = (year: number, month: number) => `${year}-${pad(month)}`;

/**
 * The year's range and events for a demo seeded at `now`: from the local first of the month twelve
 * months before `now`'s (thirteen calendar months with the current one) to `now` floored to the grid.
 * Events fall in closed months: the shutdown in the 3rd, the PF dip in the 6th, the punta rush in the
 * 8th, the peak on a weekday in the hottest closed month (July when the range has it).
 */
export function planFor(now: Date, timeZone: string, meters: readonly YearMeter[], tariff: Plan["tariff"]): Plan {
  const local = toLocal(now.getTime(), timeZone);
  const months: { year: number; month: number }[] = [];
  for (let back = 12; back >= 0; back--) {
    const index = local.year * 12 + (local.month - 1) - back;
    months.push({ year: Math.floor(index / 12), month: (index % 12) + 1 });
  }
  const first = months[0] as { year: number; month: number };
  const from = localMidnight(first.year, first.month, 1, timeZone);
  const at = (index: number) => months[index] as { year: number; month: number };
  const shutdownMonth = at(2);
  const july = months.slice(0, 12).find((month) => month.month === 7) ?? at(9);
  // The second Saturday of the shutdown month; a Wednesday in the middle of the hottest month.
  const firstDay = new Date(Date.UTC(shutdownMonth.year, shutdownMonth.month - 1, 1)).getUTCDay();
  const saturday = 1 + ((6 - firstDay + 7) % 7) + 7;
  const julyFirst = new Date(Date.UTC(july.year, july.month - 1, 1)).getUTCDay();
  const wednesday = 1 + ((3 - julyFirst + 7) % 7) + 14;
  return {
    from,
    to: Math.floor(now.getTime() / step) * step,
    timeZone,
    meters,
    tariff,
    events: {
      shutdownSaturday: `${shutdownMonth.year}-${pad(shutdownMonth.month)}-${pad(saturday)}`,
      powerFactorDipMonth: monthKey(at(5).year, at(5).month),
      heavyPuntaMonth: monthKey(at(7).year, at(7).month),
      peakStart: `${july.year}-${pad(july.month)}-${pad(wednesday)}T15:30`,
    },
  };
}

/** UTC ms of local midnight of a date in `timeZone` (two passes settle a clock change). */
function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  let guess = Date.UTC(year, month - 1, day);
  for (let pass = 0; pass < 2; pass++) {
    const local = toLocal(guess, timeZone);
    const shown = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
    guess += Date.UTC(year, month - 1, day) - shown;
  }
  return guess;
}

/** A uniform number in [0, 1) from integers, stable across runs and machines. */
function noise(...keys: number[]): number {
  let state = 0x9e3779b9;
  for (const key of keys) state = Math.imul(state ^ (key | 0), 0x85ebca6b) ^ (state >>> 13);
  state = (state + 0x6d2b79f5) | 0;
  let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
  mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
}

type Line = (typeof demoLines)[number];

/** Summer weight 0 (late January) … 1 (late July): Hermosillo's heat drives compressors and cooling. */
function summer(local: { year: number; month: number; day: number }): number {
  const dayOfYear = (Date.UTC(local.year, local.month - 1, local.day) - Date.UTC(local.year, 0, 1)) / 86_400_000;
  return 0.5 - 0.5 * Math.cos((2 * Math.PI * (dayOfYear - 20)) / 365);
}

type Day = "work" | "saturday" | "idle" | "shutdown";

/** The share of its rated load a line draws at a local hour of a kind of day, before season and noise. */
function share(line: Line, day: Day, hour: number): number {
  const running = line.running;
  if (day === "shutdown") return line.line === "Utilities" ? 0.3 : 0.03;
  switch (line.line) {
    case "Injection":
    case "Extrusion":
      // Three shifts Monday to Saturday, barrels kept warm on idle days.
      return day === "idle" ? 0.1 : day === "saturday" && hour >= 22 ? 0.1 : running;
    case "Assembly":
    case "Paint": {
      const shift = day === "work" ? hour >= 6 && hour < 22 : day === "saturday" && hour >= 6 && hour < 14;
      if (!shift) return 0.05;
      return hour >= 13 && hour < 14 ? running * 0.6 : running;
    }
    case "Compressors":
      return day === "idle" ? 0.2 : hour >= 6 && hour < 22 ? running : running * 0.75;
    case "Utilities":
      return running + (hour >= 7 && hour < 19 ? 0.15 : 0);
  }
}

/** What each meter reads in one slot: a row of `Reading.Input` per meter. */
export type Slot = { start: Date; readings: Reading.Input[] };

/**
 * Every slot of the plan in time order, in chunks of `slotsPerChunk` slots (all meters of a slot
 * together), so a loader can store a chunk, yield, and go on.
 */
export function* slots(plan: Plan, slotsPerChunk: number): Generator<Slot[]> {
  const peakLocal = plan.events.peakStart;
  let chunk: Slot[] = [];
  for (let ms = plan.from; ms < plan.to; ms += step) {
    chunk.push(slotAt(plan, ms, peakLocal));
    if (chunk.length >= slotsPerChunk) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

function dayKind(plan: Plan, local: { year: number; month: number; day: number; hour: number }, weekday: number): Day {
  const saturday = plan.events.shutdownSaturday;
  const shutdownFrom = Date.parse(`${saturday}T00:00:00Z`) - 2 * 3_600_000; // Friday 22:00
  const shutdownTo = Date.parse(`${saturday}T00:00:00Z`) + 2 * 86_400_000 + 6 * 3_600_000; // Monday 06:00
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour);
  if (wall >= shutdownFrom && wall < shutdownTo) return "shutdown";
  if (weekday === 0 || Holidays.on("mx-lft74", local.year, local.month, local.day) !== null) return "idle";
  return weekday === 6 ? "saturday" : "work";
}

function slotAt(plan: Plan, ms: number, peakLocal: string): Slot {
  const local = toLocal(ms, plan.timeZone);
  const weekday = new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay();
  const day = dayKind(plan, local, weekday);
  const month = monthKey(local.year, local.month);
  const heat = summer(local);
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const peakFrom = Date.parse(`${peakLocal}:00Z`);
  const inPeak = wall >= peakFrom && wall < peakFrom + 15 * 60_000;
  const nearPeak = !inPeak && wall >= peakFrom - 45 * 60_000 && wall < peakFrom + 60 * 60_000;
  // Punta is costly: paint and assembly wait it out, except in the rush month when they run through it.
  const punta = day !== "shutdown" && periodAt(plan, ms) === "punta";
  const rush = month === plan.events.heavyPuntaMonth;
  const dip = month === plan.events.powerFactorDipMonth;
  const slotIndex = Math.floor(ms / step);

  const kw = demoLines.map((line, index) => {
    let fraction = share(line, day, local.hour);
    if (punta && rush) fraction = Math.min(0.92, Math.max(fraction, line.running) * 1.1);
    else if (punta) fraction *= line.line === "Paint" || line.line === "Assembly" ? 0.45 : line.line === "Utilities" ? 1 : 0.85;
    const season = line.line === "Compressors" || line.line === "Utilities" ? 1 + 0.45 * heat : 1 + 0.06 * heat;
    const jitter = 1 + 0.1 * (noise(index + 1, slotIndex, 1) - 0.5);
    return line.ratedKw * fraction * season * jitter;
  });
  if (inPeak || nearPeak) {
    // Every line at once on the hottest afternoon: the 15 minutes that set the year's demand.
    const total = kw.reduce((sum, value) => sum + value, 0);
    const target = inPeak ? peakTargetKw * (1 + 0.004 * (noise(7, slotIndex, 2) - 0.5)) : 1310;
    for (let index = 0; index < kw.length; index++) kw[index] = ((kw[index] as number) * target) / total;
  }
  const start = new Date(ms);
  const hours = intervalSeconds / 3600;
  const readings = plan.meters.map((meter, index): Reading.Input => {
    const line = demoLines[index % demoLines.length] as Line;
    const kwAvg = kw[index % demoLines.length] as number;
    // The capacitor bank out of service: motors' reactive power no longer compensated.
    const basePf = dip ? (({ Compressors: 0.7, Injection: 0.79, Extrusion: 0.8 } as Record<string, number>)[line.line] ?? line.pf - 0.02) : line.pf;
    const pf = Math.min(0.99, basePf + 0.02 * (noise(index + 11, Math.floor(slotIndex / 12), 3) - 0.5));
    const kwh = kwAvg * hours;
    const voltage = 480 * (0.985 + 0.03 * noise(index + 21, slotIndex, 4));
    return {
      meterId: meter.meterId,
      start: start.toISOString(),
      seconds: intervalSeconds,
      kwh: round(kwh, 4),
      kvarh: round(kwh * Math.tan(Math.acos(pf)), 4),
      kwAvg: round(kwAvg, 3),
      kwMax: round(kwAvg * (1.02 + 0.06 * noise(index + 31, slotIndex, 5)), 3),
      pf: round(pf, 3),
      voltage: round(voltage, 1),
      current: round((kwAvg * 1000) / (Math.sqrt(3) * voltage * pf), 1),
    };
  });
  return { start, readings };
}

const periodCache = new WeakMap<Plan, Map<number, string>>();

/** The slot's time-of-use period; cached per local hour, as CFE's bands change on the hour. */
function periodAt(plan: Plan, ms: number): string {
  let cache = periodCache.get(plan);
  if (!cache) {
    cache = new Map();
    periodCache.set(plan, cache);
  }
  const hourKey = Math.floor(ms / 3_600_000);
  let period = cache.get(hourKey);
  if (period === undefined) {
    period = Tariff.periodAt(plan.tariff, new Date(ms), plan.timeZone).period;
    cache.set(hourKey, period);
  }
  return period;
}

/**
 * Units each production line made per local day: its energy above the idle draw divided by the line's
 * kWh per unit, with ±4 % of day-to-day scrap and speed; idle days make 0 units (idle consumption).
 * Accumulated while the slots are generated: pass each chunk, then read `rows()`.
 */
export class ProductionTally {
  private readonly kwh = new Map<string, number>();
  constructor(private readonly plan: Plan) {}

  add(chunk: readonly Slot[]): void {
    for (const slot of chunk) {
      const local = toLocal(slot.start.getTime(), this.plan.timeZone);
      const date = `${local.year}-${pad(local.month)}-${pad(local.day)}`;
      slot.readings.forEach((reading, index) => {
        const line = demoLines[index % demoLines.length] as Line;
        if (line.kwhPerUnit === null) return;
        // Above the idle draw (barrels warm, lights): the energy that made parts.
        const idle = line.ratedKw * (line.line === "Injection" || line.line === "Extrusion" ? 0.1 : 0.05) * (intervalSeconds / 3600);
        const key = `${date}|${line.line}`;
        this.kwh.set(key, (this.kwh.get(key) ?? 0) + Math.max(0, reading.kwh - idle * 1.1));
      });
    }
  }

  /** `date,line,units` rows, one per line per local day (whole days of the plan only). */
  rows(): { date: string; line: string; units: number }[] {
    const last = toLocal(this.plan.to, this.plan.timeZone);
    const today = `${last.year}-${pad(last.month)}-${pad(last.day)}`;
    const rows: { date: string; line: string; units: number }[] = [];
    for (const [key, kwh] of this.kwh) {
      const [date, lineName] = key.split("|") as [string, string];
      if (date >= today) continue;
      const line = demoLines.find((candidate) => candidate.line === lineName) as Line;
      const dayIndex = Date.parse(`${date}T00:00:00Z`) / 86_400_000;
      const units = kwh < 50 ? 0 : Math.round((kwh / (line.kwhPerUnit as number)) * (0.96 + 0.08 * noise(dayIndex, line.ratedKw, 6)));
      rows.push({ date, line: lineName, units });
    }
    return rows.sort((a, b) => a.date.localeCompare(b.date) || a.line.localeCompare(b.line));
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
