/**
 * The one parser of dates and instants for every door (reading schema, stream consumer, API query
 * parameters, customer files, the Flux builder). It checks the calendar itself instead of trusting
 * `Date.parse`, which rolls 2026-04-31 into 2026-05-01 and T24:00 into the next day, and it checks
 * the year against a window. Pure: no I/O and no clock (`now` is passed in).
 */
import { z } from "zod";
import { instantBounds, readingWindow } from "../config";
import { fromWallClock } from "../time";

export * as Instant from "./instant";

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };
/** Calendar fields as written, before any zone is applied. */
export type Fields = { year: number; month: number; day: number; hour: number; minute: number; second: number; ms: number };
/** A closed range of instants, epoch ms. */
export type Window = { fromMs: number; toMs: number };
/** How a written time gets its zone: `utc` only `Z`; `offset` a `Z` or `±HH:MM`; `wallClock` none (or one), read in `timeZone`. */
export type Zone = { kind: "utc" } | { kind: "offset" } | { kind: "wallClock"; timeZone: string };

const monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const monthPattern = /^(\d{4})-(\d{2})$/;
const timePattern = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/;
/** UTC offsets in use on Earth run from −12:00 (Baker Island) to +14:00 (Kiribati). */
const minOffsetMinutes = -12 * 60;
const maxOffsetMinutes = 14 * 60;

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(message: string): Result<T> => ({ ok: false, message });

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function checkCalendar(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12) return `month ${String(month).padStart(2, "0")} does not exist (01 to 12)`;
  const last = daysInMonth(year, month);
  if (day < 1 || day > last) {
    const name = monthNames[month - 1] as string;
    return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")} is not a date: ${name} ${year} has ${last} days`;
  }
  return undefined;
}

/**
 * A calendar date `YYYY-MM-DD`, checked day by day (2026-02-29, 2026-04-31 refused).
 * @example Instant.parseDate("2026-04-30") → { ok: true, value: { year: 2026, month: 4, day: 30 } }
 */
export function parseDate(text: string): Result<{ year: number; month: number; day: number }> {
  const match = datePattern.exec(text);
  if (!match) return fail(`${JSON.stringify(text)} is not a date written YYYY-MM-DD`);
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const problem = checkCalendar(year, month, day);
  return problem ? fail(problem) : ok({ year, month, day });
}

/** A month `YYYY-MM` whose year is within `instantBounds` (year 0000 refused). */
export function parseMonth(text: string): Result<{ year: number; month: number }> {
  const match = monthPattern.exec(text);
  if (!match) return fail(`${JSON.stringify(text)} is not a month written YYYY-MM`);
  const [year, month] = match.slice(1).map(Number) as [number, number];
  if (month < 1 || month > 12) return fail(`month ${match[2]} does not exist (01 to 12)`);
  const startMs = Date.UTC(year, month - 1, 1);
  const bounds = absoluteBounds();
  if (startMs < Date.UTC(new Date(bounds.fromMs).getUTCFullYear(), 0, 1) || startMs > bounds.toMs) return fail(`${text} is outside ${describeWindow(bounds)}`);
  return ok({ year, month });
}

/**
 * Splits and checks a written time: a real calendar date, hour 00–23 (24:00 refused), minute and
 * second 00–59 (no leap second), an offset within −12:00…+14:00. Returns the fields and the offset
 * in minutes (undefined when none is written).
 */
export function parseFields(text: string): Result<{ fields: Fields; offsetMinutes?: number; utc: boolean }> {
  const match = timePattern.exec(text);
  if (!match) return fail(`${JSON.stringify(text.slice(0, 40))} is not an ISO 8601 instant such as 2026-04-06T20:30:00Z`);
  const [year, month, day, hour, minute] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
  const second = Number(match[6] ?? 0);
  const ms = Math.floor(Number(`0.${match[7] ?? "0"}`) * 1000);
  const calendar = checkCalendar(year, month, day);
  if (calendar) return fail(calendar);
  if (hour > 23) return fail(`${match[4]}:${match[5]} is not a time of day (00:00 to 23:59); write 00:00 of the next day`);
  if (minute > 59) return fail(`minute ${match[5]} does not exist (00 to 59)`);
  if (second > 59) return fail(`second ${match[6]} does not exist (00 to 59; leap seconds are not written)`);
  const zone = match[8];
  let offsetMinutes: number | undefined;
  if (zone === "Z") offsetMinutes = 0;
  else if (zone) {
    const sign = zone.startsWith("-") ? -1 : 1;
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(4, 6));
    offsetMinutes = sign * (hours * 60 + minutes);
    if (minutes > 59 || offsetMinutes < minOffsetMinutes || offsetMinutes > maxOffsetMinutes) return fail(`offset ${zone} is out of range (-12:00 to +14:00)`);
  }
  return ok({ fields: { year, month, day, hour, minute, second, ms }, offsetMinutes, utc: zone === "Z" });
}

/**
 * A written time as an instant (epoch ms), refused when it is not a real time or falls outside
 * `window` (default: the instants every store and Flux can hold, `instantBounds`).
 * Wall-clock times (no zone written, `zone.kind === "wallClock"`) are read in the IANA zone given:
 * a time in a spring-forward gap moves forward by the gap (02:30 → 03:30), an ambiguous one takes
 * the earlier instant (the first 01:30), as RFC 5545 and Temporal's "compatible" rule do (`Time.fromWallClock`).
 * @example Instant.parse("2026-10-06 03:00", { zone: { kind: "wallClock", timeZone: "America/Monterrey" } }) → 2026-10-06T09:00:00Z
 */
