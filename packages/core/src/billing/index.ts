/**
 * The monthly bill (pure, authoritative): energy per period (with tiers), demand from 5-minute energy
 * (15-minute windows aligned to :00/:15/:30/:45, or rolling every 5 minutes), demand charges (with
 * CFE's min(Dmax, Q / (24 · d · FC)) cap in whole kW), fixed and minimum charges, the low-voltage
 * metering surcharge, the power-factor bonus or penalty on the subtotal, then tax. Money is exact
 * decimal, rounded to cents once per line.
 */
import Decimal from "decimal.js";
import { Config } from "../config";
import { Grid } from "../reading/grid";
import type { Tariff } from "../tariff";
import { Cfe } from "../tariff/cfe";
import type { DemandCharge, PowerFactor, Prices, Tier, TimeOfUse } from "../tariff/index";
import { DEMAND_SHIFT } from "../tariff/periods";
import { monthKeyOf, Plan } from "../tariff/plan";
import { Time } from "../time";
import { Cents } from "../util/cents";
import { Dap } from "./dap";
import { lineName } from "./lines";
import { BillingPeriod } from "./period";
import { type Aggregates, BillError, Bill as BillShape, type Contract, type Input, type Line, type PriorPeak, type Reading } from "./shapes";

export { Allocation } from "./allocation";
export { Dap } from "./dap";
export * as Bill from "./index";
export { lineCode, lineName, Name, summaryCodes } from "./lines";
export { BillingPeriod } from "./period";
export { BillRequest } from "./request";
export { type Aggregates, BillError, type Contract, type Input, Line, type PriorPeak, type Reading } from "./shapes";
/** A computed bill (./shapes.ts): `Bill.Bill` its type beside the namespace, `Bill.Schema` its schema (the API's answers). */
export const Schema = BillShape;
export type Bill = BillShape;

const MICRO = 1_000_000;
const SLOT_MS = 300_000;
// Each line rounded once to the cent, sums adding rounded lines: util/cents.ts, shared with the CLI and the console.
const cents = (value: Decimal) => Cents.round(value);
const money = (value: Decimal) => cents(value).toFixed(2);
const plain = (value: Decimal) => value.toFixed();

/** Refuses a period bound at `path` when it is not a real local date (`Time.parseDate`). */
function checkDate(value: string, path: string): void {
  if (!Time.parseDate(value)) throw new BillError(`${JSON.stringify(value)} is not a real date (YYYY-MM-DD)`, path);
}

type Usage = {
  /** kWh per energy period. */
  kwh: Map<string, Decimal>;
  kvarh: Decimal | null;
  /** kWh of the readings that carry kVArh (null: every kWh). */
  kwhWithKvarh: Decimal | null;
  /** Maximum demand (kW) per demand period; "*" overall. */
  demand: Map<string, Decimal>;
  /** Demand periods that occur in the billing period. */
  occurring: Set<string>;
  /** kWh that came from estimated slots. */
  estimatedKwh: Decimal;
  /** kWh per tier (index) of each tiered period, the month's kWh filling tier 1 before tier 2 in time order. */
  tiered?: Map<string, Decimal[]>;
};

/**
 * Sums readings: energy per period exactly (kWh to 6 decimals, as integers) by each slot's period,
 * demand from the sum of every meter's measured 5-minute slots (an estimate never sets a peak). The
 * result does not depend on the readings' order.
 */
