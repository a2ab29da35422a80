/**
 * The cost of one reading (pure). Per-reading cost is provisional — the monthly bill is
 * authoritative — so it is kept unrounded at 6 decimals and rounded only on bills. A reading's
 * period is that of its interval start in the factory's local time.
 */
import Decimal from "decimal.js";
import type { Tariff } from "../tariff";
import { DEMAND_SHIFT } from "../tariff/periods";
import { Plan, TariffError } from "../tariff/plan";
import { WattflowError } from "../util/error";

export * as Cost from "./index";

export type Priced = {
  tariffId: string;
  /** Time-of-use period, when the tariff has them. */
  period: string | null;
  unitPrice: string;
  cost: string;
  /** Priced with prices that were not yet published for the reading's month. */
  estimated: boolean;
};

export type Options = {
  /** The factory's IANA zone; CFE plans default to their schedule zone's clock. */
  timeZone?: string;
  /**
   * With tiered prices: kWh already used this month in every period, before this reading. Tiers fill over the
   * month across periods in time order, as NREL SAM bills them (see Bill.compute).
   */
  monthToDateKwh?: number;
};

export class NoTariffError extends WattflowError {
  readonly kind = "conflict" as const;
  readonly code = "tariff.none_in_force";
  constructor(factoryId: string, at: Date) {
    super(`factory ${factoryId} has no tariff in force at ${at.toISOString()}`);
    this.name = "NoTariffError";
  }
}

type TimeOfUseDefinition = Exclude<Tariff.Definition, { kind: "flat" }>;

function calendarOf(definition: TimeOfUseDefinition, timeZone: string | undefined) {
  const plan = Plan.of(definition);
  const zone = timeZone ?? plan.defaultTimeZone;
  if (!zone) throw new TariffError("a time-of-use tariff needs the factory's time zone");
  return { plan, calendar: plan.calendar(zone) };
}

/**
 * Prices `kwh` used in the interval starting at `start` under the tariff version in force then.
 * @example Cost.price({ kwh: 12.5, start }, version, { timeZone: "America/Mexico_City" }) → { period: "punta", unitPrice: "1.726200", cost: "21.577500", … }
 */
export function price(reading: { kwh: number; start: Date }, version: Tariff.Version, options: Options = {}): Priced {
  const definition = version.definition;
  if (definition.kind === "flat") {
    const unitPrice = new Decimal(definition.energyPrice);
    return { tariffId: version.id, period: null, unitPrice: unitPrice.toFixed(6), cost: unitPrice.times(reading.kwh).toFixed(6), estimated: false };
  }
  const { plan, calendar } = calendarOf(definition, options.timeZone);
  const ms = reading.start.getTime();
  const period = plan.schedule.periods[calendar.codeAt(ms) % DEMAND_SHIFT] as string;
  const { prices, estimated } = plan.pricesFor(calendar.monthAt(ms));
  const tiers = plan.energyTiers(prices, period);
  const kwh = new Decimal(reading.kwh);
  let cost: Decimal;
  let unitPrice: Decimal;
  if (tiers.length === 1) {
    unitPrice = (tiers[0] as (typeof tiers)[number]).price;
    cost = unitPrice.times(kwh);
  } else {
    const parts = Plan.splitTiers(tiers, new Decimal(options.monthToDateKwh ?? 0), kwh);
    cost = parts.reduce((sum, [amount, tier]) => sum.plus(amount.times(tier.price)), new Decimal(0));
    unitPrice = kwh.gt(0) ? cost.div(kwh) : (parts[0]?.[1] ?? (tiers[tiers.length - 1] as (typeof tiers)[number])).price;
  }
  return { tariffId: version.id, period, unitPrice: unitPrice.toFixed(6), cost: cost.toFixed(6), estimated };
}

export type Columns = {
  /** Interval starts, epoch ms. */
  start: Float64Array;
  kwh: Float64Array;
};

