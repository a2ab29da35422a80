/**
 * es-MX text for documents a Mexican finance team files (pure): money as CFE and Mexican banks print it
 * ("$43,725.42 MXN": comma thousands, point decimals), dates dd/mm/yyyy, 24-hour times in the factory's zone.
 * Amounts arrive as decimal strings and are formatted from their digits, never through a float.
 */
import Decimal from "decimal.js";
import { offsetAt } from "../time";

const group = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/**
 * A decimal in es-MX digits: thousands with commas, `decimals` places (rounded half up), or as given when null.
 * @example number("1441.8", 2) → "1,441.80"; number("-4670.351") → "-4,670.351"
 */
export function number(value: string | number, decimals: number | null = null): string {
  const exact = new Decimal(value);
  const text = decimals === null ? exact.toFixed() : exact.toFixed(decimals, Decimal.ROUND_HALF_UP);
  const negative = text.startsWith("-");
  const [whole = "0", fraction] = (negative ? text.slice(1) : text).split(".");
  const body = `${group(whole)}${fraction === undefined ? "" : `.${fraction}`}`;
  return negative && !/^[0.,]+$/.test(body) ? `-${body}` : body;
}

/**
 * A measured quantity (kWh, kW) in es-MX digits, rounded to at most `decimals` places, without trailing zeros.
 * @example quantity("1000") → "1,000"; quantity("2.3587654") → "2.359"
 */
export function quantity(value: string | number, decimals = 3): string {
  return number(new Decimal(value).toDecimalPlaces(decimals, Decimal.ROUND_HALF_UP).toFixed());
}

/**
 * Money as printed on Mexican bills: "$" before, the currency code after, 2 decimals (or `decimals` for unit prices).
 * @example money("43725.42", "MXN") → "$43,725.42 MXN"; money("-4670.35", "MXN") → "-$4,670.35 MXN"; money("0.9715", "MXN", 4) → "$0.9715 MXN"
 */
export function money(amount: string | number, currency: string, decimals = 2): string {
  const text = number(amount, decimals);
  return text.startsWith("-") ? `-$${text.slice(1)} ${currency}` : `$${text} ${currency}`;
}

/**
 * A local date (YYYY-MM-DD, already the factory's) as dd/mm/yyyy; no zone is applied, a date is not an instant.
 * @throws RangeError when `value` is not YYYY-MM-DD.
 * @example date("2026-02-28") → "28/02/2026"
 */
export function date(value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) throw new RangeError(`${JSON.stringify(value)} is not a date (YYYY-MM-DD)`);
  return `${match[3]}/${match[2]}/${match[1]}`;
}

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/** The wall clock of instant `ms` in `timeZone` and the zone's offset then (ms, local = UTC + offset). */
function wall(ms: number, timeZone: string, offsets?: Map<number, number>) {
  // Offsets change on quarter hours at most: one lookup per 15-minute block serves every slot in it.
  const block = Math.floor(ms / 900_000);
  let offset = offsets?.get(block);
  if (offset === undefined) {
    offset = offsetAt(ms, timeZone);
    if (offsets) {
      if (offsets.size > 100_000) offsets.clear();
      offsets.set(block, offset);
    }
  }
  return { local: new Date(ms + offset), offset };
}

/**
 * An instant as dd/mm/yyyy HH:mm (24-hour) on `timeZone`'s wall clock.
 * @example dateTime(Date.parse("2026-04-01T08:00:00Z"), "America/Mexico_City") → "01/04/2026 02:00"
 */
export function dateTime(ms: number, timeZone: string): string {
  const { local } = wall(ms, timeZone);
  return `${pad(local.getUTCDate())}/${pad(local.getUTCMonth() + 1)}/${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
}

/**
 * An instant as ISO 8601 local time with its offset (the hour a clock repeats stays two distinct values).
 * `offsets`: a cache a caller formatting many instants keeps between calls.
 * @example localIso(Date.parse("2026-03-10T09:00:00Z"), "America/Mexico_City") → "2026-03-10T03:00:00-06:00"
 */
export function localIso(ms: number, timeZone: string, offsets?: Map<number, number>): string {
  const { local, offset } = wall(ms, timeZone, offsets);
  const minutes = Math.round(Math.abs(offset) / 60_000);
  const sign = offset < 0 ? "-" : "+";
  return `${local.toISOString().slice(0, 19)}${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

const monthNames = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"];

/**
 * A bill month (YYYY-MM) in Spanish words.
 * @example monthName("2026-03") → "marzo de 2026"
 */
export function monthName(month: string): string {
  return `${monthNames[Number(month.slice(5, 7)) - 1] ?? month} de ${month.slice(0, 4)}`;
}
