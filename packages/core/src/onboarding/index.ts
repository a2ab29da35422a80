/**
 * What an admin sets up from the console, always inside their own organization: meters on a
 * factory's gateway, tariff versions (a definition, or a URDB rate turned into one), and reading
 * back a factory's tariffs and bills.
 */
import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { lineName } from "../billing/lines";
import { billLineTable, billTable } from "../close/bill.sql";
import { Database } from "../database";
import { deviceTable } from "../device/device.sql";
import { Factory } from "../factory";
import { Meter } from "../meter";
import { Definition } from "../tariff/index";
import { TariffStore } from "../tariff/store";
import { tariffTable } from "../tariff/tariff.sql";
import { Urdb } from "../tariff/urdb";
import { VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { Instant } from "../util/instant";

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
    name: z.string().trim().min(1, "name is required"),
    line: z.string().trim().min(1, "line is required"),
    multiplier: z.number().positive().optional(),
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

/** A factory's tariff versions, newest first, and the one in force now. */
export async function tariffs(organizationId: string, factoryId: string, now = new Date()) {
  const factory = await ownFactory(organizationId, factoryId);
  const rows = await Database.use().select().from(tariffTable).where(eq(tariffTable.factoryId, factoryId)).orderBy(desc(tariffTable.effectiveFrom));
  const current = rows.find((row) => row.effectiveFrom <= now);
  return {
    factory,
    currentId: current?.id ?? null,
    versions: rows.map((row) => ({ id: row.id, effectiveFrom: row.effectiveFrom.toISOString(), definition: Definition.parse(row.definition) })),
  };
}

const Effective = Instant.schema("effectiveFrom");

/** Assigns a tariff from `effectiveFrom` on; readings from then are priced by it (corrections re-cost earlier ones). */
export const addTariff = fn(
  z.object({ organizationId: z.string(), factoryId: z.string(), effectiveFrom: Effective, definition: Definition }),
  async (input) => {
    await ownFactory(input.organizationId, input.factoryId);
    const version = await TariffStore.addVersion({ factoryId: input.factoryId, effectiveFrom: new Date(input.effectiveFrom), definition: input.definition });
    return { id: version.id, effectiveFrom: version.effectiveFrom.toISOString(), definition: version.definition };
  },
);

/** Turns a URDB rate into a time-of-use tariff and assigns it; URDB's gaps come back as warnings. */
export const importUrdb = fn(
  z.object({ organizationId: z.string(), factoryId: z.string(), effectiveFrom: Effective, rate: z.unknown(), currency: z.string().length(3).optional() }),
  async (input) => {
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

/**
 * The factory's bills (computed by the monthly close, and the utility's imported ones) with their lines, newest month
 * first; `only.id` narrows them to one bill (an empty list when the factory has no such bill).
 * @throws VisibleError `factory.not_found` (404) for a factory outside the organization.
 */
export async function bills(organizationId: string, factoryId: string, only: { id?: string } = {}) {
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
    /** kWh of the bill's energy that was estimated (spread from gap readings), not measured; null: closed before estimates were kept. */
    estimatedKwh: row.estimatedKwh,
    /** Which meters a computed bill sums: `billing-meters`, or `all-meters` when none is marked billing (null: closed before roles). */
    basis: row.basis,
    /** The month's maximum demand, kW (null on flat bills and older rows). */
    peakDemandKw: row.peakDemandKw,
    /** Priced with the latest published prices because the month's were not yet published (null: utility bills, older rows). */
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