function fromReadings(readings: readonly Reading[], input: Input, prices: Prices, range: { from: number; to: number; timeZone: string }): Usage {
  const plan = Plan.of(input.definition);
  const calendar = plan.calendar(range.timeZone);
  const table = calendar.table(range.from, range.to);
  const slots = new Float64Array(Math.ceil((range.to - range.from) / SLOT_MS));
  // Every slot's kWh (estimated too), for tiers that fill in time order.
  const energySlots = new Float64Array(slots.length);
  const periods = plan.schedule.periods;
  const energy = new Float64Array(periods.length);
  let kvarh = 0;
  let kwhWithKvarh = 0;
  let estimatedMicro = 0;
  let measuredReactive = false;
  for (let index = 0; index < readings.length; index++) {
    const reading = readings[index] as Reading;
    const ms = reading.start.getTime();
    if (!(ms >= range.from && ms < range.to))
      throw new BillError(
        `reading starts at ${Number.isNaN(ms) ? "an invalid time" : reading.start.toISOString()}, outside the billing period`,
        `usage.readings.${index}.start`,
      );
    if (!(reading.kwh >= 0) || !Number.isFinite(reading.kwh))
      throw new BillError(`kwh must be a non-negative number, got ${reading.kwh}`, `usage.readings.${index}.kwh`);
    if (!(reading.seconds >= SLOT_MS / 1000) || reading.seconds % (SLOT_MS / 1000) !== 0)
      throw new BillError(`seconds must be a positive multiple of 300, got ${reading.seconds}`, `usage.readings.${index}.seconds`);
    const micro = Math.round(reading.kwh * MICRO);
    const first = Math.floor((ms - range.from) / SLOT_MS);
    const spans = reading.seconds / (SLOT_MS / 1000);
    if (first + spans > slots.length)
      throw new BillError(
        `reading runs past the end of the billing period (${spans} slots from ${reading.start.toISOString()})`,
        `usage.readings.${index}.seconds`,
      );
    const shares = spans === 1 ? [micro] : Grid.spreadMicro(micro, spans);
    const estimated = reading.quality === "estimated" || (spans > 1 && reading.quality !== "measured");
    shares.forEach((share, slot) => {
      const quarter = Math.floor((ms + slot * SLOT_MS - table.origin) / 900_000);
      const period = (table.codes[quarter] as number) % DEMAND_SHIFT;
      energy[period] = (energy[period] as number) + share;
      energySlots[first + slot] = (energySlots[first + slot] as number) + share;
      if (estimated) estimatedMicro += share;
      else slots[first + slot] = (slots[first + slot] as number) + share;
    });
    if (reading.kvarh !== undefined && reading.kvarh !== null) {
      measuredReactive = true;
      kvarh += Math.round(reading.kvarh * MICRO);
      kwhWithKvarh += reading.kwhWithKvarh === undefined ? micro : Math.round(reading.kwhWithKvarh * MICRO);
    }
  }
  for (const value of [...energy, kvarh, kwhWithKvarh, estimatedMicro])
    if (!Number.isSafeInteger(value)) throw new BillError("too much energy to sum exactly in one bill", "usage.readings");

  // A definition built in code (not parsed) may leave the window out: zod's default then.
  const window = plan.tou.demandWindow ?? { minutes: 15, rolling: false };
  const width = window.minutes / 5;
  const step = window.rolling ? 1 : width;
  const maxMicro = new Float64Array(plan.schedule.demandPeriods.length);
  let overall = 0;
  const occurring = new Set<string>();
  for (let slot = 0; slot + width <= slots.length; slot += step) {
    let sum = 0;
    for (let part = 0; part < width; part++) sum += slots[slot + part] as number;
    // A window belongs to the demand period of its start.
    const demandPeriod = Math.floor((table.codes[Math.floor((range.from + slot * SLOT_MS - table.origin) / 900_000)] as number) / DEMAND_SHIFT);
    occurring.add(plan.schedule.demandPeriods[demandPeriod] as string);
    if (sum > (maxMicro[demandPeriod] as number)) maxMicro[demandPeriod] = sum;
    if (sum > overall) overall = sum;
  }
  const hours = new Decimal(window.minutes).div(60);
  const toKw = (micro: number) => new Decimal(micro).div(MICRO).div(hours);
  const usage: Usage = {
    kwh: new Map(),
    kvarh: measuredReactive ? new Decimal(kvarh).div(MICRO) : null,
    kwhWithKvarh: measuredReactive ? new Decimal(kwhWithKvarh).div(MICRO) : null,
    demand: new Map([["*", toKw(overall)]]),
    occurring,
    estimatedKwh: new Decimal(estimatedMicro).div(MICRO),
  };
  periods.forEach((name, index) => {
    usage.kwh.set(name, new Decimal(energy[index] as number).div(MICRO));
  });
  plan.schedule.demandPeriods.forEach((name, index) => {
    usage.demand.set(name, toKw(maxMicro[index] as number));
  });
  const tiered = tieredEnergy(plan, prices, energySlots, (slot) => {
    const quarter = Math.floor((range.from + slot * SLOT_MS - table.origin) / 900_000);
    return (table.codes[quarter] as number) % DEMAND_SHIFT;
  });
  if (tiered) usage.tiered = tiered;
  return usage;
}