export function parse(text: string, options: { zone: Zone; window?: Window }): Result<number> {
  if (typeof text !== "string") return fail("expected a time written as text");
  const parsed = parseFields(text);
  if (!parsed.ok) return parsed;
  const { fields, offsetMinutes, utc } = parsed.value;
  const zone = options.zone;
  if (zone.kind === "utc" && !utc) return fail(`${text} must be in UTC, ending in Z (such as 2026-04-06T20:30:00Z)`);
  if (zone.kind === "offset" && offsetMinutes === undefined) return fail(`${text} needs a zone: Z or an offset such as -06:00`);
  const wall = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second, fields.ms);
  // Date.UTC maps years 0–99 to 1900–1999; set the year explicitly.
  const wallMs = new Date(wall).setUTCFullYear(fields.year);
  const ms = offsetMinutes !== undefined ? wallMs - offsetMinutes * 60_000 : fromWallClock(wallMs, (zone as Extract<Zone, { kind: "wallClock" }>).timeZone);
  return within(ms, options.window ?? absoluteBounds(), text);
}

/** `ms` when it is inside `window`, else a message naming the window. */
export function within(ms: number, window: Window, written?: string): Result<number> {
  if (!Number.isFinite(ms) || ms < window.fromMs || ms > window.toMs) return fail(`${written ?? format(ms)} is outside ${describeWindow(window)}`);
  return ok(ms);
}

/** The instants any store can hold: Postgres, DuckDB, the Parquet lake and Flux (int64 ns since 1970). */
export function absoluteBounds(): Window {
  return { fromMs: Date.parse(instantBounds.from), toMs: Date.parse(instantBounds.to) };
}

/**
 * The instants a reading (or a customer file's row) may carry when it arrives at `now`: back as far
 * as a gateway outbox can hold a backlog, ahead by the clock skew allowed (config `readingWindow`).
 */
export function readingsWindow(now: Date): Window {
  const from = new Date(now.getTime());
  from.setUTCFullYear(from.getUTCFullYear() - readingWindow.pastYears);
  return { fromMs: from.getTime(), toMs: now.getTime() + readingWindow.futureSeconds * 1000 };
}

/**
 * The lake partitions (`dt=YYYY-MM-DD`) the readings window can fill, as Athena's partition projection
 * range (the Glue table) and as a DuckDB predicate (the local lake's view): the same setting, so what
 * ingest and imports accept is what Athena and the local views see.
 */
export const lakeRange = {
  athena: `NOW-${readingWindow.pastYears}YEARS,NOW+1DAYS`,
  duckdb: (column: string) =>
    `${column} BETWEEN strftime(current_date - INTERVAL ${readingWindow.pastYears} YEAR, '%Y-%m-%d') AND strftime(current_date + INTERVAL 1 DAY, '%Y-%m-%d')`,
};

function describeWindow(window: Window): string {
  return `the accepted range ${format(window.fromMs)} to ${format(window.toMs)}`;
}

/** An instant as ISO 8601 UTC, whole seconds without `.000`. */
export function format(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/**
 * A zod string schema for a time parameter: refused with the parameter's path and the reason; the
 * value stays the text as written.
 * @example z.object({ from: Instant.schema("from") })
 */
export function schema(name: string, zone: Zone = { kind: "offset" }) {
  return z.string({ error: `${name} is required (ISO 8601, such as 2026-04-06T20:30:00Z)` }).superRefine((value, ctx) => {
    const result = parse(value, { zone });
    if (!result.ok) ctx.addIssue({ code: "custom", message: `${name}: ${result.message}` });
  });
}

/**
 * The one rule of a `[from, to)` range of instants in a query (usage, gaps, CSV exports), for `.superRefine`: `to`
 * after `from`, and at most `maxDays` days apart, each refusal on `to` and the long one saying what to do instead.
 * @example Query.superRefine(Instant.span(400)) → a 401-day range: "a range spans at most 400 days (this one 401): ask for it in parts of 400 days or fewer"
 */
export function span(maxDays: number) {
  return (query: { from: string; to: string }, ctx: z.RefinementCtx) => {
    const from = parse(query.from, { zone: { kind: "offset" } });
    const to = parse(query.to, { zone: { kind: "offset" } });
    // A bound that is no instant (30 February) is refused by its own field; comparing it would add a false refusal.
    if (!from.ok || !to.ok) return;
    const ms = to.value - from.value;
    if (!(ms > 0)) ctx.addIssue({ code: "custom", path: ["to"], message: "to must be after from" });
    else if (ms > maxDays * 86_400_000)
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: `a range spans at most ${maxDays} days (this one ${Math.ceil(ms / 86_400_000)}): ask for it in parts of ${maxDays} days or fewer`,
      });
  };
}

/** A zod schema for a `YYYY-MM` parameter (a real month, year within the stores' bounds). */
export function monthSchema(name: string) {
  return z.string({ error: `${name} is required (YYYY-MM)` }).superRefine((value, ctx) => {
    const result = parseMonth(value);
    if (!result.ok) ctx.addIssue({ code: "custom", message: `${name}: ${result.message}` });
  });
}
