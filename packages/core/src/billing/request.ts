/**
 * A bill request as JSON (what `wattflow bill --input` reads): a CFE plan (GDMTH, GDMTO, GDBT, PDBT, DIST, DIT), a
 * zone, a billing period, one month's prices and the usage — 5-minute readings or sums, and optionally the meters
 * the readings come from (then the bill is the billing meters' and the sub-meters get its allocation). Pure.
 */
import Decimal from "decimal.js";
import { z } from "zod";
import { Location, LocationError, normalize } from "../location";
import { Cfe } from "../tariff/cfe";
import { type Cfe as CfeDefinition, CfeGdmth, CfeZone, cfeKinds, Definition } from "../tariff/index";
import { parseInstant } from "../tariff/periods";
import { TariffError } from "../tariff/plan";
import { isTimeZone } from "../time";
import { Money } from "../util/money";
import { Allocation } from "./allocation";
import type { Aggregates, Bill, Input, Reading } from "./shapes";

export * as BillRequest from "./request";

const price = (what: string) => Money.of({ what: `${what} price` });
const amount = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .finite()
    .min(0, `${what} must not be negative`);
const date = z.string({ error: "a date is required (YYYY-MM-DD)" });

const energyPrice = Money.of({ what: "the energy price" });
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

/**
 * The prices of one month: fixed charge, energy per period (one price for GDMTO, GDBT and PDBT), distribution and
 * capacity per kW (none for PDBT; distribution optional for DIST and DIT). Which of them a tariff needs: `problems`.
 */
export const Prices = z.object(
  {
    fixed: price("the fixed"),
    // One price (GDMTO, GDBT, PDBT) or one per period (GDMTH, DIST, DIT).
    energy: byShape((value) => typeof value === "object" && value !== null, EnergyPerPeriod, energyPrice),
    distribution: price("the distribution").optional(),
    capacity: price("the capacity").optional(),
  },
  { error: "prices are required" },
);
export type Prices = z.infer<typeof Prices>;

export const Tariff = z.enum(cfeKinds, { error: `tariff must be ${cfeKinds.join(", ")}` });
export type Tariff = z.infer<typeof Tariff>;

/**
 * What is wrong with a month's prices for a tariff, each with its path under the prices object: energy per period
 * for the time-of-use tariffs (GDMTH, DIST, DIT), one energy price for the others; distribution and capacity per kW
 * where the tariff charges them (Cfe.structures), none for PDBT (whose per-kW costs are inside its energy price).
 * @example problems("cfe-pdbt", { fixed: "60", energy: "3.1", capacity: "300" }) → [{ path: ["capacity"], message: "PDBT has no capacity charge …" }]
 */
export function problems(tariff: Tariff, prices: Prices): { path: string[]; message: string }[] {
  const structure = Cfe.structures[tariff];
  const found: { path: string[]; message: string }[] = [];
  if (structure.hourly && typeof prices.energy === "string")
    found.push({ path: ["energy"], message: `${structure.code} has energy prices per period: { "base", "intermedia", "punta" }` });
  if (!structure.hourly && typeof prices.energy !== "string")
    found.push({ path: ["energy"], message: `${structure.code} has one energy price: a decimal string` });
  if (structure.demand === "none") {
    for (const charge of ["distribution", "capacity"] as const)
      if (prices[charge] !== undefined)
        found.push({ path: [charge], message: `${structure.code} has no ${charge} charge per kW (CFE prices it per kWh, inside the energy price)` });
    return found;
  }
  if (prices.capacity === undefined) found.push({ path: ["capacity"], message: `${structure.code} needs the capacity price per kW` });
  // Above 35 kV the supply is not on the distribution network: DIST and DIT bill distribution only when given.
  if (prices.distribution === undefined && structure.voltage !== "high")
    found.push({ path: ["distribution"], message: `${structure.code} needs the distribution price per kW` });
  return found;
}

/** The prices of one month for `tariff`: `Prices` with `problems` checked, each named by its path. */
export function pricesFor(tariff: Tariff) {
  return Prices.superRefine((prices, ctx) => {
    for (const problem of problems(tariff, prices)) ctx.addIssue({ code: "custom", ...problem });
  });
}

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
    tariff: Tariff,
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
    /**
     * The meters the readings come from (each reading names its `meterId`): the bill is the billing meters' alone
     * and the sub-meters get its allocation (Allocation.compute). Without a billing meter every meter is summed.
     */
    meters: z
      .array(
        z.object({
          id: z.string().min(1, "id is required"),
          role: Allocation.Role,
          parentId: z.string().nullable().default(null),
        }),
      )
      .optional(),
    /** Earlier bills' maximum demand (kW) by bill month, for a tariff with demand ratchets. */
    priorPeaks: z
      .array(
        z.object({
          month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "month is YYYY-MM"),
          kw: amount("kw"),
        }),
      )
      .optional(),
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
    const structure = Cfe.structures[request.tariff];
    for (const problem of problems(request.tariff, request.prices)) ctx.addIssue({ code: "custom", ...problem, path: ["prices", ...problem.path] });
    if (structure.hourly && "kwh" in request.usage && typeof request.usage.kwh === "number")
      ctx.addIssue({ code: "custom", path: ["usage", "kwh"], message: `${structure.code} needs kWh per period: { "base", "intermedia", "punta" }` });
    if (structure.hourly && "demandKw" in request.usage && request.usage.demandKw.punta === undefined)
      ctx.addIssue({ code: "custom", path: ["usage", "demandKw", "punta"], message: `${structure.code} needs the maximum demand in punta` });
    if (request.lowVoltageMetering && structure.voltage === "low")
      ctx.addIssue({
        code: "custom",
        path: ["lowVoltageMetering"],
        message: `${structure.code} is a low-voltage supply: the 2 % low-voltage metering surcharge does not apply`,
      });
    if (request.meters) meterProblems(request.meters, request.usage, ctx);
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

