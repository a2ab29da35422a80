/**
 * What each kind of customer file must hold, checked row by row (pure): every bad row is reported
 * with its line in the file and the reason, and good rows come out normalized (units, dates).
 */
import { lineCode } from "../billing/lines";
import { Config } from "../config";
import { Location } from "../location";
import { Time } from "../time";
import { Instant } from "../util/instant";
import { pacer } from "../util/pace";
import type { Table } from "./parse";

export type Kind = "production" | "bill" | "prices";
export type RowError = { line: number; column?: string; message: string };

export type ProductionRow = { date: string; line: string; shift: string; units: string };
/**
 * One line of a utility bill; `periodStart`/`periodEnd` are its reading dates (local, [start, end)) when the file gives them.
 * `code` is our line code when the file's name is one of our lines (billing/lines.ts lineCode), else the name as given
 * with `unmatched` set: a utility's own charge, shown beside none of ours.
 */
export type BillRow = {
  month: string;
  code: string;
  unmatched?: true;
  quantity: string;
  unit: string;
  unitPrice: string;
  amount: string;
  periodStart?: string;
  periodEnd?: string;
};
export type PriceRow = {
  tariff: "cfe-gdmth" | "cfe-gdmto";
  division: string;
  month: string;
  fixed: string;
  distribution: string;
  capacity: string;
  energyBase: string | null;
  energyIntermedia: string | null;
  energyPunta: string | null;
  energy: string | null;
};
export type Rows = { kind: "production"; rows: ProductionRow[] } | { kind: "bill"; rows: BillRow[] } | { kind: "prices"; rows: PriceRow[] };

export type Context = {
  /** The factory's IANA zone: instants in a date column become its local date. */
  timeZone?: string;
  /** Production lines the factory's meters are labelled with. */
  lines?: readonly string[];
  /** When the file is checked: dates must be inside the readings window around it. */
  now: Date;
};

/** Bad rows kept per file: enough to fix a file, bounded so a wholly wrong file stays small to store. */
export const maxErrors = 1000;

const columns: Record<Kind, { required: string[]; optional: string[] }> = {
  production: { required: ["date", "line", "units"], optional: ["shift"] },
  bill: { required: ["month", "code", "amount"], optional: ["quantity", "unit", "unit_price", "period_start", "period_end"] },
  prices: { required: ["month", "division", "fixed", "distribution", "capacity"], optional: ["tariff", "base", "intermedia", "punta", "energy"] },
};

const decimal = /^-?\d+(\.\d+)?$/;
const unsigned = /^\d+(\.\d+)?$/;

/** Quantity units a utility bill may use, and the factor to our unit. */
const billUnits: Record<string, { unit: string; factor: number }> = {
  kwh: { unit: "kWh", factor: 1 },
  mwh: { unit: "kWh", factor: 1000 },
  kw: { unit: "kW", factor: 1 },
  mw: { unit: "kW", factor: 1000 },
  kvarh: { unit: "kVArh", factor: 1 },
  mvarh: { unit: "kVArh", factor: 1000 },
  month: { unit: "month", factor: 1 },
  day: { unit: "day", factor: 1 },
  "%": { unit: "%", factor: 1 },
  "": { unit: "", factor: 1 },
};

/**
 * A date cell as the factory's local date, or the reason it is refused: `YYYY-MM-DD` as written; a
 * time with `Z` or an offset is an instant, taken to the factory's day; a time without a zone
 * (`2026-10-06 03:00`, as spreadsheets hold them) is the factory's wall-clock time. The day must be
 * inside the readings window (config `readingWindow`), like the readings it will be compared with.
 */
function localDate(value: string, context: Context, window: Instant.Window): Instant.Result<string> {
  const date = Instant.parseDate(value);
  if (date.ok) {
    const { year, month, day } = date.value;
    // A local day is in the window when any of it is (its start can be up to 14 h before UTC midnight).
    const inWindow = Instant.within(Date.UTC(year, month - 1, day), { fromMs: window.fromMs - 86_400_000, toMs: window.toMs + 86_400_000 }, value);
    return inWindow.ok ? { ok: true, value } : inWindow;
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]/.test(value)) return date;
  if (!context.timeZone) return { ok: false, message: `${value} is a time; this file takes dates (YYYY-MM-DD)` };
  const instant = Instant.parse(value, { zone: { kind: "wallClock", timeZone: context.timeZone }, window });
  return instant.ok ? { ok: true, value: Time.localDate(instant.value, context.timeZone) } : instant;
}

