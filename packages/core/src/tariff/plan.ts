/**
 * A tariff definition compiled for pricing (pure): the `tou` model with its schedule, calendars per
 * time zone and price tables per month, cached per definition object.
 */
import Decimal from "decimal.js";
import { WattflowError } from "../util/error";
import { Cfe } from "./cfe";
import type { Definition, Prices, Tier, TimeOfUse } from "./definition";
import { Calendar, Schedule } from "./periods";

export * as Plan from "./plan";

export class TariffError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "tariff.invalid";
  override readonly name = "TariffError";
}

export type MonthPrices = { prices: Prices; estimated: boolean; month: string };
export type DecimalTier = { price: Decimal; upTo: number | null };

export type Compiled = {
  tou: TimeOfUse;
  schedule: Schedule;
  /** The IANA zone the plan's hours are read in when the caller has none (CFE zones). */
  defaultTimeZone: string | null;
  calendar(timeZone: string): Calendar;
  /** The prices for a local month key (year · 12 + month − 1): that month's table, else the latest before it (estimated). */
  pricesFor(monthKey: number): MonthPrices;
  /** A period's energy tiers in a price table, as decimals. */
  energyTiers(prices: Prices, period: string): DecimalTier[];
};

const compiled = new WeakMap<object, Compiled>();

export const monthKeyOf = (month: string) => Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
export const monthOfKey = (key: number) => `${Math.floor(key / 12)}-${String((key % 12) + 1).padStart(2, "0")}`;

/** The `tou` model of a definition (CFE plans expanded); flat tariffs have none. */
export function toTimeOfUse(definition: Exclude<Definition, { kind: "flat" }>): TimeOfUse {
  return definition.kind === "tou" ? definition : Cfe.toTimeOfUse(definition);
}

/** The compiled plan of a definition; compile once, price many readings. */
export function of(definition: Exclude<Definition, { kind: "flat" }>): Compiled {
  const hit = compiled.get(definition);
  if (hit) return hit;
  const tou = toTimeOfUse(definition);
  const schedule = new Schedule(tou);
  const calendars = new Map<string, Calendar>();
  const tables = tou.prices.filter((row) => row.division === undefined || tou.division === undefined || row.division === tou.division);
  if (tables.length === 0) throw new TariffError(`no price table for tariff division ${tou.division}`);
  const divisions = new Set(tables.flatMap((row) => (row.division === undefined ? [] : [row.division])));
  if (tou.division === undefined && divisions.size > 1) throw new TariffError(`prices for ${[...divisions].join(", ")}: say which tariff division applies`);
  const always = tables.find((row) => row.month === undefined);
  const monthly = tables
    .filter((row): row is Prices & { month: string } => row.month !== undefined)
    .map((row) => ({ key: monthKeyOf(row.month), row }))
    .sort((a, b) => a.key - b.key);
  const byMonth = new Map<number, MonthPrices>();
  const tiers = new WeakMap<Prices, Map<string, DecimalTier[]>>();
  const plan: Compiled = {
    tou,
    schedule,
    defaultTimeZone: definition.kind === "tou" ? null : Cfe.timeZones[definition.zone],
    calendar(timeZone) {
      let calendar = calendars.get(timeZone);
      if (!calendar) {
        calendar = new Calendar(schedule, timeZone);
        calendars.set(timeZone, calendar);
      }
      return calendar;
    },
    pricesFor(monthKey) {
      let found = byMonth.get(monthKey);
      if (!found) {
        const exact = monthly.find((entry) => entry.key === monthKey);
        let latest = monthly.filter((entry) => entry.key < monthKey).pop();
        if (exact) found = { prices: exact.row, estimated: false, month: monthOfKey(monthKey) };
        else if (always) found = { prices: always, estimated: false, month: monthOfKey(monthKey) };
        else {
          // Before the first published month, the earliest prices stand in (still estimated).
          latest ??= monthly[0];
          if (!latest) throw new TariffError("the tariff has no prices");
          found = { prices: latest.row, estimated: true, month: monthOfKey(monthKey) };
        }
        byMonth.set(monthKey, found);
      }
      return found;
    },
    energyTiers(prices, period) {
      let perPeriod = tiers.get(prices);
      if (!perPeriod) {
        perPeriod = new Map();
        tiers.set(prices, perPeriod);
      }
      let found = perPeriod.get(period);
      if (!found) {
        const list: Tier[] | undefined = prices.energy[period];
        if (!list) throw new TariffError(`the price table${prices.month ? ` of ${prices.month}` : ""} has no energy price for period ${period}`);
        found = list.map((tier) => ({ price: new Decimal(tier.price), upTo: tier.upTo ?? null }));
        perPeriod.set(period, found);
      }
      return found;
    },
  };
  compiled.set(definition, plan);
  return plan;
}

/** Splits `kwh` across tiers, starting `before` kWh into the month; returns [kWh, tier] pairs. */
export function splitTiers(tiers: readonly DecimalTier[], before: Decimal, kwh: Decimal): [Decimal, DecimalTier][] {
  const parts: [Decimal, DecimalTier][] = [];
  let from = before;
  let left = kwh;
  for (const [index, tier] of tiers.entries()) {
    const last = index === tiers.length - 1;
    const room = last || tier.upTo === null ? left : Decimal.max(0, Decimal.min(left, new Decimal(tier.upTo).minus(from)));
    if (room.gt(0) || (last && parts.length === 0)) parts.push([room, tier]);
    left = left.minus(room);
    from = from.plus(room);
    if (left.lte(0)) break;
  }
  return parts;
}
