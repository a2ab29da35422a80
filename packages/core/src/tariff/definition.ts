/**
 * The shapes of a tariff definition (pure schemas and their types): `flat`, `tou` and the CFE plans. Every other
 * tariff module imports these from here, so none of them needs the `Tariff` namespace that imports them back.
 */
import { z } from "zod";
import { Config } from "../config";
import { Money } from "../util/money";
import { Rule as HolidayRule } from "./holidays";

const money = Money.Unsigned;
const signedMoney = Money.Signed;
const percent = z.string().regex(/^\d+(\.\d+)?$/, 'a percentage is a decimal string such as "16"');
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a month is YYYY-MM");
const periodName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "a period name is lower-case letters, digits, - or _");

export const Flat = z.object({
  kind: z.literal("flat"),
  currency: z.string().length(3),
  /** Price per kWh, exact decimal. */
  energyPrice: money,
});

/** A day of the year: a fixed date, or the nth weekday (0 = Sunday) of a month, nth -1 being the last. */
export const DateRule = z.union(
  [
    z.object({ month: z.number().int().min(1).max(12), day: z.number().int().min(1).max(31) }),
    z.object({
      month: z.number().int().min(1).max(12),
      weekday: z.number().int().min(0).max(6),
      nth: z.union([z.literal(-1), z.number().int().min(1).max(4)]),
    }),
  ],
  // Neither shape fits: say both, not zod's bare "Invalid input".
  { error: "a day of the year is { month: 1–12, day: 1–31 } or { month: 1–12, weekday: 0–6 (0 = Sunday), nth: 1–4 or -1 (the last) }" },
);
export type DateRule = z.infer<typeof DateRule>;

/** Local hours [from, to) of one time-of-use period; `demand` names the demand period when it differs (URDB). */
const hour = z
  .number()
  .min(0)
  .max(24)
  .refine((value) => Number.isInteger(value * 4), "hours are whole quarters (6, 6.25, 6.5…)");
export const Band = z.object({ from: hour, to: hour, period: periodName, demand: periodName.optional() });
export type Band = z.infer<typeof Band>;

const Bands = z
  .array(Band)
  .min(1)
  .superRefine((bands, ctx) => {
    let at = 0;
    for (const [index, band] of bands.entries()) {
      if (band.from !== at || band.to <= band.from) {
        ctx.addIssue({
          code: "custom",
          path: [index],
          message: `bands must cover 0–24 h in order without gaps; band ${index} starts at ${band.from}, expected ${at}`,
        });
        return;
      }
      at = band.to;
    }
    if (at !== 24) ctx.addIssue({ code: "custom", message: `bands end at ${at} h, not 24` });
  });

/** A season starts on its date rule each year and lasts until the next season starts. Holidays use `sunday`. */
export const Season = z.object({ name: z.string().min(1), starts: DateRule, weekday: Bands, saturday: Bands, sunday: Bands });
export type Season = z.infer<typeof Season>;

/** A price up to `upTo` units counted from the start of the month (kWh or kW); the last tier has no limit. */
export const Tier = z.object({ price: signedMoney, upTo: z.number().positive().optional() });
export type Tier = z.infer<typeof Tier>;

const calendarMonths = z.array(z.number().int().min(1).max(12));
/** A demand ratchet: a floor on billed demand at a percentage of the earlier months' peaks (see DemandCharge.ratchets). */
export const Ratchet = z.object({
  percent,
  lookbackMonths: z.number().int().min(1).max(Config.ratchetMaxLookbackMonths),
  peakMonths: calendarMonths.optional(),
  months: calendarMonths.optional(),
});
export type Ratchet = z.infer<typeof Ratchet>;

/**
 * A demand charge on the month's maximum demand in `periods` (every period when absent), only in
 * `months` (1–12) when given. With `loadFactor` the billed demand is min(max demand, Q / (24 · d · FC))
 * (CFE). `roundKw` rounds the billed kW to a whole number: "up" (CFE: any fraction of a kW is a whole
 * kW), "nearest" (halves up; `true` in tariffs saved before "up" existed).
 */
export const DemandCharge = z.object({
  code: z.string().min(1),
  periods: z.array(periodName).min(1).optional(),
  months: z.array(z.number().int().min(1).max(12)).optional(),
  loadFactor: z.number().gt(0).max(1).optional(),
  roundKw: z.union([z.literal(true), z.literal(false), z.enum(["up", "nearest"])]).optional(),
  /** When none of `periods` occurs in the billing period, bill the maximum of all periods instead (legacy spelling of `withoutPeriods: "all-periods"`). */
  fallbackToAll: z.boolean().optional(),
  /**
   * When none of `periods` occurs in the billing period: "all-periods" bills the maximum of every period,
   * "load-factor" bills Q / (24 · d · FC) alone (CFE GDMTH §7: "para el caso de que no haya periodo de punta").
   */
  withoutPeriods: z.enum(["all-periods", "load-factor"]).optional(),
  /** Bill Q / (24 · d · FC) alone, whatever was measured (a tariff without a punta period, such as GDMTO). */
  loadFactorOnly: z.boolean().optional(),
  /**
   * Demand ratchets (URDB `demandratchetpercentage`, `lookbackpercent`/`lookbackrange`/`lookbackMonths`; SAM's
   * billing demand): the billed kW is at least `percent` % of the highest maximum demand of the `lookbackMonths`
   * bill months before this one (only those whose calendar month is in `peakMonths`, when given), in the bill
   * months `months` (all when absent). Prior peaks come with the bill (`Bill.Input.priorPeaks`).
   */
  ratchets: z.array(Ratchet).optional(),
  tiers: z.array(Tier).min(1),
});
export type DemandCharge = z.infer<typeof DemandCharge>;

