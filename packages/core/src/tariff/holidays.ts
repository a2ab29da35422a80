/**
 * Holidays that bill as Sundays, computed by rule (pure). Mexico: the mandatory rest days of the
 * Ley Federal del Trabajo, art. 74. Election days (fracción IX) are left out: CFE's schedules do not
 * list them.
 */
export * as Holidays from "./holidays";

export const Rule = ["none", "mx-lft74"] as const;
export type Rule = (typeof Rule)[number];

export type Holiday = { date: string; name: string };

/** The day of the month of the nth `weekday` (0 = Sunday) of a month; nth -1 is the last. */
export function nthWeekday(year: number, month: number, weekday: number, nth: number): number {
  if (nth > 0) {
    const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
    return 1 + ((weekday - first + 7) % 7) + (nth - 1) * 7;
  }
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const last = new Date(Date.UTC(year, month - 1, lastDay)).getUTCDay();
  return lastDay - ((last - weekday + 7) % 7) + (nth + 1) * 7;
}

const pad = (value: number) => String(value).padStart(2, "0");
const iso = (year: number, month: number, day: number) => `${year}-${pad(month)}-${pad(day)}`;

/**
 * Mexico's LFT art. 74 rest days of a year. The moved Mondays apply from 2006 (reform of 17 Jan 2006);
 * the inauguration day is 1 October every six years from 2024 (reform of 30 Sep 2024), 1 December before.
 * @example mexico(2026)[1] → { date: "2026-02-02", name: "Día de la Constitución" }
 */
export function mexico(year: number): Holiday[] {
  const moved = year >= 2006;
  const days: Holiday[] = [
    { date: iso(year, 1, 1), name: "Año Nuevo" },
    { date: iso(year, 2, moved ? nthWeekday(year, 2, 1, 1) : 5), name: "Día de la Constitución" },
    { date: iso(year, 3, moved ? nthWeekday(year, 3, 1, 3) : 21), name: "Natalicio de Benito Juárez" },
    { date: iso(year, 5, 1), name: "Día del Trabajo" },
    { date: iso(year, 9, 16), name: "Día de la Independencia" },
    { date: iso(year, 11, moved ? nthWeekday(year, 11, 1, 3) : 20), name: "Día de la Revolución" },
    { date: iso(year, 12, 25), name: "Navidad" },
  ];
  if (year >= 2024 && (year - 2024) % 6 === 0) days.push({ date: iso(year, 10, 1), name: "Transmisión del Poder Ejecutivo Federal" });
  if (year < 2024 && (2018 - year) % 6 === 0) days.push({ date: iso(year, 12, 1), name: "Transmisión del Poder Ejecutivo Federal" });
  return days.sort((a, b) => a.date.localeCompare(b.date));
}

const byYear = new Map<number, Map<string, string>>();

/** The holiday's name on a local date under `rule`, or null. */
export function on(rule: Rule, year: number, month: number, day: number): string | null {
  if (rule === "none") return null;
  let days = byYear.get(year);
  if (!days) {
    days = new Map(mexico(year).map((holiday) => [holiday.date, holiday.name]));
    byYear.set(year, days);
  }
  return days.get(iso(year, month, day)) ?? null;
}

/** Every holiday of the years [from, to] under `rule`. */
export function list(rule: Rule, from: number, to: number): Holiday[] {
  if (rule === "none") return [];
  const all: Holiday[] = [];
  for (let year = from; year <= to; year++) all.push(...mexico(year));
  return all;
}
