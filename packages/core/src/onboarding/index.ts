/**
 * What an admin sets up from the console, always inside their own organization: meters on a
 * factory's gateway, tariff versions (a definition, or a URDB rate turned into one), and reading
 * back a factory's tariffs and bills.
 */

import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { lineName, Name } from "../billing/lines";
import { Close } from "../close";
import { billLineTable, billTable } from "../close/bill.sql";
import { plantLimits } from "../config";
import { Database } from "../database";
import { deviceTable } from "../device/device.sql";
import { Factory } from "../factory";
import { Meter } from "../meter";
import { Prices } from "../prices";
import { priceTableTable } from "../prices/prices.sql";
import { Published } from "../prices/published";
import { cfeKinds, Definition, InputDefinition } from "../tariff/index";
import { TariffStore } from "../tariff/store";
import { tariffTable } from "../tariff/tariff.sql";
import { Urdb } from "../tariff/urdb";
import { Time } from "../time";
import { jsonPath, VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { Instant } from "../util/instant";
import * as Limits from "../util/limits";
import * as Schema from "../util/schema";

export * as Onboarding from "./index";

async function ownFactory(organizationId: string, factoryId: string): Promise<Factory.Info> {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  return factory;
}

export const createMeter = fn(
  z.object({
    organizationId: z.string(),
    factoryId: z.string(),
    deviceId: z.string({ error: "deviceId is required: the gateway that reads this meter" }),
    name: Limits.name(),
    line: Limits.name("line"),
    multiplier: Limits.positive("multiplier", plantLimits.maxMultiplier).optional(),
    /** `billing` (the utility's meter at the point of supply) or `sub`, and the meter upstream of it (Meter.checkPlace). */
    ...Meter.Place.shape,
    /** How the gateway reads it (driver, bus + unitId or host + port, ct, vt, maxKw): reaches the gateway through its config. */
    ...Meter.Connection.shape,
  }),
  async (input) => {
    await ownFactory(input.organizationId, input.factoryId);
    const [device] = await Database.use()
      .select({ factoryId: deviceTable.factoryId })
      .from(deviceTable)
      .where(and(eq(deviceTable.organizationId, input.organizationId), eq(deviceTable.id, input.deviceId)));
    if (!device || device.factoryId !== input.factoryId)
      throw new VisibleError("input", "meter.unknown_gateway", "Invalid meter", [{ path: "deviceId", message: "not a gateway of this factory" }]);
    return Meter.create(input);
  },
);

/**
 * A stored tariff version as every tariff route answers it (the list's items, POST /tariffs, /tariffs/cfe and
 * /tariffs/urdb): its id, the instant it takes effect (ISO 8601 UTC), the factory-local date of that instant
 * (YYYY-MM-DD in the factory's IANA zone; a plan assigned "from 1 Dec" starts at that date's local midnight) and
 * its definition.
 */
export const Version = z.object({ id: z.string(), effectiveFrom: z.string(), effectiveDate: z.string(), definition: Definition });
export type Version = z.infer<typeof Version>;

/** A stored version as answered, its local date read in the factory's zone `timeZone` (IANA). */
function toVersion(version: { id: string; effectiveFrom: Date; definition: Definition }, timeZone: string): Version {
  return {
    id: version.id,
    effectiveFrom: version.effectiveFrom.toISOString(),
    effectiveDate: Time.localDate(version.effectiveFrom.getTime(), timeZone),
    definition: version.definition,
  };
}

/** A factory's tariff versions, newest first, and the one in force now (null: none). */
export const Tariffs = z.object({ factory: Factory.Info, currentId: z.string().nullable(), versions: z.array(Version) });
export type Tariffs = z.infer<typeof Tariffs>;

/** A factory's tariff versions, newest first, and the one in force now. */
export async function tariffs(organizationId: string, factoryId: string, now = new Date()): Promise<Tariffs> {
  const factory = await ownFactory(organizationId, factoryId);
  const rows = await Database.use().select().from(tariffTable).where(eq(tariffTable.factoryId, factoryId)).orderBy(desc(tariffTable.effectiveFrom));
  const current = rows.find((row) => row.effectiveFrom <= now);
  return {
    factory,
    currentId: current?.id ?? null,
    versions: rows.map((row) => toVersion({ ...row, definition: Definition.parse(row.definition) }, factory.timeZone)),
  };
}

const Effective = Instant.schema("effectiveFrom");

/** Assigns a tariff from `effectiveFrom` on; readings from then are priced by it (corrections re-cost earlier ones). */
export const addTariff = fn(
  z.object({ organizationId: z.string(), factoryId: z.string(), effectiveFrom: Effective, definition: InputDefinition }),
  async (input): Promise<Version> => {
    const factory = await ownFactory(input.organizationId, input.factoryId);
    const version = await TariffStore.addVersion({ factoryId: input.factoryId, effectiveFrom: new Date(input.effectiveFrom), definition: input.definition });
    return toVersion(version, factory.timeZone);
  },
);

/** Where a CFE plan's monthly prices come from: CFE's published tables (bundled and imported), or typed in per month. */
export const PlanPrices = z.discriminatedUnion(
  "source",
  [
    z.object({ source: z.literal("published") }),
    /** Each month in the tariff's price shape (Tariff.GdmthPrices, GdmtoPrices, PdbtPrices, HighVoltagePrices), MXN as decimal strings. */
    z.object({
      source: z.literal("entered"),
      months: z
        .array(
          z
            .record(z.string(), z.unknown())
            .describe(
              "One month's prices in the tariff's shape, MXN as decimal strings: month (YYYY-MM), fixed (per month), distribution and capacity (per kW; not PDBT), energy (per kWh: { base, intermedia, punta } for GDMTH, DIST and DIT, one price for GDMTO, GDBT and PDBT). A field the tariff does not have is refused.",
            ),
        )
        .min(1, "enter at least one month of prices"),
    }),
  ],
  { error: "prices.source is published or entered" },
);

/** A tariff definition whose every object refuses keys it does not name: the shape of prices entered by hand. */
const enteredDefinition = Schema.strict(InputDefinition);

/** `assignCfePlan`'s answer: the version, the local date it starts on, and the factory as the plan changed it. */
export const PlanAssigned = Version.extend({ factory: Factory.Info });
export type PlanAssigned = z.infer<typeof PlanAssigned>;

/**
 * Assigns a CFE plan to a factory from the console's form: the tariff (GDMTH, GDMTO, GDBT, PDBT, DIST, DIT), the
 * contracted demand (kW) and supply voltage (stored on the factory, where billing reads them), the division (from
 * the factory's municipality in the location catalogue; another only where the catalogue bills that municipality
 * in it), the date the plan is in force from (a calendar date: the version starts at that date's midnight in the
 * factory's IANA zone), and the prices: CFE's published months for the tariff and division (core/src/prices: the
 * bundled tables and the price tables imported), or months entered by hand.
 * @throws VisibleError `factory.not_found`; `factory.inconsistent_place` (division); `tariff.no_published_prices`
 *   (path `prices.source`) when no published month exists for the tariff and division; `tariff.invalid_plan` naming
 *   each bad price as `prices.months.N.<field>`.
 */
export const assignCfePlan = fn(
  z.object({
    organizationId: z.string(),
    factoryId: z.string(),
    tariff: z.enum(cfeKinds, { error: `tariff is one of ${cfeKinds.join(", ")}` }),
    division: z.string().trim().min(1).optional(),
    contractedDemandKw: Limits.positive("contractedDemandKw", plantLimits.maxKw),
    supplyVoltage: z.enum(["medium", "high"], { error: "supplyVoltage is medium or high" }),
    effectiveFrom: z.string({ error: "effectiveFrom is a date YYYY-MM-DD" }).superRefine((value, context) => {
      const parsed = Instant.parseDate(value);
      if (!parsed.ok) context.addIssue({ code: "custom", message: `effectiveFrom: ${parsed.message}` });
    }),
    prices: PlanPrices,
  }),
  async (input): Promise<PlanAssigned> => {
    const current = await ownFactory(input.organizationId, input.factoryId);
    // Prices are checked before the factory changes, so a refused plan leaves the factory as it was.
    const months =
      input.prices.source === "entered" ? input.prices.months : await publishedMonths(input.tariff, input.division ?? current.tariffDivision ?? undefined);
    // Months typed by hand refuse a field they do not have (a misspelt `puntaa` would leave punta unpriced or wrong);
    // published months are ours, read as stored.
    const schema = input.prices.source === "entered" ? enteredDefinition : Definition;
    const check = (zone: string, division: string | undefined) => {
      const parsed = schema.safeParse({ kind: input.tariff, zone, ...(division !== undefined && { division }), prices: months });
      if (parsed.success) return parsed.data;
      throw new VisibleError(
        "input",
        "tariff.invalid_plan",
        "Invalid CFE plan",
        parsed.error.issues.flatMap((issue) =>
          Schema.problemsOf(issue, (path) => (path[0] === "prices" ? jsonPath(path.slice(1), ["prices", "months"]) : jsonPath(path))),
        ),
      );
    };
    check("central", undefined);
    // The division is checked against the municipality there, and billing reads kW and voltage from the factory.
    const factory = await Factory.update({
      organizationId: input.organizationId,
      id: input.factoryId,
      tariffCode: input.tariff,
      contractedDemandKw: input.contractedDemandKw,
      supplyVoltage: input.supplyVoltage,
      ...(input.division !== undefined && { tariffDivision: input.division }),
    });
    const definition = check(factory.tariffZone ?? "central", factory.tariffDivision ?? undefined);
    const date = Instant.parseDate(input.effectiveFrom);
    if (!date.ok) throw new VisibleError("input", "tariff.invalid_plan", "Invalid CFE plan", [{ path: "effectiveFrom", message: date.message }]);
    // From the first instant of that local day (midnight, or where the clocks skip it).
    const start = Time.dayStart(date.value, factory.timeZone);
    const version = await TariffStore.addVersion({ factoryId: factory.id, effectiveFrom: new Date(start), definition });
    // The local date of the start is the date entered (the start is its local midnight).
    return { ...toVersion(version, factory.timeZone), factory };
  },
);

/** CFE's published months of a tariff in a division: the bundled tables, overridden by imported price tables of the same month. */
async function publishedMonths(tariff: (typeof cfeKinds)[number], division: string | undefined): Promise<unknown[]> {
  const none = (why: string) =>
    new VisibleError("input", "tariff.no_published_prices", "No published prices", [
      { path: "prices.source", message: `${why}: enter the prices per month, or import CFE's price table on the Imports page` },
    ]);
  if (tariff !== "cfe-gdmth" && tariff !== "cfe-gdmto") throw none(`CFE's ${tariff} prices are not bundled or imported`);
  if (division === undefined) throw none("the factory has no tariff division");
  const imported = await Database.use()
    .select()
    .from(priceTableTable)
    .where(and(eq(priceTableTable.tariff, tariff), eq(priceTableTable.division, division.toLowerCase())));
  const rows = new Map(Published.of(tariff, division).map((row) => [row.month, row as typeof row]));
  for (const row of imported) rows.set(row.month, { ...row, source: undefined as never });
  if (rows.size === 0) throw none(`no published ${tariff} prices for the ${division} division`);
  const merged = Prices.merge({ kind: tariff, zone: "central", prices: [placeholder(tariff)] } as Definition, [...rows.values()]);
  return (merged as { prices: { month?: string }[] }).prices.filter((entry) => entry.month !== undefined);
}

/** A month-less price entry that merge() keeps and publishedMonths() drops: Definition needs one price to parse. */
function placeholder(tariff: "cfe-gdmth" | "cfe-gdmto") {
  const zero = { fixed: "0", distribution: "0", capacity: "0" };
  return tariff === "cfe-gdmth" ? { ...zero, energy: { base: "0", intermedia: "0", punta: "0" } } : { ...zero, energy: "0" };
}

/** `importUrdb`'s answer: the version, and what of the URDB rate was left out, one sentence each. */
export const UrdbImported = Version.extend({ warnings: z.array(z.string()) });
export type UrdbImported = z.infer<typeof UrdbImported>;

/** Turns a URDB rate into a time-of-use tariff and assigns it; URDB's gaps come back as warnings. */
export const importUrdb = fn(
  z.object({ organizationId: z.string(), factoryId: z.string(), effectiveFrom: Effective, rate: z.unknown(), currency: z.string().length(3).optional() }),
  async (input): Promise<UrdbImported> => {
    const factory = await ownFactory(input.organizationId, input.factoryId);
    let converted: ReturnType<typeof Urdb.toTariff>;
    try {
      converted = Urdb.toTariff(input.rate, { currency: input.currency ?? factory.currency });
    } catch (error) {
      if (error instanceof Urdb.UrdbError) throw new VisibleError("input", "tariff.invalid_urdb", error.message, [{ path: "rate", message: error.message }]);
      throw error;
    }
    const version = await addTariff({
      organizationId: input.organizationId,
      factoryId: input.factoryId,
      effectiveFrom: input.effectiveFrom,
      definition: converted.definition,
    });
    return { ...version, warnings: converted.warnings };
  },
);

/** Exact decimal text (MXN, kW, kWh, percent) as stored; null where the bill has none. */
const decimal = z.string();

/**
 * A stored bill as the API answers it: money as exact decimal text in `currency`; `closedAt`/`reopenedAt` instants
 * (ISO 8601 UTC); on a computed bill's lines, the utility's amount for the same code and the difference once reconciled.
 */
export const StoredBill = z.object({
  id: z.string(),
  month: z.string(),
  /** The billing period, local dates [start, end) (CFE's reading dates); null on bills stored before periods were kept. */
  periodStart: z.string().nullable(),
  periodEnd: z.string().nullable(),
  source: z.enum(["wattflow", "utility"]),
  status: z.enum(["closed", "reopened", "imported"]),
  currency: z.string(),
  subtotal: decimal,
  powerFactor: decimal.nullable(),
  pfAdjustment: decimal,
  iva: decimal,
  total: decimal,
  readings: z.number().nullable(),
  /** Share of the period the readings cover, 0–1 as a 4-decimal string (Close.coverageOf); null: utility bills, bills closed before it was kept. */
  coverage: decimal.nullable(),
  /** The readings cover less of the period than Config.cfeBilling.billCoverageWarning (98 %): this bill is short of CFE's. */
  coverageLow: z.boolean(),
  /** kWh of the bill's energy that was estimated (spread from gap readings), not measured; null: closed before estimates were kept. */
  estimatedKwh: decimal.nullable(),
  /** Which meters a computed bill sums: `billing-meters`, or `all-meters` when none is marked billing (null: closed before roles). */
  basis: z.enum(["billing-meters", "all-meters"]).nullable(),
  /** The month's maximum demand, kW (null on flat bills and older rows). */
  peakDemandKw: decimal.nullable(),
  /** Priced with the latest published prices because the month's were not yet published (null: utility bills, older rows). */
  pricesEstimated: z.boolean().nullable(),
  closedAt: z.string().nullable(),
  reopenedAt: z.string().nullable(),
  lines: z.array(
    z.object({
      code: z.string(),
      name: Name,
      quantity: decimal,
      unit: z.string(),
      unitPrice: decimal,
      amount: decimal,
      utilityAmount: decimal.nullable(),
      difference: decimal.nullable(),
    }),
  ),
});
export type StoredBill = z.infer<typeof StoredBill>;

/**
 * The factory's bills (computed by the monthly close, and the utility's imported ones) with their lines, newest month
 * first; `only.id` narrows them to one bill (an empty list when the factory has no such bill).
 * @throws VisibleError `factory.not_found` (404) for a factory outside the organization.
 */
export async function bills(organizationId: string, factoryId: string, only: { id?: string } = {}): Promise<StoredBill[]> {
  await ownFactory(organizationId, factoryId);
  const db = Database.use();
  const rows = await db
    .select()
    .from(billTable)
    .where(and(eq(billTable.factoryId, factoryId), only.id === undefined ? undefined : eq(billTable.id, only.id)))
    .orderBy(desc(billTable.month), asc(billTable.source));
  const lines =
    rows.length === 0
      ? []
      : await db
          .select()
          .from(billLineTable)
          .where(
            inArray(
              billLineTable.billId,
              rows.map((row) => row.id),
            ),
          )
          .orderBy(asc(billLineTable.position));
  return rows.map((row) => ({
    id: row.id,
    month: row.month,
    periodStart: row.periodStart,
    periodEnd: row.periodEnd,
    source: row.source,
    status: row.status,
    currency: row.currency,
    subtotal: row.subtotal,
    powerFactor: row.powerFactor,
    pfAdjustment: row.pfAdjustment,
    iva: row.iva,
    total: row.total,
    readings: row.readings,
    coverage: row.coverage,
    coverageLow: Close.coverageLow(row.coverage),
    estimatedKwh: row.estimatedKwh,
    basis: row.basis,
    peakDemandKw: row.peakDemandKw,
    pricesEstimated: row.pricesEstimated,
    closedAt: row.closedAt?.toISOString() ?? null,
    reopenedAt: row.reopenedAt?.toISOString() ?? null,
    lines: lines
      .filter((line) => line.billId === row.id)
      .map((line) => ({
        code: line.code,
        name: lineName(line.code, line.amount),
        quantity: line.quantity,
        unit: line.unit,
        unitPrice: line.unitPrice,
        amount: line.amount,
        utilityAmount: line.utilityAmount,
        difference: line.difference,
      })),
  }));
}
