/**
 * OpenEI URDB rates as Wattflow tariffs (pure): a URDB rate's JSON becomes a `tou` definition, so
 * factories outside Mexico are costed by the same engine. Energy and demand schedules (12 months × 24
 * hours, 0-based periods) become seasons by month with hourly bands; tiers keep URDB's cumulative
 * monthly maxima (filled over the month across periods, as SAM bills them: Bill.compute); flat demand,
 * fixed and minimum charges carry over, with demand ratchets and lookback on the flat demand charge.
 * Money (rate, adj, fixed, minimum) is read as numbers or decimal strings (util/money.ts). URDB has no holidays.
 */
import Decimal from "decimal.js";
import { z } from "zod";
import { Config } from "../config";
import { PathError } from "../util/error";
import { Money } from "../util/money";
import type { Band, Charge, DemandCharge, Prices, Ratchet, Season, Tier, TimeOfUse } from "./index";

export * as Urdb from "./urdb";

const RateTier = z.object({
  rate: Money.Signed.optional(),
  adj: Money.Signed.optional(),
  max: z.number().positive().optional(),
  unit: z.string().optional(),
});
const Matrix = z.array(z.array(z.number().int().min(0)).length(24, "a schedule row has 24 hours")).length(12, "a schedule has 12 months");

/** The part of a URDB rate Wattflow reads. */
export const Rate = z.object({
  name: z.string().optional(),
  utility: z.string().optional(),
  energyratestructure: z.array(z.array(RateTier).min(1)).min(1),
  energyweekdayschedule: Matrix,
  energyweekendschedule: Matrix,
  demandratestructure: z.array(z.array(RateTier).min(1)).optional(),
  demandweekdayschedule: Matrix.optional(),
  demandweekendschedule: Matrix.optional(),
  flatdemandstructure: z.array(z.array(RateTier).min(1)).optional(),
  flatdemandmonths: z.array(z.number().int().min(0)).length(12).optional(),
  fixedchargefirstmeter: Money.Signed.optional(),
  fixedchargeunits: z.string().optional(),
  mincharge: Money.Signed.optional(),
  minchargeunits: z.string().optional(),
  demandwindow: z.number().optional(),
  /** Per bill month, the fraction (0.8 = 80 %) of the prior 11 months' peak that billed demand is at least. */
  demandratchetpercentage: z.array(z.number().min(0).max(1, "a ratchet is a fraction of the peak (0.8 = 80 %)")).length(12).optional(),
  /** Fraction (0.8 = 80 %) of the highest peak in the lookback that billed demand is at least. */
  lookbackpercent: z.number().min(0).max(1, "lookbackpercent is a fraction of the peak (0.8 = 80 %)").optional(),
  /** How many bill months back the lookback reaches. */
  lookbackrange: z.number().int().min(1).max(Config.ratchetMaxLookbackMonths).optional(),
  /** Which calendar months' peaks count in the lookback. */
  lookbackMonths: z.array(z.boolean()).length(12).optional(),
});
export type Rate = z.infer<typeof Rate>;

/**
 * URDB's ratchet fields as Wattflow ratchets: `demandratchetpercentage` (per bill month, looking back over the
 * prior 11 months, the usual ratchet year) and `lookbackpercent` over `lookbackrange` months (12 when absent),
 * counting only the months `lookbackMonths` marks. URDB gives these as fractions (0.8 = 80 %).
 */
function ratchetsOf(rate: Rate): Ratchet[] {
  const out: Ratchet[] = [];
  const byPercent = new Map<number, number[]>();
  rate.demandratchetpercentage?.forEach((fraction, month) => {
    if (fraction > 0) byPercent.set(fraction, [...(byPercent.get(fraction) ?? []), month + 1]);
  });
  for (const [fraction, months] of byPercent)
    out.push({ percent: percentOf(fraction), lookbackMonths: Config.urdbRatchetLookbackMonths, ...(months.length < 12 ? { months } : {}) });
  if (rate.lookbackpercent !== undefined && rate.lookbackpercent > 0) {
    const peakMonths = rate.lookbackMonths?.flatMap((counted, month) => (counted ? [month + 1] : []));
    out.push({
      percent: percentOf(rate.lookbackpercent),
      lookbackMonths: rate.lookbackrange ?? Config.urdbRatchetLookbackMonths + 1,
      ...(peakMonths && peakMonths.length < 12 ? { peakMonths } : {}),
    });
  }
  return out;
}