/**
 * Tiers over the billing period across time-of-use periods, as NREL SAM bills them (ssc issue 535 and PR 538:
 * all kWh fill one tier before the next, an interval's kWh split where it crosses a limit; SAM issue 1783 /
 * ssc PR 1207: a month's tier limits are the same in every period, the running total being the month's kWh).
 * Each slot's kWh (micro-kWh, in time order) goes to its period at the tier the month's running total is in,
 * by that period's limits. Null when no period has more than one tier.
 */
function tieredEnergy(plan: Plan.Compiled, prices: Prices, energySlots: Float64Array, periodOf: (slot: number) => number): Map<string, Decimal[]> | null {
  const periods = plan.schedule.periods;
  const limits = periods.map((period) => plan.energyTiers(prices, period).map((tier) => (tier.upTo === null ? Number.POSITIVE_INFINITY : tier.upTo * MICRO)));
  if (limits.every((bounds) => bounds.length === 1)) return null;
  const micro = limits.map((bounds) => new Float64Array(bounds.length));
  let monthToDate = 0;
  for (let slot = 0; slot < energySlots.length; slot++) {
    let left = energySlots[slot] as number;
    if (left === 0) continue;
    const period = periodOf(slot);
    const bounds = limits[period] as number[];
    const into = micro[period] as Float64Array;
    for (let tier = 0; tier < bounds.length && left > 0; tier++) {
      const room = tier === bounds.length - 1 ? left : Math.max(0, Math.min(left, (bounds[tier] as number) - monthToDate));
      if (room <= 0) continue;
      into[tier] = (into[tier] as number) + room;
      monthToDate += room;
      left -= room;
    }
  }
  return new Map(periods.map((period, index) => [period, [...(micro[index] as Float64Array)].map((value) => new Decimal(value).div(MICRO))]));
}

/**
 * Usage from sums. The calendar says which periods occur in [from, to) (sums do not say whether punta hours
 * existed); kWh or demand given for a period with no hours in the billing period (punta in a Baja California
 * winter) is refused, as the meter cannot have measured it.
 */
function fromAggregates(aggregates: Aggregates, plan: Plan.Compiled, range: { from: number; to: number; timeZone: string }): Usage {
  const periods = plan.schedule.periods;
  const table = plan.calendar(range.timeZone).table(range.from, range.to);
  const energyPeriods = new Set<string>();
  const occurring = new Set<string>();
  for (const code of table.codes) {
    energyPeriods.add(periods[code % DEMAND_SHIFT] as string);
    occurring.add(plan.schedule.demandPeriods[Math.floor(code / DEMAND_SHIFT)] as string);
  }
  const absent = (kind: string, name: string, value: number) =>
    new BillError(`${value} ${kind} in ${name}, but the billing period has no ${name} hours`, `usage.${kind === "kWh" ? "kwh" : "demandKw"}.${name}`);
  const usage: Usage = {
    kwh: new Map(),
    kvarh: aggregates.kvarh === undefined ? null : new Decimal(aggregates.kvarh),
    kwhWithKvarh: aggregates.kwhWithKvarh === undefined ? null : new Decimal(aggregates.kwhWithKvarh),
    demand: new Map(),
    occurring,
    estimatedKwh: new Decimal(0),
  };
  for (const [name, kwh] of Object.entries(aggregates.kwh)) {
    if (!periods.includes(name)) throw new BillError(`the tariff has no period ${name} (it has ${periods.join(", ")})`, `usage.kwh.${name}`);
    if (kwh > 0 && !energyPeriods.has(name)) throw absent("kWh", name, kwh);
    usage.kwh.set(name, new Decimal(kwh));
  }
  for (const [name, kw] of Object.entries(aggregates.demandKw)) {
    if (name !== "max" && kw > 0 && !occurring.has(name)) throw absent("kW", name, kw);
    usage.demand.set(name === "max" ? "*" : name, new Decimal(kw));
  }
  return usage;
}

/** Charges a quantity through tiers (each tier's `upTo` counts from zero): [quantity, price] per tier used. */
function throughTiers(tiers: readonly Tier[], quantity: Decimal): [Decimal, Decimal][] {
  const parts: [Decimal, Decimal][] = [];
  let from = new Decimal(0);
  for (const [index, tier] of tiers.entries()) {
    const last = index === tiers.length - 1 || tier.upTo === undefined;
    const take = last ? quantity.minus(from) : Decimal.min(quantity, new Decimal(tier.upTo as number)).minus(from);
    if (take.gt(0) || parts.length === 0) parts.push([Decimal.max(take, 0), new Decimal(tier.price)]);
    if (last) break;
    from = Decimal.max(from, Decimal.min(quantity, new Decimal(tier.upTo as number)));
  }
  return parts;
}