/** A `YYYY-MM` cell, a real month that overlaps the readings window. */
function month(value: string, window: Instant.Window): Instant.Result<string> {
  const parsed = Instant.parseMonth(value);
  if (!parsed.ok) return parsed;
  const startMs = Date.UTC(parsed.value.year, parsed.value.month - 1, 1);
  const endMs = Date.UTC(parsed.value.year, parsed.value.month, 1);
  if (endMs <= window.fromMs || startMs > window.toMs)
    return {
      ok: false,
      message: `${value} is outside the accepted months ${Instant.format(window.fromMs).slice(0, 7)} to ${Instant.format(window.toMs).slice(0, 7)}`,
    };
  return { ok: true, value };
}

/** A bill's reading dates: both or neither, real dates, the end after the start, one billing period long at most. */
function billPeriod(start: string, end: string, fail: (column: string, message: string) => void): { periodStart: string; periodEnd: string } | undefined {
  if (!start && !end) return undefined;
  const realDate = (value: string) => Instant.parseDate(value).ok;
  if (!realDate(start)) fail("period_start", start ? `period_start ${JSON.stringify(start)} is not a real date (YYYY-MM-DD)` : "period_start is empty");
  else if (!realDate(end)) fail("period_end", end ? `period_end ${JSON.stringify(end)} is not a real date (YYYY-MM-DD)` : "period_end is empty");
  else if (end <= start) fail("period_end", `period_end ${end} must be after period_start ${start}`);
  else if (Date.parse(end) - Date.parse(start) > Config.cfeBilling.maxPeriodDays * 86_400_000)
    fail("period_end", `the period ${start} → ${end} is longer than one billing period (at most ${Config.cfeBilling.maxPeriodDays} days)`);
  else return { periodStart: start, periodEnd: end };
  return undefined;
}

/** Multiplies a decimal string by a power of ten exactly (unit conversion without floating point). */
function scale(value: string, factor: number): string {
  if (factor === 1) return value;
  const zeros = Math.round(Math.log10(factor));
  const negative = value.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? value.slice(1) : value).split(".");
  const digits = `${whole}${fraction.padEnd(zeros, "0")}`;
  const point = whole.length + zeros;
  const result = `${digits.slice(0, point)}${digits.length > point ? `.${digits.slice(point)}` : ""}`.replace(/^0+(?=\d)/, "");
  return `${negative ? "-" : ""}${result}`;
}

function divide(value: string, factor: number): string {
  if (factor === 1) return value;
  const zeros = Math.round(Math.log10(factor));
  const negative = value.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? value.slice(1) : value).split(".");
  const padded = whole.padStart(zeros + 1, "0");
  const result = `${padded.slice(0, padded.length - zeros)}.${padded.slice(padded.length - zeros)}${fraction}`.replace(/\.?0+$/, "");
  return `${negative ? "-" : ""}${result || "0"}`;
}

export type Checked = { ok: true; rows: Rows } | { ok: false; errors: RowError[] };

/** Checks every row of `table` as a `kind` file; returns the normalized rows, or every problem found (up to maxErrors). */
export function check(kind: Kind, table: Table, context: Context): Checked {
  const run = checking(kind, table, context);
  for (let step = run.next(); ; step = run.next()) if (step.done) return step.value;
}

/** `check`, giving the event loop a turn every `importLimits.yieldEveryMs` (a million rows take seconds). */
export async function checkPaced(kind: Kind, table: Table, context: Context): Promise<Checked> {
  const pace = pacer();
  const run = checking(kind, table, context);
  for (let step = run.next(); ; step = run.next()) {
    if (step.done) return step.value;
    await pace();
  }
}