export const Charge = z.object({ code: z.string().min(1), amount: signedMoney, per: z.enum(["month", "day"]) });
export type Charge = z.infer<typeof Charge>;

/** The prices of one month (or of every month when `month` is absent), optionally for one tariff division. */
export const Prices = z.object({
  month: month.optional(),
  division: z.string().optional(),
  fixed: z.array(Charge).default([]),
  minimum: Charge.optional(),
  /** Energy price tiers per time-of-use period. */
  energy: z.record(periodName, z.array(Tier).min(1)),
  demand: z.array(DemandCharge).default([]),
});
export type Prices = z.infer<typeof Prices>;

export const PowerFactor = z.object({
  /** Percent; 90 in CFE's text, 95/97 for large consumers is unconfirmed, hence a parameter. */
  threshold: z.number().gt(0).max(100).default(90),
  surchargeFactor: z.number().default(0.6),
  bonusFactor: z.number().default(0.25),
  maxSurchargePercent: z.number().default(120),
  maxBonusPercent: z.number().default(2.5),
  /** Decimals the resulting percentage is rounded to (one in CFE's bills; unconfirmed in the tariff text). */
  percentDecimals: z.number().int().min(0).max(6).default(1),
});
export type PowerFactor = z.infer<typeof PowerFactor>;

export const TimeOfUse = z
  .object({
    kind: z.literal("tou"),
    name: z.string().optional(),
    currency: z.string().length(3),
    holidays: z.enum(HolidayRule).default("none"),
    seasons: z.array(Season).min(1),
    /** The tariff division whose price tables apply (prices without a division apply to all). */
    division: z.string().optional(),
    prices: z.array(Prices).min(1),
    demandWindow: z
      .object({ minutes: z.literal(15).or(z.literal(30)).or(z.literal(60)).or(z.literal(5)), rolling: z.boolean() })
      .default({ minutes: 15, rolling: false }),
    powerFactor: PowerFactor.optional(),
    /** Percent added to the supply charges when the utility meters on the low-voltage side (CFE: 2). */
    lowVoltageSurchargePercent: percent.optional(),
    taxPercent: percent.default("0"),
    /**
     * Lines outside the supply, such as a municipality's street-lighting charge (DAP): a percent of the amount
     * after the power factor (capped at `cap` a month when given), or an amount a month. Added after tax and
     * untaxed (CFE's DAP) unless `taxed`.
     */
    otherCharges: z
      .array(
        z
          .object({
            code: z.string().min(1),
            percent: percent.optional(),
            cap: money.optional(),
            amount: signedMoney.optional(),
            taxed: z.boolean().optional(),
          })
          .refine((charge) => (charge.percent === undefined) !== (charge.amount === undefined), "give a percent or an amount"),
      )
      .default([]),
  })
  .superRefine((tou, ctx) => {
    // Every period the seasons use needs an energy price in every table, or a reading could not be priced.
    const periods = new Set(tou.seasons.flatMap((season) => [...season.weekday, ...season.saturday, ...season.sunday].map((band) => band.period)));
    tou.prices.forEach((table, index) => {
      for (const period of periods)
        if (!table.energy[period]) ctx.addIssue({ code: "custom", path: ["prices", index, "energy", period], message: `no energy price for period ${period}` });
    });
  });
export type TimeOfUse = z.infer<typeof TimeOfUse>;

export const CfeZone = z.enum(["central", "baja-california", "baja-california-sur"], { error: "zone must be central, baja-california or baja-california-sur" });
export type CfeZone = z.infer<typeof CfeZone>;

const cfePrices = {
  month: month.optional(),
  division: z.string().optional(),
  fixed: money,
  distribution: money,
  capacity: money,
};
const perPeriod = z.object({ base: money, intermedia: money, punta: money });
/** One month of a CFE division's published GDMTH prices (energy per period). */
export const GdmthPrices = z.object({ ...cfePrices, energy: perPeriod });
export type GdmthPrices = z.infer<typeof GdmthPrices>;
/** One month of a CFE division's published GDMTO prices (one energy price at all hours); GDBT's have the same shape. */
export const GdmtoPrices = z.object({ ...cfePrices, energy: money });
export type GdmtoPrices = z.infer<typeof GdmtoPrices>;
/** PDBT: a fixed charge and one energy price per kWh (CFE publishes distribution and capacity for it per kWh, inside the energy price). */
export const PdbtPrices = z.object({ month: month.optional(), division: z.string().optional(), fixed: money, energy: money });
export type PdbtPrices = z.infer<typeof PdbtPrices>;
/**
 * DIST / DIT: energy per period like GDMTH, capacity per kW. Distribution per kW only when the price table has one:
 * a supply above 35 kV is not on the distribution network (unconfirmed for DIST: give it when CFE's table prints it).
 */
