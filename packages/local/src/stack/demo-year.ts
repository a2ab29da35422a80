/**
 * The shape of the demo factory's year (pure): what each of its meters reads in a 5-minute slot, and what
 * each production line makes in a local day, as a function of the slot, the meter and the year's calendar
 * alone, so a restarted load writes exactly what it wrote before (a repeat is a duplicate, never a conflict).
 *
 * What the year holds: summer above winter (cooling and compressors), weekday shifts 06:00–22:00 local with
 * a lunch dip, Saturday mornings, Sundays and LFT art. 74 holidays at base load (Holidays.mexico), one
 * weekend shut down for maintenance, one month of heavy punta use (an evening overtime shift), one month
 * whose motor loads run at a poor power factor (kVArh up, PF < 0.9: CFE's PF surcharge) and, in the
 * summer, 15-minute demand up to ~94 % of the contracted demand.
 */
import { Holidays } from "@wattflow/core/tariff/holidays";
import { round, stableUniform as unit } from "@wattflow/core/util/number";

/** The six lines of the demo factory and the rated load of each line's main meter (kW). */
export const demoLines = ["Injection", "Extrusion", "Assembly", "Compressors", "Paint", "Utilities"] as const;
export const demoRatedKw = [420, 310, 150, 260, 180, 90] as const;
/**
 * Contracted demand (kW). The year's highest 15-minute factory demand is ~1,320 kW (an overtime evening
 * of the heavy-punta month; summer weekdays reach ~1,260): ~94 % of it, the margin a plant engineer keeps.
 */
export const demoContractedDemandKw = 1400;
/** Units each line makes on a full weekday (a demo figure), for energy per unit. */
const unitsPerDay = [5200, 3100, 2400, 0, 2300, 0] as const;

/** Monterrey's clock: UTC−6 all year since Mexico ended daylight saving time (October 2022). */
export const utcOffsetHours = -6;
const hourMs = 3_600_000;
const dayMs = 86_400_000;

/** The year's events, fixed from where the history ends so every demo has them whatever the date. */
export type Calendar = {
  /** The local month (YYYY-MM) with an evening overtime shift through punta. */
  heavyPuntaMonth: string;
  /** The local month whose motor loads run at PF 0.80–0.88. */
  powerFactorDipMonth: string;
  /** The Saturday (YYYY-MM-DD, local) of the weekend the plant shut down for maintenance. */
  shutdownSaturday: string;
};

/** The local month `back` months before the one holding `endMs` (UTC ms), as YYYY-MM. */
function monthBefore(endMs: number, back: number): string {
  const local = new Date(endMs + utcOffsetHours * hourMs);
  const month = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - back, 1));
  return month.toISOString().slice(0, 7);
}

/**
 * The calendar of a history ending at `end`: heavy punta nine months back (a winter month, for a history
 * ending in the autumn), the power-factor dip six months back, the maintenance shutdown on the second Saturday two months back — all inside a 400-day year.
 */
export function calendarOf(end: Date): Calendar {
  const shutdownMonth = monthBefore(end.getTime(), 2);
  const first = new Date(`${shutdownMonth}-01T00:00:00Z`);
  const firstSaturday = 1 + ((6 - first.getUTCDay() + 7) % 7);
  return {
    heavyPuntaMonth: monthBefore(end.getTime(), 9),
    powerFactorDipMonth: monthBefore(end.getTime(), 6),
    shutdownSaturday: `${shutdownMonth}-${String(firstSaturday + 7).padStart(2, "0")}`,
  };
}

export type DayKind = "weekday" | "saturday" | "off";

/** What kind of working day a local date is: Sundays, LFT holidays and the maintenance weekend are off. */
export function dayKind(localDate: string, weekday: number, calendar: Calendar): DayKind {
  const [year, month, day] = localDate.split("-").map(Number) as [number, number, number];
  if (weekday === 0 || Holidays.on("mx-lft74", year, month, day)) return "off";
  // The maintenance weekend: its Saturday is off too (its Sunday always is).
  if (localDate === calendar.shutdownSaturday) return "off";
  return weekday === 6 ? "saturday" : "weekday";
}

/** Summer higher: +8 % in mid-July, −8 % in mid-January (cosine over the local month). */
function season(month: number): number {
  return 1 + 0.08 * Math.cos((2 * Math.PI * (month - 7)) / 12);
}