/** The checks as a generator that pauses every 4,096 rows. */
function* checking(kind: Kind, table: Table, context: Context): Generator<void, Checked> {
  const window = Instant.readingsWindow(context.now);
  let seenRows = 0;
  const pause = () => (++seenRows & 0xfff) === 0;
  const errors: RowError[] = [];
  const spec = columns[kind];
  const known = new Set([...spec.required, ...spec.optional]);
  const missing = spec.required.filter((name) => !table.header.includes(name));
  const unknown = table.header.filter((name) => name !== "" && !known.has(name));
  if (missing.length > 0)
    errors.push({ line: 1, message: `missing column(s) ${missing.join(", ")}; a ${kind} file has ${[...spec.required, ...spec.optional].join(", ")}` });
  if (unknown.length > 0) errors.push({ line: 1, message: `unknown column(s) ${unknown.join(", ")}; a ${kind} file has ${[...known].join(", ")}` });
  const duplicated = table.header.filter((name, index) => name !== "" && table.header.indexOf(name) !== index);
  if (duplicated.length > 0) errors.push({ line: 1, message: `column(s) ${[...new Set(duplicated)].join(", ")} appear more than once` });
  if (errors.length > 0) return { ok: false, errors };
  if (table.rows.length === 0) return { ok: false, errors: [{ line: 2, message: "the file has a header but no rows" }] };

  const index = new Map(table.header.map((name, position) => [name, position]));
  const cell = (cells: string[], name: string) => {
    const position = index.get(name);
    return position === undefined ? "" : (cells[position] ?? "").trim();
  };
  const fail = (line: number, column: string | undefined, message: string) => {
    if (errors.length < maxErrors) errors.push({ line, column, message });
  };
  /** The row's month cell, its problem (if any) recorded. */
  const checkedMonth = (line: number, cells: string[]) => {
    const value = cell(cells, "month");
    const parsed = value ? month(value, window) : undefined;
    if (!parsed) fail(line, "month", "month is empty");
    else if (!parsed.ok) fail(line, "month", `month ${JSON.stringify(value)}: ${parsed.message}`);
    return value;
  };
  const seen = new Map<string, number>();
  const duplicate = (key: string, line: number): boolean => {
    const first = seen.get(key);
    if (first !== undefined) {
      fail(line, undefined, `duplicate of line ${first}`);
      return true;
    }
    seen.set(key, line);
    return false;
  };

  if (kind === "production") {
    const lines = context.lines ? new Set(context.lines) : undefined;
    const rows: ProductionRow[] = [];
    for (const { line, cells } of table.rows) {
      if (pause()) yield;
      const before = errors.length;
      const rawDate = cell(cells, "date");
      const parsed = rawDate ? localDate(rawDate, context, window) : undefined;
      const date = parsed?.ok ? parsed.value : undefined;
      if (!parsed) fail(line, "date", "date is empty");
      else if (!parsed.ok) fail(line, "date", `date ${JSON.stringify(rawDate)}: ${parsed.message}`);
      const name = cell(cells, "line");
      if (!name) fail(line, "line", "line is empty");
      else if (lines && !lines.has(name)) fail(line, "line", `unknown line ${JSON.stringify(name)}; the factory's lines are ${[...lines].join(", ")}`);
      const units = cell(cells, "units");
      if (!unsigned.test(units)) fail(line, "units", units ? `units must be a non-negative number, got ${JSON.stringify(units)}` : "units is empty");
      const shift = cell(cells, "shift");
      if (errors.length > before) continue;
      if (duplicate(`${date}\u0000${name}\u0000${shift}`, line)) continue;
      rows.push({ date: date as string, line: name, shift, units });
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true, rows: { kind, rows } };
  }

  if (kind === "bill") {
    const rows: BillRow[] = [];
    const periods = new Map<string, { periodStart: string; periodEnd: string; line: number }>();
    for (const { line, cells } of table.rows) {
      if (pause()) yield;
      const before = errors.length;
      const month = checkedMonth(line, cells);
      const given = cell(cells, "code");
      if (!given) fail(line, "code", "code is empty");
      // "Energía intermedia", "energia-intermedia" and "energy-intermedia" are one line; an unknown one stays as written.
      const known = lineCode(given);
      const code = known ?? given;
      const amount = cell(cells, "amount");
      if (!decimal.test(amount))
        fail(line, "amount", amount ? `amount must be a decimal number such as 1234.56, got ${JSON.stringify(amount)}` : "amount is empty");
      const rawUnit = cell(cells, "unit");
      const unit = billUnits[rawUnit.toLowerCase()];
      if (!unit) fail(line, "unit", `unit ${JSON.stringify(rawUnit)} is not one of kWh, MWh, kW, MW, kVArh, MVArh, month, day, %`);
      const quantity = cell(cells, "quantity") || "1";
      if (!decimal.test(quantity)) fail(line, "quantity", `quantity must be a decimal number, got ${JSON.stringify(quantity)}`);
      const unitPrice = cell(cells, "unit_price") || "0";
      if (!decimal.test(unitPrice)) fail(line, "unit_price", `unit_price must be a decimal number, got ${JSON.stringify(unitPrice)}`);
      const period = billPeriod(cell(cells, "period_start"), cell(cells, "period_end"), (column, message) => fail(line, column, message));
      if (period) {
        const first = periods.get(month);
        if (first && (first.periodStart !== period.periodStart || first.periodEnd !== period.periodEnd))
          fail(line, "period_start", `the billing period differs from line ${first.line}'s (${first.periodStart} → ${first.periodEnd}) for the same month`);
        else if (!first) periods.set(month, { ...period, line });
      }
      if (errors.length > before || !unit) continue;
      if (duplicate(`${month}\u0000${code}`, line)) continue;
      rows.push({
        month,
        code,
        ...(known === undefined && { unmatched: true as const }),
        amount,
        unit: unit.unit,
        quantity: scale(quantity, unit.factor),
        unitPrice: divide(unitPrice, unit.factor),
        ...period,
      });
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true, rows: { kind, rows } };
  }

  const rows: PriceRow[] = [];
  for (const { line, cells } of table.rows) {
    if (pause()) yield;
    const before = errors.length;
    const month = checkedMonth(line, cells);
    const given = cell(cells, "division");
    const known = Location.division(given);
    // Keyed lower case in CFE's own spelling whatever the file's case, accents or dashes ("Bajio", "golfo-centro"), as factories store it.
    const division = Location.divisionKey(given);
    // A division CFE does not have would load prices no factory is ever billed with (a typo such as "Noroest").
    if (!known)
      fail(line, "division", division ? `division ${JSON.stringify(given)} is not a CFE division (${Location.divisions.join(", ")})` : "division is empty");
    const rawTariff = (cell(cells, "tariff") || "cfe-gdmth").toLowerCase();
    const tariff =
      rawTariff === "gdmth" || rawTariff === "cfe-gdmth" ? "cfe-gdmth" : rawTariff === "gdmto" || rawTariff === "cfe-gdmto" ? "cfe-gdmto" : undefined;
    if (!tariff) fail(line, "tariff", `tariff ${JSON.stringify(rawTariff)} is not GDMTH or GDMTO`);
    const price = (name: string, required: boolean): string | null => {
      const value = cell(cells, name);
      if (!value && !required) return null;
      if (!unsigned.test(value))
        fail(line, name, value ? `${name} must be a non-negative price such as 1.5573, got ${JSON.stringify(value)}` : `${name} is empty`);
      return value;
    };
    const hourly = tariff === "cfe-gdmth";
    const row: PriceRow = {
      tariff: tariff ?? "cfe-gdmth",
      division,
      month,
      fixed: price("fixed", true) ?? "",
      distribution: price("distribution", true) ?? "",
      capacity: price("capacity", true) ?? "",
      energyBase: price("base", hourly),
      energyIntermedia: price("intermedia", hourly),
      energyPunta: price("punta", hourly),
      energy: price("energy", !hourly),
    };
    if (errors.length > before) continue;
    if (duplicate(`${row.tariff}\u0000${division}\u0000${month}`, line)) continue;
    rows.push(row);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rows: { kind: "prices", rows } };
}
