/**
 * Cost allocation to sub-meters (pure). The bill comes from the billing meters at the point of supply; each
 * sub-meter is given a share of it, and what the sub-meters do not account for is shown as unmetered.
 *
 * Rule (demand is not split by coincident peak: a sub-meter's share of the non-energy lines follows its kWh):
 * - energy: the meter's kWh in each time-of-use period × that period's price on the bill (the period's energy
 *   lines' amount ÷ their kWh, so tiers are averaged over the period; the line's unit price when it has no kWh);
 * - everything else on the bill (fixed, distribution, capacity, low-voltage, power factor, IVA, DAP): in
 *   proportion to the meter's share of the billing meters' kWh.
 * Each meter's amount is rounded to cents; a parent's unmetered remainder is its amount minus its children's, so
 * the first-level meters plus the factory's unmetered remainder add up to the bill's total exactly.
 */
import Decimal from "decimal.js";
import { z } from "zod";
import type { Tariff } from "../tariff";
import { DEMAND_SHIFT } from "../tariff/periods";
import { Plan } from "../tariff/plan";
import type { Bill, Line } from "./shapes";

export * as Allocation from "./allocation";

/** `billing`: the utility's meter at the point of supply; `sub`: a meter downstream of another (line → machine). */
export const Role = z.enum(["billing", "sub"], { error: "role is billing or sub" });
export type Role = z.infer<typeof Role>;

export type Meter = { id: string; role: Role; parentId: string | null };

/** kWh per time-of-use period of one meter over the billing period. */
export type MeterEnergy = Map<string, Decimal>;

/** Exact decimal text: kWh, or MXN (the bill's currency). */
const decimal = z.string();

export const Share = z.object({
  meterId: z.string(),
  /** The meter upstream of this one; null for a first-level sub-meter (directly under the supply). */
  parentId: z.string().nullable(),
  /** 1 for a first-level sub-meter, 2 below it… */
  level: z.number(),
  /** kWh per period, and in all. */
  kwh: z.record(z.string(), decimal),
  totalKwh: decimal,
  /** MXN (the bill's currency): energy at the period prices, the share of the other lines, and their sum. */
  energy: decimal,
  other: decimal,
  amount: decimal,
  /** For a meter with sub-meters: its kWh and amount that none of them measured (can be negative: a child over-reads). */
  unmetered: z.object({ kwh: decimal, amount: decimal }).optional(),
});
export type Share = z.infer<typeof Share>;

/** An allocation's schema (the API's answers); `Allocation.Allocation` is its type, beside the namespace. */
export const Schema = z.object({
  /** Which meters the bill sums (see Close: `all-meters` when no meter is marked billing). */
  basis: z.enum(["billing-meters", "all-meters"]),
  billingMeters: z.array(z.string()),
  total: decimal,
  totalKwh: decimal,
  /** Per-kWh price of each period on the bill, and the rest of the bill per kWh of the billing meters. */
  prices: z.record(z.string(), decimal),
  otherPerKwh: decimal,
  meters: z.array(Share),
  /** The billing meters' kWh and amount that no first-level sub-meter measured. */
  unmetered: z.object({ kwh: decimal, amount: decimal }),
});
export type Allocation = z.infer<typeof Schema>;

const cents = (value: Decimal) => value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
const sum = (values: Iterable<Decimal>) => [...values].reduce((total, value) => total.plus(value), new Decimal(0));

/** The period of an energy line code: "energy-punta" → punta, "energy-punta-tier2" → punta, flat "energy" → energy. */
function periodOf(code: string): string | null {
  if (code === "energy") return "energy";
  const match = /^energy-(.+?)(-tier\d+)?$/.exec(code);
  return match ? (match[1] as string) : null;
}

/**
 * Allocates a bill to the factory's sub-meters.
 * @param input.bill the bill of the billing meters (or of every meter when none is marked billing: then there is
 *   nothing upstream to allocate from and every meter is first level).
 * @param input.energy kWh per period per meter, for every meter of the factory (a meter without readings may be absent).
 * @example compute({ bill, meters: [{ id: "main", role: "billing", parentId: null }, { id: "a", role: "sub", parentId: "main" }], energy })
 */
