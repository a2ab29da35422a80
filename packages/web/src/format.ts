/**
 * Display helpers in the console's language (es-MX by default): numbers and money through Intl, instants in the
 * factory's zone on a 24-hour clock ("30/11/2026 00:40"), calendar dates as dates ("30/11/2026", never an instant
 * shifted into a zone), and relative times with the language's plural rules.
 */
import { Time } from "@wattflow/core/time";
import { currentLanguage, i18n } from "./i18n";

// English dates read day first too (en-GB order: "30 Nov 2026, 00:40"): a plant's people in Mexico read d/m/y.
const dateLocale = () => (currentLanguage() === "en" ? "en-GB" : "es-MX");
const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function numberFormat(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const id = `${currentLanguage()}|${key}`;
  const format = (cache.get(id) as Intl.NumberFormat | undefined) ?? new Intl.NumberFormat(currentLanguage(), options);
  cache.set(id, format);
  return format;
}
function dateFormat(key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `${dateLocale()}|${key}|${options.timeZone ?? ""}`;
  const format = (cache.get(id) as Intl.DateTimeFormat | undefined) ?? new Intl.DateTimeFormat(dateLocale(), options);
  cache.set(id, format);
  return format;
}

/** A number with `digits` decimals in the console's language ("1,234.5"); "—" when there is none. */
export function num(value: number | null | undefined, digits: 0 | 1 | 2 | 3 = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return numberFormat(`n${digits}`, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/**
 * An amount of money from its decimal string: "$43,725.42" (the currency's narrow symbol); with `code`, the ISO code
 * after it ("$43,725.42 MXN") for totals and documents where the currency must be unmistakable; with `digits`, that many
 * decimals (unit prices: "$1.5573" per kWh, as CFE prints them). "—" when there is none.
 */
export function money(value: string | number | null | undefined, currency = "MXN", options: { code?: boolean; digits?: number } = {}): string {
  if (value === null || value === undefined || value === "") return "—";
  const digits = options.digits ?? 2;
  const text = numberFormat(`m${currency}|${digits}`, {
    style: "currency",
    currency,
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(Number(value));
  return options.code ? `${text} ${currency}` : text;
}

/** A unit price (a decimal string, per kWh or kW) with the currency's symbol and every place it has (2 to 6): "$1.5573". */
export function unitPrice(value: string | null | undefined, currency = "MXN"): string {
  if (value === null || value === undefined || value === "") return "—";
  const places = Math.min(Math.max(value.split(".")[1]?.length ?? 0, 2), 6);
  return money(value, currency, { digits: places });
}

/** A decimal quantity (a string such as "41000" or "1251.375") grouped, with the places it has up to 3: "41,000", "1,251.375". */
export function quantity(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const places = Math.min(value.split(".")[1]?.replace(/0+$/, "").length ?? 0, 3) as 0 | 1 | 2 | 3;
  return num(Number(value), places);
}

/** A share (0.5) as a percentage ("50.0 %"). */
export function percent(value: number | null | undefined, digits: 0 | 1 | 2 = 1): string {
  return value === null || value === undefined ? "—" : `${num(value * 100, digits)} %`;
}

/** An instant on the factory's wall clock, 24-hour: "30/11/2026 00:40". The zone is labelled once per page, not here. */
export function when(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return i18n.t("never");
  return dateFormat("dt", { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone })
    .format(new Date(iso))
    .replace(",", "");
}

/** A calendar date ("2026-11-30" or the date part of an ISO string) as "30/11/2026", without any zone shift. */
export function date(ymd: string | null | undefined): string {
  if (!ymd) return "—";
  const [year, month, day] = ymd.slice(0, 10).split("-").map(Number);
  if (!year || !month || !day) return ymd;
  return dateFormat("d", { day: "2-digit", month: "2-digit", year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(year, month - 1, day)));
}

/** A billing month ("2026-10") by name: "octubre de 2026" / "October 2026"; `short`: "oct 2026" / "Oct 2026". */
export function monthName(ym: string | null | undefined, style: "long" | "short" = "long"): string {
  if (!ym) return "—";
  const [year, month] = ym.split("-").map(Number);
  if (!year || !month) return ym;
  const text = dateFormat(`mon-${style}`, { month: style, year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(year, month - 1, 1)));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The last day a period bills, from its end date as CFE writes it (the next reading's date, exclusive), by core's
 * `Time.lastDay` (the bill PDF's rule): "2026-12-01" → "2026-11-30". Null stays null.
 */
export function lastDayOf<T extends string | null | undefined>(end: T): T | string {
  return end ? Time.lastDay({ end: end.slice(0, 10) }) : end;
}

/** The zone's name as people read it ("America/Hermosillo" → "Hermosillo (UTC−07:00)"), for the one label per page. */
export function zoneLabel(timeZone: string, at = new Date()): string {
  const offset = Math.round(Time.offsetAt(at.getTime(), timeZone) / 60_000);
  const sign = offset < 0 ? "−" : "+";
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
  const minutes = String(Math.abs(offset) % 60).padStart(2, "0");
  const city = timeZone.split("/").pop()?.replaceAll("_", " ") ?? timeZone;
  return `${city} (UTC${sign}${hours}:${minutes})`;
}

/**
 * The wall time on `timeZone`'s clock in a fixed, sortable shape whatever the console's language: "2026-11-30, 14:05"
 * (24-hour), and its parts by `formatToParts`. For arithmetic on local times and for axes, not for showing people dates.
 */
export function wallClock(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
}

/**
 * A date that is meant as a date but stored as an instant (a tariff version's `effectiveFrom`): the factory's local
 * date when the instant is its local midnight, the UTC date when it is UTC midnight (how the demo and imports store
 * "from 1 January"), else the instant on the factory's clock. "01/01/2024" rather than "31/12/2023 18:00".
 */
export function dayOf(iso: string, timeZone: string): string {
  const at = new Date(iso);
  const local = wallClock(timeZone).format(at).replace(",", "");
  if (local.endsWith("00:00")) return date(local.slice(0, 10));
  if (at.getTime() % 86_400_000 === 0) return date(at.toISOString());
  return when(iso, timeZone);
}

/** A time-of-use period as CFE names it ("intermedia" → "Intermedia" / "Intermediate"); null is a single-rate tariff. */
export function periodName(period: string | null | undefined): string {
  return i18n.t(`period.${period ?? "none"}`, { ns: "common", defaultValue: period ?? "" });
}

/** A factory's tariff as people read it: "CFE GDMTH · zona central". */
export function tariffName(code: string, zone?: string | null): string {
  const name = i18n.t(`tariffCode.${code}`, { ns: "common", defaultValue: code });
  return zone ? `${name} · ${i18n.t(`tariffZone.${zone}`, { ns: "common", defaultValue: zone })}` : name;
}

/** "hace 3 min" / "3 min ago", for last-seen times. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return i18n.t("never");
  const seconds = Math.max(Math.round((now - Date.parse(iso)) / 1000), 0);
  if (seconds < 90) return i18n.t("ago.seconds", { count: seconds });
  if (seconds < 5400) return i18n.t("ago.minutes", { count: Math.round(seconds / 60) });
  if (seconds < 172_800) return i18n.t("ago.hours", { count: Math.round(seconds / 3600) });
  return i18n.t("ago.days", { count: Math.round(seconds / 86_400) });
}

/**
 * The instant of a wall time (`2027-01-01T00:00`, as a datetime-local input gives it) in the factory's zone, by core's
 * one rule (`Time.fromWallClock`: a skipped time moves forward by the gap, a repeated one is the earlier).
 */
export function fromLocal(wall: string, timeZone: string): Date {
  return new Date(Time.fromWallClock(Date.parse(`${wall}Z`), timeZone));
}