function line(code: string, quantity: Decimal, unit: string, unitPrice: Decimal): Line & { value: Decimal } {
  const value = Cents.charge(quantity, unitPrice);
  const amount = value.toFixed(2);
  return { code, name: lineName(code, amount), quantity: plain(quantity), unit, unitPrice: plain(unitPrice), amount, value };
}

const kwRounding = { up: Decimal.ROUND_CEIL, nearest: Decimal.ROUND_HALF_UP } as const;

/**
 * The billed kW of a demand charge. Measured demand is rounded first (CFE: up, any fraction of a kW is a
 * whole kW), then capped by Q / (24 · d · FC) (kWh over hours at the load factor), whose result is rounded
 * by `Config.cfeBilling.computedDemandRounding` (see there why). Without a demand period in the billing
 * period (CFE: Baja California and Baja California Sur in winter), or without a measured demand in them (sums given
 * without it), the charge follows `withoutPeriods`.
 */
function billedDemand(charge: DemandCharge, usage: Usage, ctx: { totalKwh: Decimal; days: number }): Decimal {
  const rounding = charge.roundKw === true ? "nearest" : charge.roundKw || undefined;
  const round = (kw: Decimal, mode: keyof typeof kwRounding | undefined) => (mode ? kw.toDecimalPlaces(0, kwRounding[mode]) : kw);
  const formula = charge.loadFactor === undefined ? null : ctx.totalKwh.div(new Decimal(24).times(ctx.days).times(charge.loadFactor));
  // CFE words measured demand and the computed figure differently; a generic tariff rounds both its one way.
  const computedRounding = rounding === "up" ? Config.cfeBilling.computedDemandRounding : rounding;
  const onFormula = () => round(formula ?? new Decimal(0), computedRounding);
  if (charge.loadFactorOnly && formula) return onFormula();
  const listed = charge.periods?.filter((period) => usage.occurring.has(period)) ?? [];
  const withoutPeriods = charge.withoutPeriods ?? (charge.fallbackToAll ? "all-periods" : undefined);
  let measured: Decimal;
  if (!charge.periods || (listed.length === 0 && withoutPeriods === "all-periods")) measured = usage.demand.get("*") ?? new Decimal(0);
  // CFE: the formula alone "para el caso de que no haya periodo de punta y los usuarios … cuya demanda no se mide"
  // (sums given without the punta demand; readings always measure every period that occurs).
  else if ((listed.length === 0 || !listed.some((period) => usage.demand.has(period))) && withoutPeriods === "load-factor" && formula) return onFormula();
  else measured = listed.reduce((max, period) => Decimal.max(max, usage.demand.get(period) ?? 0), new Decimal(0));
  const billed = round(measured, rounding);
  if (!formula) return billed;
  const capped = round(formula, computedRounding);
  return Decimal.min(billed, capped);
}

/**
 * The floor the charge's ratchets put on billed demand in bill month `month` (YYYY-MM): the highest of
 * percent % × the largest prior peak in each ratchet's lookback (kW; 0 without ratchets or prior peaks).
 */
function ratchetFloor(charge: DemandCharge, month: string, priorPeaks: readonly PriorPeak[]): Decimal {
  let floor = new Decimal(0);
  const key = monthKeyOf(month);
  for (const ratchet of charge.ratchets ?? []) {
    if (ratchet.months && !ratchet.months.includes((key % 12) + 1)) continue;
    for (const peak of priorPeaks) {
      const back = key - monthKeyOf(peak.month);
      if (back < 1 || back > ratchet.lookbackMonths) continue;
      if (ratchet.peakMonths && !ratchet.peakMonths.includes((monthKeyOf(peak.month) % 12) + 1)) continue;
      floor = Decimal.max(floor, new Decimal(peak.kw).times(ratchet.percent).div(100));
    }
  }
  return floor;
}