export function compute(input: { bill: Pick<Bill, "lines" | "total">; meters: readonly Meter[]; energy: ReadonlyMap<string, MeterEnergy> }): Allocation {
  const billing = input.meters.filter((meter) => meter.role === "billing").map((meter) => meter.id);
  const basis = billing.length > 0 ? "billing-meters" : "all-meters";
  const energyLines = input.bill.lines.filter((line): line is Line => periodOf(line.code) !== null);
  const byPeriod = new Map<string, { kwh: Decimal; amount: Decimal; listed: Decimal }>();
  for (const line of energyLines) {
    const period = periodOf(line.code) as string;
    const found = byPeriod.get(period) ?? { kwh: new Decimal(0), amount: new Decimal(0), listed: new Decimal(line.unitPrice) };
    byPeriod.set(period, { kwh: found.kwh.plus(line.quantity), amount: found.amount.plus(line.amount), listed: found.listed });
  }
  // A period the billing meters used nothing in still has its price on the bill (a sub-meter may read some there).
  const prices = new Map([...byPeriod].map(([period, { kwh, amount, listed }]) => [period, kwh.isZero() ? listed : amount.div(kwh)]));
  const total = new Decimal(input.bill.total);
  const energyAmount = sum([...byPeriod.values()].map((entry) => entry.amount));
  const billedKwh = sum([...byPeriod.values()].map((entry) => entry.kwh));
  const otherPerKwh = billedKwh.isZero() ? new Decimal(0) : total.minus(energyAmount).div(billedKwh);

  const kwhOf = (id: string) => sum(input.energy.get(id)?.values() ?? []);
  const exact = (id: string) => {
    const energy = sum([...(input.energy.get(id) ?? new Map<string, Decimal>())].map(([period, kwh]) => kwh.times(prices.get(period) ?? 0)));
    return { energy, other: kwhOf(id).times(otherPerKwh) };
  };
  const top = new Set(billing);
  const childrenOf = new Map<string | null, Meter[]>();
  for (const meter of input.meters) {
    if (meter.role === "billing") continue;
    // A sub-meter under a billing meter, or with no parent, sits directly under the supply.
    const parent = meter.parentId !== null && !top.has(meter.parentId) ? meter.parentId : null;
    childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), meter]);
  }
  const shares: Share[] = [];
  const walk = (parent: string | null, level: number) => {
    for (const meter of childrenOf.get(parent) ?? []) {
      const { energy, other } = exact(meter.id);
      const amount = cents(energy.plus(other));
      const periods = input.energy.get(meter.id) ?? new Map<string, Decimal>();
      const share: Share = {
        meterId: meter.id,
        parentId: parent,
        level,
        kwh: Object.fromEntries([...periods].map(([period, kwh]) => [period, kwh.toFixed()])),
        totalKwh: kwhOf(meter.id).toFixed(),
        energy: cents(energy).toFixed(2),
        other: amount.minus(cents(energy)).toFixed(2),
        amount: amount.toFixed(2),
      };
      shares.push(share);
      const index = shares.length;
      walk(meter.id, level + 1);
      const children = shares.slice(index).filter((child) => child.parentId === meter.id);
      if (children.length > 0)
        share.unmetered = {
          kwh: kwhOf(meter.id)
            .minus(sum(children.map((child) => new Decimal(child.totalKwh))))
            .toFixed(),
          amount: amount.minus(sum(children.map((child) => new Decimal(child.amount)))).toFixed(2),
        };
    }
  };
  walk(null, 1);
  const first = shares.filter((share) => share.level === 1);
  return {
    basis,
    billingMeters: billing,
    total: total.toFixed(2),
    totalKwh: billedKwh.toFixed(),
    prices: Object.fromEntries([...prices].map(([period, price]) => [period, price.toFixed()])),
    otherPerKwh: otherPerKwh.toFixed(),
    meters: shares,
    unmetered: {
      kwh: billedKwh.minus(sum(first.map((share) => new Decimal(share.totalKwh)))).toFixed(),
      amount: total.minus(sum(first.map((share) => new Decimal(share.amount)))).toFixed(2),
    },
  };
}

/**
 * kWh per time-of-use period per meter from 5-minute slots in the factory's `timeZone` (a flat tariff's one period
 * is "energy"), summed exactly at 6 decimals as the bill sums them.
 */
export function energyByMeter(
  definition: Tariff.Definition,
  timeZone: string,
  readings: readonly { meterId: string; start: Date; kwh: number }[],
): Map<string, MeterEnergy> {
  const micro = new Map<string, Map<string, number>>();
  const add = (meterId: string, period: string, kwh: number) => {
    let perPeriod = micro.get(meterId);
    if (!perPeriod) {
      perPeriod = new Map();
      micro.set(meterId, perPeriod);
    }
    perPeriod.set(period, (perPeriod.get(period) ?? 0) + Math.round(kwh * 1_000_000));
  };
  if (definition.kind === "flat") for (const reading of readings) add(reading.meterId, "energy", reading.kwh);
  else if (readings.length > 0) {
    const plan = Plan.of(definition);
    const starts = readings.map((reading) => reading.start.getTime());
    const table = plan.calendar(timeZone).table(Math.min(...starts), Math.max(...starts) + 900_000);
    readings.forEach((reading, index) => {
      const code = table.codes[Math.floor(((starts[index] as number) - table.origin) / 900_000)] as number;
      add(reading.meterId, plan.schedule.periods[code % DEMAND_SHIFT] as string, reading.kwh);
    });
  }
  return new Map(
    [...micro].map(([meterId, periods]) => [meterId, new Map([...periods].map(([period, value]) => [period, new Decimal(value).div(1_000_000)]))]),
  );
}

/**
 * What is wrong with a meter's place in its factory's tree, or null: a billing meter has no parent (it is where the
 * utility's supply enters); a parent is a meter of the factory (`parentOf`: every meter's parent, by id); following
 * parents up never comes back to the meter. `id` is absent for a meter not yet created.
 */
export function placeProblem(
  parentOf: ReadonlyMap<string, string | null>,
  meter: { id?: string; role: Meter["role"]; parentId: string | null },
): string | null {
  if (meter.parentId === null) return null;
  if (meter.role === "billing") return "a billing meter is at the point of supply and has no parent";
  if (meter.parentId === meter.id) return "a meter cannot be its own parent";
  if (!parentOf.has(meter.parentId)) return `${meter.parentId} is not a meter of this factory`;
  const seen = new Set<string>();
  // Walk up from the parent: meeting this meter again would close a loop.
  for (let at: string | null | undefined = meter.parentId; at && !seen.has(at); at = parentOf.get(at)) {
    if (at === meter.id) return `${meter.parentId} is below this meter: the tree would loop`;
    seen.add(at);
  }
  return null;
}