/** URDB spells the lookback fields both ways (`lookbackPercent` in the API's docs, `lookbackpercent` in rate exports): one spelling. */
function withLowerCaseLookback(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null) return raw;
  const { lookbackPercent, lookbackRange, ...rest } = raw as Record<string, unknown>;
  return { lookbackpercent: lookbackPercent, lookbackrange: lookbackRange, ...rest };
}

export class UrdbError extends PathError {
  readonly code = "tariff.urdb_invalid";
  override readonly name = "UrdbError";
}

/** A fraction (0.8) as a percent string ("80"), exactly. */
const percentOf = (fraction: number) => new Decimal(String(fraction)).times(100).toFixed();

function tiers(structure: z.infer<typeof RateTier>[], path: string, unit: string): Tier[] {
  return structure.map((tier, index) => {
    if (tier.unit !== undefined && tier.unit !== unit) throw new UrdbError(`unit ${tier.unit} is not supported (only ${unit})`, `${path}.${index}.unit`);
    const last = index === structure.length - 1;
    return { price: new Decimal(tier.rate ?? 0).plus(tier.adj ?? 0).toFixed(), ...(last || tier.max === undefined ? {} : { upTo: tier.max }) };
  });
}

function charge(amount: string | undefined, units: string | undefined, code: string, path: string): Charge | undefined {
  if (amount === undefined || new Decimal(amount).isZero()) return undefined;
  switch (units ?? "$/month") {
    case "$/month":
      return { code, amount, per: "month" };
    case "$/day":
      return { code, amount, per: "day" };
    default:
      throw new UrdbError(`units ${units} are not supported ($/month or $/day)`, path);
  }
}

function bands(energy: number[], demand: number[] | undefined): Band[] {
  const out: Band[] = [];
  for (let hour = 0; hour < 24; hour++) {
    const period = `p${energy[hour]}`;
    const demandPeriod = demand ? `d${demand[hour]}` : undefined;
    const last = out[out.length - 1];
    if (last && last.period === period && last.demand === demandPeriod) last.to = hour + 1;
    else out.push({ from: hour, to: hour + 1, period, ...(demandPeriod ? { demand: demandPeriod } : {}) });
  }
  return out;
}

/**
 * A `tou` tariff from a URDB rate (or a URDB API answer `{ items: [rate] }`).
 * @example Urdb.toTariff(JSON.parse(readFileSync("rate.json", "utf8")), { currency: "USD" })
 */