function demandLines(
  charge: DemandCharge,
  usage: Usage,
  ctx: { totalKwh: Decimal; days: number; month: number; priceMonth: string; priorPeaks: readonly PriorPeak[] },
) {
  if (charge.months && !charge.months.includes(ctx.month)) return [];
  const parts = throughTiers(charge.tiers, Decimal.max(billedDemand(charge, usage, ctx), ratchetFloor(charge, ctx.priceMonth, ctx.priorPeaks)));
  return parts.map(([quantity, price], index) => line(parts.length > 1 ? `${charge.code}-tier${index + 1}` : charge.code, quantity, "kW", price));
}

/**
 * The bill of a billing period.
 * @example Bill.compute({ definition, period: { start: "2026-03-01", end: "2026-04-01" }, usage: { readings } })
 */
export function compute(input: Input): Bill {
  const plan = Plan.of(input.definition);
  const timeZone = input.timeZone ?? plan.defaultTimeZone;
  if (!timeZone) throw new BillError("a time-of-use tariff needs the factory's time zone", "timeZone");
  // Each bound refused at its own path before any arithmetic on it.
  checkDate(input.period.start, "period.start");
  checkDate(input.period.end, "period.end");
  const days = Time.days(input.period);
  if (days <= 0) throw new BillError(`the period must end after it starts (${input.period.start} → ${input.period.end})`, "period.end");
  if (days > Config.cfeBilling.maxPeriodDays)
    throw new BillError(
      `the period runs ${days} days (${input.period.start} → ${input.period.end}): a bill covers one billing period, at most ${Config.cfeBilling.maxPeriodDays} days`,
      "period.end",
    );
  const priceMonth = BillingPeriod.priceMonth(input.period);
  const { prices, estimated } = plan.pricesFor(monthKeyOf(priceMonth));

  // The one rule of a period's instants (each bound's first instant: midnight, or where the clocks skip it).
  const bounds = BillingPeriod.range(input.period, timeZone);
  const range = { from: bounds.from.getTime(), to: bounds.to.getTime(), timeZone };
  let usage: Usage;
  if ("readings" in input.usage) usage = fromReadings(input.usage.readings, input, prices, range);
  else {
    usage = fromAggregates(input.usage, plan, range);
    const used = plan.schedule.periods.filter((period) => usage.kwh.get(period)?.gt(0));
    if (used.length > 1 && used.some((period) => energyTiers(prices, period).length > 1))
      throw new BillError(
        `tiers fill over the month across periods in time order (${used.join(", ")} have kWh): give the readings, not sums per period`,
        "usage.kwh",
      );
  }

  const lines: (Line & { value: Decimal })[] = [];
  for (const charge of prices.fixed) lines.push(line(charge.code, new Decimal(charge.per === "day" ? days : 1), charge.per, new Decimal(charge.amount)));
  let totalKwh = new Decimal(0);
  for (const period of plan.schedule.periods) {
    const kwh = usage.kwh.get(period) ?? new Decimal(0);
    totalKwh = totalKwh.plus(kwh);
    const tiers = energyTiers(prices, period);
    const byTier = usage.tiered?.get(period);
    const parts: [Decimal, Decimal, number][] = byTier
      ? byTier.flatMap((quantity, index) =>
          quantity.gt(0) ? [[quantity, new Decimal((tiers[index] as Tier).price), index] as [Decimal, Decimal, number]] : [],
        )
      : throughTiers(tiers, kwh).map(([quantity, price], index) => [quantity, price, index]);
    if (parts.length === 0) parts.push([new Decimal(0), new Decimal((tiers[0] as Tier).price), 0]);
    const onlyFirst = parts.length === 1 && parts[0]?.[2] === 0;
    for (const [quantity, price, index] of parts)
      lines.push(line(onlyFirst ? `energy-${period}` : `energy-${period}-tier${index + 1}`, quantity, "kWh", price));
  }
  for (const [index, peak] of (input.priorPeaks ?? []).entries())
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(peak.month) || !(peak.kw >= 0) || !Number.isFinite(peak.kw))
      throw new BillError(`a prior peak is { "month": "YYYY-MM", "kw": a non-negative number }, got ${JSON.stringify(peak)}`, `priorPeaks.${index}`);
  const demandContext = { totalKwh, days, month: Number(priceMonth.slice(5, 7)), priceMonth, priorPeaks: input.priorPeaks ?? [] };
  for (const charge of prices.demand) lines.push(...demandLines(charge, usage, demandContext));
  const supply = lines.reduce((sum, item) => sum.plus(item.value), new Decimal(0));
  const currency = plan.tou.currency;
  if (plan.tou.lowVoltageSurchargePercent !== undefined)
    lines.push(line("low-voltage", supply, currency, new Decimal(plan.tou.lowVoltageSurchargePercent).div(100)));
  if (prices.minimum) {
    const minimum = new Decimal(prices.minimum.amount).times(prices.minimum.per === "day" ? days : 1);
    const sum = lines.reduce((total, item) => total.plus(item.value), new Decimal(0));
    if (sum.lt(minimum)) lines.push(line("minimum", new Decimal(1), "adjustment", cents(minimum.minus(sum))));
  }
  const subtotal = lines.reduce((sum, item) => sum.plus(item.value), new Decimal(0));

  let powerFactor: Decimal | null = null;
  let pfAdjustment = new Decimal(0);
  // Figures.powerFactor in exact decimals: the kWh measured together with the kVArh.
  const pfKwh = usage.kwhWithKvarh ?? totalKwh;
  if (usage.kvarh !== null && pfKwh.gt(0)) {
    powerFactor = pfKwh.div(pfKwh.pow(2).plus(usage.kvarh.pow(2)).sqrt()).times(100);
    const rule = powerFactorRule(input, plan, priceMonth);
    if (rule) {
      const ratio = new Decimal(rule.threshold).div(powerFactor);
      const percent = powerFactor.lt(rule.threshold)
        ? Decimal.min(ratio.minus(1).times(rule.surchargeFactor).times(100), rule.maxSurchargePercent)
        : Decimal.min(new Decimal(1).minus(ratio).times(rule.bonusFactor).times(100), rule.maxBonusPercent).neg();
      const pfLine = line("power-factor", subtotal, currency, percent.toDecimalPlaces(rule.percentDecimals, Decimal.ROUND_HALF_UP).div(100));
      pfAdjustment = pfLine.value;
      lines.push(pfLine);
    }
  }
  // CFE's order after the supply: power factor, subtotal, IVA, then the municipality's DAP (untaxed), total.
  const others = otherCharges(input, plan);
  const energyAmount = subtotal.plus(pfAdjustment);
  const before = others.filter((charge) => charge.taxed).map((charge) => otherLine(charge, energyAmount, currency));
  lines.push(...before);
  const taxable = before.reduce((sum, item) => sum.plus(item.value), energyAmount);
  lines.push(amountLine("subtotal", taxable, currency));
  const ivaLine = line("iva", taxable, currency, new Decimal(plan.tou.taxPercent ?? "0").div(100));
  // A tariff without tax (most URDB rates) has no tax line.
  if (new Decimal(plan.tou.taxPercent ?? "0").gt(0)) lines.push(ivaLine);
  const after = others.filter((charge) => !charge.taxed).map((charge) => otherLine(charge, energyAmount, currency));
  lines.push(...after);
  const dap = after.reduce((sum, item) => sum.plus(item.value), new Decimal(0));
  const total = taxable.plus(ivaLine.value).plus(dap);
  lines.push(amountLine("total", total, currency));
  return {
    lines: lines.map(({ value: _value, ...rest }) => rest),
    subtotal: money(subtotal),
    powerFactor: powerFactor === null ? null : powerFactor.toFixed(2, Decimal.ROUND_HALF_UP),
    pfAdjustment: money(pfAdjustment),
    iva: money(ivaLine.value),
    dap: money(dap),
    total: money(total),
    estimated,
    estimatedKwh: plain(usage.estimatedKwh),
    peakDemandKw: plain(usage.demand.get("*") ?? new Decimal(0)),
  };
}