/** Meters in a tree (Allocation.placeProblem), named once, and every reading from one of them. */
function meterProblems(meters: NonNullable<Request["meters"]>, usage: Request["usage"], ctx: z.RefinementCtx): void {
  const parentOf = new Map(meters.map((meter) => [meter.id, meter.parentId]));
  const seen = new Set<string>();
  meters.forEach((meter, index) => {
    if (seen.has(meter.id)) ctx.addIssue({ code: "custom", path: ["meters", index, "id"], message: `meter ${meter.id} is listed twice` });
    seen.add(meter.id);
    const problem = Allocation.placeProblem(parentOf, meter);
    if (problem) ctx.addIssue({ code: "custom", path: ["meters", index, "parentId"], message: problem });
  });
  if (!("readings" in usage)) {
    ctx.addIssue({ code: "custom", path: ["usage"], message: "meters need the usage as readings, each with its meterId" });
    return;
  }
  usage.readings.forEach((reading, index) => {
    if (reading.meterId === undefined || !parentOf.has(reading.meterId))
      ctx.addIssue({
        code: "custom",
        path: ["usage", "readings", index, "meterId"],
        message: `meterId must be one of the meters (${[...parentOf.keys()].join(", ")})`,
      });
  });
}

/**
 * The CFE definition a request's prices make (valid for its billing month).
 * @throws TariffError when the prices do not fit the tariff (`problems` says which, by path; a parsed Request never does).
 */
export function definition(
  request: Pick<Request, "tariff" | "prices" | "rollingDemand" | "powerFactorThreshold" | "lowVoltageMetering" | "streetLighting"> & { zone: CfeZone },
): CfeDefinition {
  const problem = problems(request.tariff, request.prices)[0];
  if (problem) throw new TariffError(`prices.${problem.path.join(".")}: ${problem.message}`);
  const { fixed, distribution, capacity, energy } = request.prices;
  // The tariff's own schema types the row (PDBT drops the per-kW prices it has none of).
  return Definition.parse({
    kind: request.tariff,
    zone: request.zone,
    rollingDemand: request.rollingDemand,
    powerFactorThreshold: request.powerFactorThreshold,
    lowVoltageMetering: request.lowVoltageMetering,
    streetLighting: request.streetLighting,
    prices: [{ fixed, distribution, capacity, energy }],
  }) as CfeDefinition;
}

/** The readings of the meters a request bills: the billing meters' when it lists meters and marks one billing, else all. */
function billed(request: Request): Request["usage"] {
  const billing = new Set(request.meters?.filter((meter) => meter.role === "billing").map((meter) => meter.id));
  if (billing.size === 0 || !("readings" in request.usage)) return request.usage;
  return { readings: request.usage.readings.filter((reading) => billing.has(reading.meterId as string)) };
}

/** The billing engine's input for a parsed request. */
export function toInput(request: Request): Input {
  const chosen = billed(request);
  const usage: Input["usage"] =
    "readings" in chosen
      ? {
          readings: chosen.readings.map(
            (reading): Reading => ({
              start: new Date(parseInstant(reading.start) as number),
              seconds: reading.seconds,
              kwh: reading.kwh,
              kvarh: reading.kvarh,
            }),
          ),
        }
      : aggregates(chosen, request.tariff);
  const located = placeOf(request);
  const place = Location.resolve(located);
  const contract = { ...request.contract, state: located.state, municipality: located.municipality };
  return {
    definition: definition({ ...request, zone: place.zone }),
    contract,
    timeZone: place.timeZone,
    period: request.period,
    usage,
    priorPeaks: request.priorPeaks,
  };
}

/**
 * The bill's allocation to the request's sub-meters (Allocation.compute), or undefined when it lists no meters.
 * Readings longer than 5 minutes count in the period of their start.
 */
export function allocate(request: Request, input: Input, bill: Bill): Allocation.Allocation | undefined {
  if (!request.meters || !("readings" in request.usage)) return undefined;
  const readings = request.usage.readings.map((reading) => ({
    meterId: reading.meterId as string,
    start: new Date(parseInstant(reading.start) as number),
    kwh: reading.kwh,
  }));
  return Allocation.compute({ bill, meters: request.meters, energy: Allocation.energyByMeter(input.definition, input.timeZone as string, readings) });
}

function aggregates(usage: Exclude<Request["usage"], { readings: unknown }>, tariff: Request["tariff"]): Aggregates {
  // GDMTO, GDBT and PDBT price all hours alike: kWh given per period are summed into their one period.
  const kwh =
    typeof usage.kwh === "number"
      ? { energia: usage.kwh }
      : !Cfe.structures[tariff].hourly
        ? { energia: new Decimal(usage.kwh.base).plus(usage.kwh.intermedia).plus(usage.kwh.punta).toNumber() }
        : usage.kwh;
  const demandKw: Aggregates["demandKw"] =
    usage.demandKw.punta === undefined ? { max: usage.demandKw.max } : { max: usage.demandKw.max, punta: usage.demandKw.punta };
  return { kwh, kvarh: usage.kvarh, kwhWithKvarh: usage.kwhWithKvarh, demandKw };
}
