/**
 * A bill request as JSON (what `wattflow bill --input` reads): a CFE plan, a zone, a billing
 * period, one month's prices and the usage — 5-minute readings or sums. Pure.
 */
import Decimal from "decimal.js";
import { z } from "zod";
import { Location, LocationError, normalize } from "../location";
import { CfeGdmth, CfeZone, type Definition } from "../tariff/index";
import { isTimeZone, parseInstant } from "../tariff/periods";
import type { Aggregates, Input, Reading } from "./index";

export * as BillRequest from "./request";

const price = (what: string) =>
  z
    .string({ error: `${what} price is required, as a decimal string such as "1.5573"` })
    .regex(/^\d+(\.\d+)?$/, `${what} price must be a non-negative decimal string such as "1.5573"`);
const amount = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .finite()
    .min(0, `${what} must not be negative`);
const date = z.string({ error: "a date is required (YYYY-MM-DD)" });

const energyPrice = z
  .string({ error: 'energy prices are required: { "base", "intermedia", "punta" } (GDMTH) or one decimal string (GDMTO)' })
  .regex(/^\d+(\.\d+)?$/, 'the energy price must be a non-negative decimal string such as "1.5573"');
const EnergyPerPeriod = z.object({ base: price("the base energy"), intermedia: price("the intermedia energy"), punta: price("the punta energy") });

/**
 * One of two schemas, picked by the value's shape and not tried in turn, so a problem is named at its own path
 * ("usage.kwh.base must be a number") rather than as "no alternative matched".
 */
function byShape<A extends z.ZodType, B extends z.ZodType>(isA: (value: unknown) => boolean, a: A, b: B) {
  return z.unknown().transform((value, ctx): z.infer<A> | z.infer<B> => {
    const parsed = (isA(value) ? a : b).safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    return z.NEVER;
  });
}

/** The prices of one month: fixed charge, energy per period (one price for GDMTO), distribution and capacity per kW. */
export const Prices = z.object(
  {
    fixed: price("the fixed"),
    // One price (GDMTO) or one per period (GDMTH).
    energy: byShape((value) => typeof value === "object" && value !== null, EnergyPerPeriod, energyPrice),
    distribution: price("the distribution"),
    capacity: price("the capacity"),
  },
  { error: "prices are required" },
);
export type Prices = z.infer<typeof Prices>;

export const ReadingInput = z.object({
  meterId: z.string().optional(),
  start: z
    .string({ error: "start is required (ISO 8601 instant)" })
    .refine((value) => parseInstant(value) !== null, "start must be a real ISO 8601 instant such as 2026-04-06T20:30:00Z"),
  seconds: z.number().int("seconds must be a whole number").positive("seconds must be positive").default(300),
  kwh: amount("kwh"),
  kvarh: z.number().finite().optional(),
});

const kwhPerPeriod = z.object({ base: amount("kwh.base"), intermedia: amount("kwh.intermedia"), punta: amount("kwh.punta") });
const Sums = z
  .object(
    {
      kwh: byShape((value) => typeof value === "object" && value !== null, kwhPerPeriod, amount("kwh")),
      kvarh: z.number().finite().optional(),
      /** kWh of the meters that measured the kVArh (power factor pairs the two); default every kWh. */
      kwhWithKvarh: amount("kwhWithKvarh").optional(),
      demandKw: z.object({ max: amount("demandKw.max"), punta: amount("demandKw.punta").optional() }, { error: 'demandKw is { "max", "punta"? }' }),
    },
    { error: 'usage is { "readings": [...] } or { "kwh", "kvarh", "demandKw" }' },
  )
  .superRefine((sums, ctx) => {
    // The maximum demand is the month's highest window, punta's included; the kVArh meters' kWh are part of all kWh.
    if (sums.demandKw.punta !== undefined && sums.demandKw.punta > sums.demandKw.max)
      ctx.addIssue({
        code: "custom",
        path: ["demandKw", "punta"],
        message: `the punta demand ${sums.demandKw.punta} kW exceeds the maximum demand ${sums.demandKw.max} kW`,
      });
    const total = typeof sums.kwh === "number" ? sums.kwh : sums.kwh.base + sums.kwh.intermedia + sums.kwh.punta;
    if (sums.kwhWithKvarh !== undefined && sums.kwhWithKvarh > total)
      ctx.addIssue({ code: "custom", path: ["kwhWithKvarh"], message: `kwhWithKvarh ${sums.kwhWithKvarh} exceeds the ${total} kWh of the period` });
  });

const Usage = byShape((value) => typeof value === "object" && value !== null && "readings" in value, z.object({ readings: z.array(ReadingInput) }), Sums);