export const HighVoltagePrices = z.object({ ...cfePrices, distribution: money.optional(), energy: perPeriod });
export type HighVoltagePrices = z.infer<typeof HighVoltagePrices>;

/** A power-factor threshold in percent (90, 95), not a fraction (Config.cfeBilling.powerFactorThresholdMin says why). */
export const PowerFactorThreshold = z
  .number({ error: "powerFactorThreshold must be a number" })
  .min(Config.cfeBilling.powerFactorThresholdMin, `powerFactorThreshold is a percent such as 95, at least ${Config.cfeBilling.powerFactorThresholdMin}`)
  .max(100, "powerFactorThreshold is a percent, at most 100");

const cfeOptions = {
  zone: CfeZone,
  division: z.string().optional(),
  /** 15-minute demand on a window rolling every 5 minutes instead of aligned to :00/:15/:30/:45 (unconfirmed which CFE uses). */
  rollingDemand: z.boolean().optional(),
  powerFactorThreshold: PowerFactorThreshold.optional(),
  lowVoltageMetering: z.boolean().optional(),
  loadFactor: z.number().gt(0).max(1).optional(),
  /**
   * The municipality's street-lighting charge (DAP) for this factory: a percent of the energy amount with an
   * optional monthly cap, or a monthly amount; `{ "none": true }` when CFE collects none. Overrides the bundled
   * municipality data (billing/dap.ts).
   */
  streetLighting: z
    .union([
      z.object({ none: z.literal(true) }),
      z
        .object({ percent: percent.optional(), cap: money.optional(), amount: money.optional() })
        .refine((charge) => (charge.percent === undefined) !== (charge.amount === undefined), "give a percent (with an optional cap) or an amount"),
    ])
    .optional(),
};

export const CfeGdmth = z.object({ kind: z.literal("cfe-gdmth"), ...cfeOptions, prices: z.array(GdmthPrices).min(1) });
export const CfeGdmto = z.object({ kind: z.literal("cfe-gdmto"), ...cfeOptions, prices: z.array(GdmtoPrices).min(1) });
/** Gran demanda en baja tensión (over 25 kW): GDMTO's structure on a low-voltage supply. */
export const CfeGdbt = z.object({ kind: z.literal("cfe-gdbt"), ...cfeOptions, prices: z.array(GdmtoPrices).min(1) });
/** Pequeña demanda en baja tensión (up to 25 kW): a fixed charge and energy. */
export const CfePdbt = z.object({ kind: z.literal("cfe-pdbt"), ...cfeOptions, prices: z.array(PdbtPrices).min(1) });
/** Demanda industrial en subtransmisión: GDMTH's time-of-use structure above 35 kV. */
export const CfeDist = z.object({ kind: z.literal("cfe-dist"), ...cfeOptions, prices: z.array(HighVoltagePrices).min(1) });
/** Demanda industrial en transmisión (220 kV and above): GDMTH's time-of-use structure. */
export const CfeDit = z.object({ kind: z.literal("cfe-dit"), ...cfeOptions, prices: z.array(HighVoltagePrices).min(1) });
export type Cfe =
  | z.infer<typeof CfeGdmth>
  | z.infer<typeof CfeGdmto>
  | z.infer<typeof CfeGdbt>
  | z.infer<typeof CfePdbt>
  | z.infer<typeof CfeDist>
  | z.infer<typeof CfeDit>;
/** The CFE tariffs Wattflow bills. */
export const cfeKinds = ["cfe-gdmth", "cfe-gdmto", "cfe-gdbt", "cfe-pdbt", "cfe-dist", "cfe-dit"] as const satisfies readonly Cfe["kind"][];

export const Definition = z.discriminatedUnion("kind", [Flat, TimeOfUse, CfeGdmth, CfeGdmto, CfeGdbt, CfePdbt, CfeDist, CfeDit]);
export type Definition = z.infer<typeof Definition>;

/**
 * A definition as a person enters it (the API's tariff bodies, a CFE plan's prices typed by hand): `Definition`, and
 * each month priced once. Two price tables for one month used to be stored, and the bill read the first
 * (Plan.pricesFor), so a correction added below the original was silently ignored. Stored definitions keep
 * `Definition`'s rule. Refusal: a custom issue on `prices.N.month` of the repeated entry.
 */
export const InputDefinition = Definition.superRefine((definition, context) => {
  if (definition.kind === "flat") return;
  const first = new Map<string, number>();
  definition.prices.forEach((entry: { month?: string }, index: number) => {
    if (entry.month === undefined) return;
    const earlier = first.get(entry.month);
    if (earlier === undefined) first.set(entry.month, index);
    else
      context.addIssue({
        code: "custom",
        path: ["prices", index, "month"],
        message: `${entry.month} is priced already by entry ${earlier}: give each month once (correct that entry instead)`,
      });
  });
});