export type PricedColumns = {
  periods: string[];
  /** Index into `periods` per reading. */
  period: Uint8Array;
  /** Cost per reading in millionths of the currency (exact: kWh to 6 decimals × price, rounded half up). */
  costMicro: Float64Array;
  estimated: Uint8Array;
};

const MICRO = 1_000_000;

/** Rounds p / 10^6 half up, exactly, for a non-negative safe integer p. */
function divMicro(product: number): number {
  let quotient = Math.trunc(product / MICRO);
  let rest = product - quotient * MICRO;
  if (rest < 0) {
    quotient -= 1;
    rest += MICRO;
  } else if (rest >= MICRO) {
    quotient += 1;
    rest -= MICRO;
  }
  return rest * 2 >= MICRO ? quotient + 1 : quotient;
}

/**
 * Prices many readings at once (columnar, for recomputes and benchmarks), the same as `price` per
 * reading: kWh count to 6 decimals. Tiered tariffs are priced in the given order, month to date over every period.
 */
export function priceColumns(columns: Columns, version: Tariff.Version, options: { timeZone?: string } = {}): PricedColumns {
  const definition = version.definition;
  const count = columns.start.length;
  const out: PricedColumns = { periods: [], period: new Uint8Array(count), costMicro: new Float64Array(count), estimated: new Uint8Array(count) };
  if (definition.kind === "flat") {
    out.periods.push("flat");
    for (let index = 0; index < count; index++)
      out.costMicro[index] = toMicro(price({ kwh: columns.kwh[index] as number, start: new Date(columns.start[index] as number) }, version).cost);
    return out;
  }
  const { plan, calendar } = calendarOf(definition, options.timeZone);
  out.periods.push(...plan.schedule.periods);
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < count; index++) {
    const ms = columns.start[index] as number;
    if (ms < from) from = ms;
    if (ms > to) to = ms;
  }
  if (count === 0) return out;
  const table = calendar.table(from, to + 1);
  // Unit prices in millionths per (local month, period); null when tiered or finer than 6 decimals.
  const unitMicro = new Map<number, (number | null)[]>();
  const estimatedOf = new Map<number, boolean>();
  // kWh so far per local month, all periods together: tiers fill over the month (see Options.monthToDateKwh).
  const monthToDate = new Map<number, Decimal>();
  for (let index = 0; index < count; index++) {
    const ms = columns.start[index] as number;
    const quarter = Math.floor((ms - table.origin) / 900_000);
    const period = (table.codes[quarter] as number) % DEMAND_SHIFT;
    const month = table.months[quarter] as number;
    let units = unitMicro.get(month);
    if (!units) {
      const { prices, estimated } = plan.pricesFor(month);
      units = plan.schedule.periods.map((name) => {
        const tiers = plan.energyTiers(prices, name);
        const micro = (tiers[0] as (typeof tiers)[number]).price.times(MICRO);
        return tiers.length === 1 && micro.isInteger() && micro.gte(0) ? micro.toNumber() : null;
      });
      unitMicro.set(month, units);
      estimatedOf.set(month, estimated);
    }
    out.period[index] = period;
    out.estimated[index] = estimatedOf.get(month) ? 1 : 0;
    const unit = units[period] as number | null;
    const kwh = columns.kwh[index] as number;
    const product = Math.round(kwh * MICRO) * (unit ?? 0);
    if (unit !== null && Number.isSafeInteger(product)) {
      out.costMicro[index] = divMicro(product);
      continue;
    }
    const before = monthToDate.get(month) ?? new Decimal(0);
    const rounded = new Decimal(kwh).toDecimalPlaces(6);
    const priced = price({ kwh: rounded.toNumber(), start: new Date(ms) }, version, { timeZone: calendar.timeZone, monthToDateKwh: before.toNumber() });
    monthToDate.set(month, before.plus(rounded));
    out.costMicro[index] = toMicro(priced.cost);
  }
  return out;
}

function toMicro(cost: string): number {
  return new Decimal(cost).times(MICRO).toNumber();
}
