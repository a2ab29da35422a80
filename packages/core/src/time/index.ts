/**
 * The one time module (pure: no I/O, no clock, no Node import, so the console imports it too): a zone's offset,
 * an instant's local wall time and date, a wall-clock time as an instant, a local day's first instant, offset spans
 * over a range, and a period of local dates' last day and day count. Instants are epoch ms in UTC; local time only
 * through an IANA zone; a period of local dates is [start, end) written YYYY-MM-DD, as CFE prints a billing period
 * ("28 FEB 26 – 31 MAR 26": the next period starts on the 31st).
 */
import { WattflowError } from "../util/error";

export * as Time from "./index";

/** A local wall time (no zone). */
export type Local = { year: number; month: number; day: number; hour: number; minute: number };
/** A local calendar date. */
export type LocalDate = { year: number; month: number; day: number };
/** Local dates YYYY-MM-DD [start, end): the end is the next period's first day. */
export type DateSpan = { start: string; end: string };

export class TimeZoneError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "time_zone.invalid";
  override readonly name = "TimeZoneError";
}

const DAY_MS = 86_400_000;
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const pad = (value: number) => String(value).padStart(2, "0");

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    try {
      found = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch (error) {
      throw new TimeZoneError(`unknown time zone ${JSON.stringify(timeZone)}: use an IANA zone such as America/Mexico_City`, { cause: error });
    }
    formatters.set(timeZone, found);
  }
  return found;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch (error) {
    if (error instanceof TimeZoneError) return false;
    throw error;
  }
}

/**
 * The zone's UTC offset at instant `ms`, in ms (local = UTC + offset), to the second.
 * @throws TimeZoneError when `timeZone` is not an IANA zone.
 * @example offsetAt(Date.parse("2026-07-01T00:00:00Z"), "America/Tijuana") → -25_200_000 (UTC−07:00)
 */
export function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(whole))) if (part.type !== "literal") parts[part.type] = Number(part.value);
  const local = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return local - whole;
}

/** The local wall time of instant `ms` in `timeZone`. */
export function toLocal(ms: number, timeZone: string): Local {
  const shifted = new Date(ms + offsetAt(ms, timeZone));
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
  };
}