/** Fraction of rated load at a local hour of a kind of day; `overtime` adds the heavy-punta evening shift. */
function loadFactor(kind: DayKind, hour: number, overtime: boolean): number {
  if (kind === "off") return 0.06;
  if (kind === "saturday") return hour >= 6 && hour < 14 ? 0.5 : 0.06;
  if (hour >= 6 && hour < 22) {
    if (hour >= 13 && hour < 14) return 0.45;
    return overtime && hour >= 18 ? 0.8 * 1.22 : 0.8;
  }
  return 0.08;
}

export type Values = { kwh: number; kvarh: number; kwAvg: number; kwMax: number; pf: number; voltage: number; current: number };

/** Per local day, memoized: the generator asks 288 × 6 times a day. */
type Day = { date: string; kind: DayKind; month: string; season: number };
const dayCache = new Map<number, Day>();

function dayOf(localDayStartMs: number, calendar: Calendar): Day {
  let day = dayCache.get(localDayStartMs);
  if (!day) {
    const date = new Date(localDayStartMs);
    const iso = date.toISOString().slice(0, 10);
    day = { date: iso, kind: dayKind(iso, date.getUTCDay(), calendar), month: iso.slice(0, 7), season: season(date.getUTCMonth() + 1) };
    if (dayCache.size > 1000) dayCache.clear();
    dayCache.set(localDayStartMs, day);
  }
  return day;
}

/**
 * What meter `index` (0–5, of demoLines) reads in the 5-minute slot starting at `startMs` (UTC ms), in
 * kWh, kVArh, kW, volts and amperes.
 */
export function reading(index: number, startMs: number, calendar: Calendar): Values {
  const localMs = startMs + utcOffsetHours * hourMs;
  const day = dayOf(localMs - (((localMs % dayMs) + dayMs) % dayMs), calendar);
  const hour = (((localMs % dayMs) + dayMs) % dayMs) / hourMs;
  const seed = index + 1;
  const slot = Math.floor(startMs / 1000);
  const overtime = day.month === calendar.heavyPuntaMonth && day.kind === "weekday";
  const kwAvg = (demoRatedKw[index] ?? 100) * loadFactor(day.kind, hour, overtime) * day.season * (0.92 + 0.16 * unit(seed, slot, 1));
  const dip = day.month === calendar.powerFactorDipMonth;
  const hourly = unit(seed, Math.floor(slot / 3600), 2);
  const pf = dip ? 0.8 + 0.08 * hourly : 0.93 + 0.05 * hourly;
  const kwh = kwAvg / 12;
  const voltage = 13_200 * (0.98 + 0.04 * unit(seed, slot, 3));
  return {
    kwh: round(kwh, 4),
    kvarh: round(kwh * Math.tan(Math.acos(pf)), 4),
    kwAvg: round(kwAvg, 3),
    kwMax: round(kwAvg * (1.03 + 0.1 * unit(seed, slot, 4)), 3),
    pf: round(pf, 3),
    voltage: round(voltage, 1),
    current: round((kwAvg * 1000) / (Math.sqrt(3) * voltage * pf), 2),
  };
}

/**
 * Units each producing line made on each local date in [fromDate, toDate] (YYYY-MM-DD, inclusive), as
 * production import rows (`date,line,units`). Lines without output (compressors, utilities) are left out.
 */
export function production(fromDate: string, toDate: string, calendar: Calendar): { date: string; line: string; units: number }[] {
  const rows: { date: string; line: string; units: number }[] = [];
  for (let ms = Date.parse(`${fromDate}T00:00:00Z`); ms <= Date.parse(`${toDate}T00:00:00Z`); ms += dayMs) {
    const day = dayOf(ms, calendar);
    const share = day.kind === "weekday" ? (day.month === calendar.heavyPuntaMonth ? 1.12 : 1) : day.kind === "saturday" ? 0.35 : 0;
    if (share === 0) continue;
    demoLines.forEach((line, index) => {
      const full = unitsPerDay[index] ?? 0;
      if (full > 0) rows.push({ date: day.date, line, units: Math.round(full * share * day.season * (0.94 + 0.12 * unit(index + 1, ms / 1000, 5))) });
    });
  }
  return rows;
}