/**
 * The power-factor threshold (percent) CFE applies to a bill month and supply contract (`Config.powerFactorThresholds`):
 * 90, or 95 from the January 2024 bills for high-voltage supply and for medium voltage with ≥ 1,000 kW contracted.
 * A contract that does not say has the tariff's supply voltage (`tariffVoltage`: GDMTH and GDMTO medium, GDBT and
 * PDBT low, DIST and DIT high; Cfe.structures).
 * @example powerFactorThreshold("2024-01", { supplyVoltage: "medium", contractedDemandKw: 1200 }) → 95
 */
export function powerFactorThreshold(month: string, contract: Contract = {}, tariffVoltage: "low" | "medium" | "high" = "medium"): number {
  const voltage = contract.supplyVoltage ?? tariffVoltage;
  let found = { from: "", threshold: 90 };
  for (const rule of Config.powerFactorThresholds) {
    const applies =
      rule.from <= month &&
      (rule.supplyVoltage === undefined || rule.supplyVoltage === voltage) &&
      (rule.contractedDemandKwAtLeast === undefined || (contract.contractedDemandKw ?? 0) >= rule.contractedDemandKwAtLeast);
    if (applies && rule.from >= found.from) found = rule;
  }
  return found.threshold;
}

/**
 * The power-factor threshold (percent) a factory is surcharged under in a bill month (`YYYY-MM`): its CFE plan's own
 * `powerFactorThreshold` when set (the factory's override), else the contract's and the month's (`powerFactorThreshold`
 * with the plan's supply voltage); a general time-of-use tariff's own PF rule; CFE's rule for the contract otherwise.
 * @example factoryPowerFactorThreshold(undefined, "2026-03", { supplyVoltage: "high" }) → 95
 */