/** A local date as written, `YYYY-MM-DD`. @example dateOf({ year: 2026, month: 3, day: 1 }) → "2026-03-01" */
export function dateOf(date: LocalDate): string {
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

/** The local calendar date (`YYYY-MM-DD`) of instant `ms` in `timeZone`. @example localDate(Date.parse("2026-10-06T05:59:00Z"), "America/Mexico_City") → "2026-10-05" */
export function localDate(ms: number, timeZone: string): string {
  return dateOf(toLocal(ms, timeZone));
}

/**
 * The one wall-clock → instant rule: a wall time (written as if UTC, `wallMs`) on `timeZone`'s clock as an instant.
 * A time the clocks skip (spring forward) moves forward by the gap (02:30 → 03:30), one that happens twice (fall back)
 * is its earlier instant: RFC 5545's and Temporal's "compatible" rule.
 * @example fromWallClock(Date.UTC(2026, 9, 6, 3), "America/Monterrey") → Date.parse("2026-10-06T09:00:00Z")
 */
export function fromWallClock(wallMs: number, timeZone: string): number {
  // The offsets a day before and after bracket any transition near this time.
  const before = offsetAt(wallMs - DAY_MS, timeZone);
  const after = offsetAt(wallMs + DAY_MS, timeZone);
  const valid = [before, after].map((offset) => wallMs - offset).filter((ms) => offsetAt(ms, timeZone) === wallMs - ms);
  // No offset fits: the time is in a gap; the offset before the gap puts it as far after the gap as it was into it.
  return valid.length > 0 ? Math.min(...valid) : wallMs - before;
}

/**
 * The instant of a local wall time (`fromWallClock`), or null when the clocks skip it (spring forward). A time that
 * happens twice (fall back) is its first occurrence.
 */
export function toInstant(local: Local, timeZone: string): number | null {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const ms = fromWallClock(wall, timeZone);
  return ms + offsetAt(ms, timeZone) === wall ? ms : null;
}

/**
 * The first instant of a local date in `timeZone`, epoch ms: its midnight, or, where the clocks skip midnight
 * (America/Santiago, America/Havana and Asia/Beirut spring forward at 00:00; Mexico has had no DST since the 2022
 * Ley de los Husos Horarios, its northern border municipalities follow US DST at 02:00), the first instant whose wall
 * time is at or past it, so the day before ends exactly where this one starts and no instant falls in neither. The one
 * rule for day, month and billing-period bounds (BillingPeriod.range, the bill engine, usage's days, the console).
 * @example dayStart({ year: 2026, month: 9, day: 6 }, "America/Santiago") → Date.parse("2026-09-06T04:00:00Z") (local 01:00)
 */
export function dayStart(date: LocalDate, timeZone: string): number {
  const midnight = toInstant({ ...date, hour: 0, minute: 0 }, timeZone);
  if (midnight !== null) return midnight;
  // Midnight was skipped: the earliest instant whose local wall time is at or past it (wall time only jumps forward here).
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  const reached = (ms: number) => ms + offsetAt(ms, timeZone) >= wall;
  let low = wall - offsetAt(wall - DAY_MS, timeZone) - DAY_MS;
  let high = wall - offsetAt(wall - DAY_MS, timeZone);
  while (!reached(high)) high += 3_600_000;
  while (high - low > 1000) {
    const middle = Math.floor((low + high) / 2000) * 1000;
    if (middle <= low || middle >= high) break;
    if (reached(middle)) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * The first instant (`dayStart`) of the local day that holds instant `ms`, epoch ms.
 * @example startOfDay(Date.parse("2026-09-06T12:00:00Z"), "America/Santiago") → Date.parse("2026-09-06T04:00:00Z")
 */
export function startOfDay(ms: number, timeZone: string): number {
  return dayStart(toLocal(ms, timeZone), timeZone);
}

/**
 * A local date written `YYYY-MM-DD` and real (2026-02-30 refused), or undefined.
 * @example parseDate("2026-04-30") → { year: 2026, month: 4, day: 30 }
 */
export function parseDate(text: string): LocalDate | undefined {
  const match = datePattern.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return { year, month, day };
}

/** `date` as epoch ms of its UTC midnight (calendar arithmetic only), refused when it is not a real date. */
function calendarMs(date: string, what: string): number {
  const local = parseDate(date);
  if (!local) throw new RangeError(`${what} ${JSON.stringify(date)} is not a real date written YYYY-MM-DD`);
  return Date.UTC(local.year, local.month - 1, local.day);
}

/**
 * The calendar date `days` after `date` (YYYY-MM-DD; negative goes back).
 * @throws RangeError when `date` is not a real date written YYYY-MM-DD.
 * @example addDays("2026-03-01", -1) → "2026-02-28"
 */
export function addDays(date: string, days: number): string {
  return new Date(calendarMs(date, "the date") + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * A period's last day (YYYY-MM-DD): the day before its exclusive end, as CFE prints it and the console and the bill PDF
 * show it ("01/10/2026 al 31/10/2026").
 * @throws RangeError when `end` is not a real date written YYYY-MM-DD.
 * @example lastDay({ start: "2026-10-01", end: "2026-11-01" }) → "2026-10-31"
 */
export function lastDay(period: Pick<DateSpan, "end">): string {
  return new Date(calendarMs(period.end, "the period's end") - DAY_MS).toISOString().slice(0, 10);
}

/**
 * A period's length in calendar days, end − start (CFE's "d", the days a bill prints).
 * @throws RangeError when a bound is not a real date written YYYY-MM-DD.
 * @example days({ start: "2026-02-28", end: "2026-03-31" }) → 31
 */
export function days(period: DateSpan): number {
  return Math.round((calendarMs(period.end, "the period's end") - calendarMs(period.start, "the period's start")) / DAY_MS);
}

/**
 * `timeZone`'s UTC offset over [fromMs, toMs) as spans of one offset, in order: each `{ fromMs, offsetMs }` holds
 * until the next span's `fromMs`. Sampled every 6 hours (no zone keeps an offset for less), each change found to
 * the second by bisection; a zone without clock changes in the range (Mexico since 2022) is one span.
 */
export function offsetSpans(fromMs: number, toMs: number, timeZone: string): { fromMs: number; offsetMs: number }[] {
  const spans = [{ fromMs, offsetMs: offsetAt(fromMs, timeZone) }];
  for (let low = fromMs; low < toMs; ) {
    const high = Math.min(low + 6 * 3_600_000, toMs);
    const offsetMs = offsetAt(high, timeZone);
    const last = spans[spans.length - 1] as (typeof spans)[number];
    if (offsetMs !== last.offsetMs && high < toMs) {
      // The first second of the new offset lies in (low, high].
      let before = low;
      let after = high;
      while (after - before > 1000) {
        const middle = Math.floor((before + after) / 2000) * 1000;
        if (middle <= before) break;
        if (offsetAt(middle, timeZone) === offsetMs) after = middle;
        else before = middle;
      }
      spans.push({ fromMs: after, offsetMs });
    }
    low = high;
  }
  return spans;
}