export const Request = z
  .object({
    tariff: z.enum(["cfe-gdmth", "cfe-gdmto"], { error: "tariff must be cfe-gdmth or cfe-gdmto" }),
    /** Where the factory is (the bundled catalogue): picks the schedule zone, the clock and the division. */
    state: z.string().optional(),
    municipality: z.string().optional(),
    /** CFE tariff division: picks the schedule zone, and the clock when its municipalities share one. */
    division: z.string().optional(),
    /** Schedule zone; central when nothing says where the factory is. */
    zone: CfeZone.optional(),
    /** The factory's IANA zone when it is not the schedule zone's usual one (a border city, Cancún…). */
    timeZone: z.string().refine(isTimeZone, "timeZone must be an IANA time zone such as America/Tijuana").optional(),
    period: z.object({ start: date, end: date }, { error: 'period is required: { "start": "YYYY-MM-DD", "end": "YYYY-MM-DD" }' }),
    prices: Prices,
    usage: Usage,
    rollingDemand: z.boolean().optional(),
    /** Overrides the threshold the contract and the bill month give (Config.powerFactorThresholds). */
    powerFactorThreshold: CfeGdmth.shape.powerFactorThreshold,
    lowVoltageMetering: z.boolean().optional(),
    /** The supply contract: voltage and contracted kW (power-factor threshold), state and municipality (DAP). */
    contract: z
      .object({
        supplyVoltage: z.enum(["medium", "high"], { error: "supplyVoltage is medium or high" }).optional(),
        contractedDemandKw: amount("contractedDemandKw").optional(),
        state: z.string().optional(),
        municipality: z.string().optional(),
      })
      .optional(),
    /** The DAP when it is not the municipality's bundled one: { percent, cap? }, { amount } or { none: true }. */
    streetLighting: CfeGdmth.shape.streetLighting,
  })
  .superRefine((request, ctx) => {
    for (const key of placeKeys) {
      const top = request[key];
      const inContract = request.contract?.[key];
      if (top !== undefined && inContract !== undefined && normalize(top) !== normalize(inContract))
        ctx.addIssue({
          code: "custom",
          path: ["contract", key],
          message: `the contract's ${key} ${JSON.stringify(inContract)} disagrees with ${key} ${JSON.stringify(top)}: give the place once`,
        });
    }
    try {
      Location.resolve(placeOf(request));
    } catch (error) {
      if (!(error instanceof LocationError)) throw error;
      // A place given only in the contract is named there.
      const key = placeKeys.find((name) => name === error.path);
      const path = key && request[key] === undefined && request.contract?.[key] !== undefined ? ["contract", key] : [error.path];
      ctx.addIssue({ code: "custom", path, message: error.message });
    }
    const hourly = request.tariff === "cfe-gdmth";
    if (hourly && typeof request.prices.energy === "string")
      ctx.addIssue({ code: "custom", path: ["prices", "energy"], message: 'GDMTH has energy prices per period: { "base", "intermedia", "punta" }' });
    if (!hourly && typeof request.prices.energy !== "string")
      ctx.addIssue({ code: "custom", path: ["prices", "energy"], message: "GDMTO has one energy price: a decimal string" });
    if (hourly && "kwh" in request.usage && typeof request.usage.kwh === "number")
      ctx.addIssue({ code: "custom", path: ["usage", "kwh"], message: 'GDMTH needs kWh per period: { "base", "intermedia", "punta" }' });
    if (hourly && "demandKw" in request.usage && request.usage.demandKw.punta === undefined)
      ctx.addIssue({ code: "custom", path: ["usage", "demandKw", "punta"], message: "GDMTH needs the maximum demand in punta" });
  });
export type Request = z.infer<typeof Request>;

const placeKeys = ["state", "municipality"] as const;

/**
 * Where the factory is for the zone, the clock and the DAP: `state`/`municipality` at the top or in the
 * `contract` (the README's form); the superRefine refuses the two when they disagree.
 */
function placeOf<T extends Pick<Request, "state" | "municipality" | "contract">>(request: T): T {
  return { ...request, state: request.state ?? request.contract?.state, municipality: request.municipality ?? request.contract?.municipality };
}

/** The CFE definition a request's prices make (valid for its billing month). */
export function definition(
  request: Pick<Request, "tariff" | "prices" | "rollingDemand" | "powerFactorThreshold" | "lowVoltageMetering" | "streetLighting"> & { zone: CfeZone },
) {
  const common = {
    zone: request.zone,
    rollingDemand: request.rollingDemand,
    powerFactorThreshold: request.powerFactorThreshold,
    lowVoltageMetering: request.lowVoltageMetering,
    streetLighting: request.streetLighting,
  };
  const { fixed, distribution, capacity, energy } = request.prices;
  const result: Exclude<Definition, { kind: "flat" | "tou" }> =
    typeof energy === "string"
      ? { kind: "cfe-gdmto", ...common, prices: [{ fixed, distribution, capacity, energy }] }
      : { kind: "cfe-gdmth", ...common, prices: [{ fixed, distribution, capacity, energy }] };
  return result;
}

/** The billing engine's input for a parsed request. */
export function toInput(request: Request): Input {
  const usage: Input["usage"] =
    "readings" in request.usage
      ? {
          readings: request.usage.readings.map(
            (reading): Reading => ({
              start: new Date(parseInstant(reading.start) as number),
              seconds: reading.seconds,
              kwh: reading.kwh,
              kvarh: reading.kvarh,
            }),
          ),
        }
      : aggregates(request.usage, request.tariff);
  const located = placeOf(request);
  const place = Location.resolve(located);
  const contract = { ...request.contract, state: located.state, municipality: located.municipality };
  return { definition: definition({ ...request, zone: place.zone }), contract, timeZone: place.timeZone, period: request.period, usage };
}

function aggregates(usage: Exclude<Request["usage"], { readings: unknown }>, tariff: Request["tariff"]): Aggregates {
  // GDMTO prices all hours alike: kWh given per period are summed into its one period.
  const kwh =
    typeof usage.kwh === "number"
      ? { energia: usage.kwh }
      : tariff === "cfe-gdmto"
        ? { energia: new Decimal(usage.kwh.base).plus(usage.kwh.intermedia).plus(usage.kwh.punta).toNumber() }
        : usage.kwh;
  const demandKw: Aggregates["demandKw"] =
    usage.demandKw.punta === undefined ? { max: usage.demandKw.max } : { max: usage.demandKw.max, punta: usage.demandKw.punta };
  return { kwh, kvarh: usage.kvarh, kwhWithKvarh: usage.kwhWithKvarh, demandKw };
}