export function factoryPowerFactorThreshold(definition: Tariff.Definition | undefined, month: string, contract: Contract = {}): number {
  if (definition === undefined || definition.kind === "flat") return powerFactorThreshold(month, contract);
  if (definition.kind === "tou") return definition.powerFactor?.threshold ?? powerFactorThreshold(month, contract);
  return definition.powerFactorThreshold ?? powerFactorThreshold(month, contract, Cfe.structures[definition.kind].voltage);
}

/** The tariff's power-factor rule; a CFE plan without its own threshold takes the contract's and the date's. */
function powerFactorRule(input: Input, plan: Plan.Compiled, month: string): PowerFactor | undefined {
  const rule = plan.tou.powerFactor;
  const definition = input.definition;
  if (!rule || definition.kind === "tou" || definition.powerFactorThreshold !== undefined) return rule;
  return { ...rule, threshold: powerFactorThreshold(month, input.contract, Cfe.structures[definition.kind].voltage) };
}

type OtherCharge = TimeOfUse["otherCharges"][number];

/**
 * The lines outside the supply: the tariff's own, or for a CFE plan without a `streetLighting` setting the
 * bundled DAP of the factory's municipality (billing/dap.ts).
 */
function otherCharges(input: Input, plan: Plan.Compiled): OtherCharge[] {
  const own = plan.tou.otherCharges ?? [];
  const definition = input.definition;
  if (definition.kind === "tou" || definition.streetLighting !== undefined) return own;
  const { state, municipality } = input.contract ?? {};
  const entry = state && municipality ? Dap.find(state, municipality) : undefined;
  return entry ? [...own, { code: "dap", ...entry.rule }] : own;
}

function otherLine(charge: OtherCharge, energyAmount: Decimal, currency: string) {
  if (charge.percent === undefined) return line(charge.code, new Decimal(1), "month", new Decimal(charge.amount ?? 0));
  const percent = line(charge.code, energyAmount, currency, new Decimal(charge.percent).div(100));
  if (charge.cap === undefined || percent.value.lte(charge.cap)) return percent;
  // Capped: the month's maximum instead of the percentage.
  return line(charge.code, new Decimal(1), "month", new Decimal(charge.cap));
}

/** A line that states an amount (subtotal, total): one unit at that price. */
function amountLine(code: string, amount: Decimal, currency: string) {
  return line(code, new Decimal(1), currency, cents(amount));
}

/**
 * The bill of a flat tariff: its one energy line (kWh at `unitPrice`, costing `amount`, rounded to cents); a
 * flat tariff has no demand, power factor, tax or DAP. `estimatedKwh`: how much of `kwh` was estimated (a gap spread over its slots).
 */
export function flat(kwh: string, unitPrice: string, amount: Decimal, estimatedKwh = "0"): Bill {
  const total = money(amount);
  return {
    lines: [{ code: "energy", name: lineName("energy"), quantity: kwh, unit: "kWh", unitPrice, amount: total }],
    subtotal: total,
    powerFactor: null,
    pfAdjustment: "0.00",
    iva: "0.00",
    dap: "0.00",
    total,
    estimated: false,
    estimatedKwh,
    peakDemandKw: null,
  };
}

function energyTiers(prices: Prices, period: string): Tier[] {
  const tiers = prices.energy[period];
  if (!tiers) throw new BillError(`the prices have no energy price for period ${period}`, `prices.energy.${period}`);
  return tiers;
}