export function toTariff(input: unknown, options: { currency?: string } = {}): { definition: TimeOfUse; warnings: string[] } {
  const raw = typeof input === "object" && input !== null && "items" in input && Array.isArray(input.items) ? input.items[0] : input;
  const parsed = Rate.safeParse(withLowerCaseLookback(raw));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UrdbError(issue?.message ?? "not a URDB rate", issue?.path.join(".") || "(root)");
  }
  const rate = parsed.data;
  const warnings: string[] = [];
  const hasDemandSchedule = rate.demandratestructure !== undefined && rate.demandweekdayschedule !== undefined && rate.demandweekendschedule !== undefined;
  const schedules = [
    ["energyweekdayschedule", rate.energyweekdayschedule, "energyratestructure", rate.energyratestructure.length],
    ["energyweekendschedule", rate.energyweekendschedule, "energyratestructure", rate.energyratestructure.length],
    ["demandweekdayschedule", hasDemandSchedule ? rate.demandweekdayschedule : undefined, "demandratestructure", rate.demandratestructure?.length ?? 0],
    ["demandweekendschedule", hasDemandSchedule ? rate.demandweekendschedule : undefined, "demandratestructure", rate.demandratestructure?.length ?? 0],
  ] as const;
  for (const [name, matrix, structure, count] of schedules)
    for (const [month, row] of (matrix ?? []).entries())
      for (const [hour, period] of row.entries())
        if (period >= count) throw new UrdbError(`period ${period} has no rate in ${structure}`, `${name}.${month}.${hour}`);

  // Consecutive months with the same hours make one season, named by its months ("months-5-10").
  const runs: { first: number; last: number; key: string; weekday: Band[]; weekend: Band[] }[] = [];
  for (let month = 1; month <= 12; month++) {
    const weekday = bands(rate.energyweekdayschedule[month - 1] as number[], hasDemandSchedule ? rate.demandweekdayschedule?.[month - 1] : undefined);
    const weekend = bands(rate.energyweekendschedule[month - 1] as number[], hasDemandSchedule ? rate.demandweekendschedule?.[month - 1] : undefined);
    const key = JSON.stringify([weekday, weekend]);
    const last = runs[runs.length - 1];
    if (last && last.key === key) last.last = month;
    else runs.push({ first: month, last: month, key, weekday, weekend });
  }
  const seasons: Season[] = runs.map((run) => ({
    name: run.first === run.last ? `month-${run.first}` : `months-${run.first}-${run.last}`,
    starts: { month: run.first, day: 1 },
    weekday: run.weekday,
    saturday: run.weekend,
    sunday: run.weekend,
  }));

  const energy: Prices["energy"] = {};
  rate.energyratestructure.forEach((structure, period) => {
    energy[`p${period}`] = tiers(structure, `energyratestructure.${period}`, "kWh");
  });
  const demand: DemandCharge[] = [];
  if (hasDemandSchedule)
    rate.demandratestructure?.forEach((structure, period) => {
      demand.push({ code: `demand-d${period}`, periods: [`d${period}`], tiers: tiers(structure, `demandratestructure.${period}`, "kW") });
    });
  else if (rate.demandratestructure) warnings.push("demandratestructure without its weekday/weekend schedules was left out");
  const ratchets = ratchetsOf(rate);
  rate.flatdemandstructure?.forEach((structure, period) => {
    const months = (rate.flatdemandmonths ?? Array(12).fill(0)).flatMap((value: number, month: number) => (value === period ? [month + 1] : []));
    if (months.length > 0)
      demand.push({
        code: `flat-demand-${period}`,
        months,
        ...(ratchets.length > 0 ? { ratchets } : {}),
        tiers: tiers(structure, `flatdemandstructure.${period}`, "kW"),
      });
  });
  // SAM's billing demand (ratchets) applies to the flat (monthly) demand charge; a TOU period's charge bills its own peak.
  if (ratchets.length > 0 && !demand.some((item) => item.ratchets))
    warnings.push("the demand ratchets have no flat demand charge (flatdemandstructure) to apply to and were left out");
  for (const key of ["coincidentratestructure"]) if (typeof raw === "object" && raw !== null && key in raw) warnings.push(`${key} is not modelled`);

  const fixed = charge(rate.fixedchargefirstmeter, rate.fixedchargeunits, "fixed", "fixedchargeunits");
  const minimum = charge(rate.mincharge, rate.minchargeunits, "minimum", "minchargeunits");
  const window = rate.demandwindow ?? 15;
  if (![5, 15, 30, 60].includes(window)) throw new UrdbError(`a demand window of ${window} minutes is not supported (5, 15, 30 or 60)`, "demandwindow");
  return {
    definition: {
      kind: "tou",
      name: [rate.utility, rate.name].filter(Boolean).join(" — ") || undefined,
      currency: options.currency ?? "USD",
      holidays: "none",
      seasons,
      prices: [{ fixed: fixed ? [fixed] : [], ...(minimum ? { minimum } : {}), energy, demand }],
      demandWindow: { minutes: window as 5 | 15 | 30 | 60, rolling: false },
      taxPercent: "0",
      otherCharges: [],
    },
    warnings,
  };
}
