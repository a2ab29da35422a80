import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { plantLimits } from "../config";
import { Database } from "../database";
import { Location, LocationError } from "../location";
import { Cfe } from "../tariff/cfe";
import { CfeZone, cfeKinds } from "../tariff/index";
import { VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { createId } from "../util/id";
import * as Limits from "../util/limits";
import { canonicalZone } from "../util/zone";
import { factoryTable } from "./factory.sql";

export * as Factory from "./index";

export const Info = z.object({
  id: z.string(),
  organizationId: z.string(),
  name: z.string(),
  timeZone: z.string(),
  tariffCode: z.string(),
  tariffZone: z.string().nullable(),
  tariffDivision: z.string().nullable(),
  contractedDemandKw: z.number().nullable(),
  supplyVoltage: z.enum(["medium", "high"]).nullable(),
  state: z.string().nullable(),
  municipality: z.string().nullable(),
  billingCycleDay: z.number().nullable(),
  currency: z.string(),
  rpu: z.string().nullable(),
});
export type Info = z.infer<typeof Info>;

/** Tariff codes a factory may have: CFE's plans, a general time-of-use tariff, a URDB rate, a flat price. */
export const tariffCodes = [...cfeKinds, "tou", "urdb", "flat"] as const;

/** Refusals of a factory's input name this code with each problem's path (`tariffDivision`, `rpu`…). */
const invalid = "factory.invalid";

const TariffCode = z.enum(tariffCodes, { error: `tariffCode must be one of ${tariffCodes.join(", ")}` });
const TariffZone = z.enum(Cfe.zones, { error: `tariffZone must be one of CFE's schedule zones: ${Cfe.zones.join(", ")}` });
/** One of CFE's 17 tariff divisions, case and accents aside ("bajio"), stored in the catalogue's spelling ("Bajío"). */
const TariffDivision = z
  .string()
  .trim()
  .refine((name) => Location.division(name) !== undefined, `tariffDivision must be one of CFE's tariff divisions: ${Location.divisions.join(", ")}`)
  .transform((name) => Location.division(name) as string);
/** CFE's service number (Registro Permanente de Usuario), the 12 digits printed on the factory's bills. */
const Rpu = z
  .string()
  .trim()
  .regex(/^\d{12}$/, "rpu is CFE's service number (RPU): the 12 digits printed on the bill, such as 123456789012");

/**
 * Adds a factory to the organization and answers it as stored (`get` reads back the same Info). A CFE factory's
 * schedule zone and division are filled in or checked from its place and clock (`cfePlace`).
 * @throws VisibleError `factory.invalid` for input its schema refuses (each problem by path),
 *   `factory.inconsistent_place` naming the field at fault.
 */
export const create = fn(
  z.object({
    organizationId: z.string(),
    name: Limits.name(),
    /** Stored in its canonical IANA spelling (`america/monterrey` → `America/Monterrey`): InfluxDB, Postgres and Athena match zones exactly. */
    timeZone: z
      .string()
      .refine((zone) => canonicalZone(zone) !== undefined, "timeZone must be an IANA time zone such as America/Mexico_City")
      .transform((zone) => canonicalZone(zone) as string),
    tariffCode: TariffCode,
    tariffZone: TariffZone.optional(),
    tariffDivision: TariffDivision.optional(),
    contractedDemandKw: Limits.positive("contractedDemandKw", plantLimits.maxKw).optional(),
    /** The supply contract's voltage: medium (GDMTH/GDMTO) or high; with the contracted kW it sets the power-factor threshold. */
    supplyVoltage: z.enum(["medium", "high"], { error: "supplyVoltage is medium or high" }).optional(),
    state: z.string().trim().min(1).optional(),
    municipality: z.string().trim().min(1).optional(),
    /** The day of the month (1–28) CFE reads the meter: bills run from that day to the same day of the next month. */
    billingCycleDay: z.number().int().min(1, "billingCycleDay is a day 1–28").max(28, "billingCycleDay is a day 1–28").optional(),
    currency: z.string().length(3).default("MXN"),
    rpu: Rpu.optional(),
  }),
  async (given): Promise<Info> => {
    const input = { ...given, ...cfePlace(given) };
    const id = createId("factory");
    const [row] = await Database.use()
      .insert(factoryTable)
      .values({ ...input, id, contractedDemandKw: input.contractedDemandKw?.toString() })
      .returning();
    // Answered as stored, the way `get` reads it back.
    return toInfo(row as typeof factoryTable.$inferSelect);
  },
  invalid,
);

/**
 * A CFE factory's schedule zone and division, checked against its place and clock (Location.resolve): the
 * municipality fills in what was left out; what disagrees is refused naming the right value.
 * @throws VisibleError `factory.inconsistent_place` with the field at fault.
 */
function cfePlace(input: { tariffCode: string; timeZone: string; tariffZone?: string; tariffDivision?: string; state?: string; municipality?: string }): {
  tariffZone?: string;
  tariffDivision?: string;
  state?: string;
  municipality?: string;
} {
  if (!input.tariffCode.startsWith("cfe-")) return {};
  const fail = (path: string, message: string) => new VisibleError("input", "factory.inconsistent_place", "Invalid factory", [{ path, message }]);
  const zone = input.tariffZone === undefined ? undefined : CfeZone.safeParse(input.tariffZone);
  if (zone && !zone.success) throw fail("tariffZone", `tariffZone must be one of CFE's schedule zones: ${Cfe.zones.join(", ")}`);
  try {
    // The input schemas let only CFE's divisions through (price imports refuse others too: import/rows.ts).
    const division = input.tariffDivision === undefined ? undefined : Location.division(input.tariffDivision);
    const place = Location.resolve({ ...input, zone: zone?.data, division });
    // Names in the catalogue's spelling ("bajio" → "Bajío", "nuevo leon" → "Nuevo León"): price imports find the factory by its division.
    return {
      tariffZone: place.zone,
      tariffDivision: division ?? input.tariffDivision ?? place.division,
      ...(place.municipality && { state: place.municipality.state, municipality: place.municipality.municipality }),
    };
  } catch (error) {
    if (!(error instanceof LocationError)) throw error;
    const path = { zone: "tariffZone", division: "tariffDivision" }[error.path] ?? error.path;
    throw fail(path, error.message);
  }
}

/** The row as Info says it, no more: the row's bookkeeping (`createdAt`) is not part of the answer. */
function toInfo({ createdAt: _, ...row }: typeof factoryTable.$inferSelect): Info {
  return { ...row, contractedDemandKw: row.contractedDemandKw === null ? null : Number(row.contractedDemandKw) };
}

/** The organization's factories; another organization's are never returned. */
export async function list(organizationId: string): Promise<Info[]> {
  const rows = await Database.use().select().from(factoryTable).where(eq(factoryTable.organizationId, organizationId)).orderBy(asc(factoryTable.name));
  return rows.map(toInfo);
}

export async function get(organizationId: string, id: string): Promise<Info | undefined> {
  const [row] = await Database.use()
    .select()
    .from(factoryTable)
    .where(and(eq(factoryTable.organizationId, organizationId), eq(factoryTable.id, id)));
  return row ? toInfo(row) : undefined;
}

/**
 * The organization's factory `id`: the one answer for "is this factory the caller's", so another organization's
 * factory and one that does not exist read the same (404) on every route and run.
 * @throws VisibleError `factory.not_found` (404) when the organization has no factory `id`.
 */
export async function own(organizationId: string, id: string): Promise<Info> {
  const factory = await get(organizationId, id);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${id} not found`);
  return factory;
}

/** What an admin may change of a factory; absent fields are kept, `null` clears an optional one. */
export const Patch = z.object({
  name: Limits.name().optional(),
  timeZone: create.schema.shape.timeZone.optional(),
  tariffCode: TariffCode.optional(),
  tariffDivision: TariffDivision.nullable().optional(),
  contractedDemandKw: Limits.positive("contractedDemandKw", plantLimits.maxKw).nullable().optional(),
  supplyVoltage: z.enum(["medium", "high"], { error: "supplyVoltage is medium or high" }).nullable().optional(),
  state: z.string().trim().min(1).nullable().optional(),
  municipality: z.string().trim().min(1).nullable().optional(),
  billingCycleDay: z.number().int().min(1, "billingCycleDay is a day 1–28").max(28, "billingCycleDay is a day 1–28").nullable().optional(),
  rpu: Rpu.nullable().optional(),
});
export type Patch = z.infer<typeof Patch>;

/**
 * Changes a factory of the organization. A new municipality (with its state) brings its CFE division and clock
 * from the location catalogue (core/src/location) unless the patch names them; a division is kept only where the
 * catalogue bills that municipality in it. Readings already costed are not re-costed here: a recompute does that.
 * Shapes: kW for contractedDemandKw, day 1–28 for billingCycleDay, an IANA zone for timeZone.
 * Shapes: rpu CFE's 12-digit service number, null clears it.
 * @throws VisibleError `factory.invalid` for a tariff code, zone, division or RPU that is none (with its path and the
 *   allowed values), `factory.not_found` (another organization's id too), `factory.inconsistent_place` naming the
 *   field at fault (municipality, tariffDivision, timeZone, tariffZone).
 */
export const update = fn(
  Patch.extend({ organizationId: z.string(), id: z.string() }),
  async (input): Promise<Info> => {
    const current = await get(input.organizationId, input.id);
    if (!current) throw new VisibleError("not_found", "factory.not_found", `factory ${input.id} not found`);
    const moved = input.state !== undefined || input.municipality !== undefined;
    const state = input.state === undefined ? current.state : input.state;
    const municipality = input.municipality === undefined ? current.municipality : input.municipality;
    const tariffCode = input.tariffCode ?? current.tariffCode;
    // A move takes the new place's clock and division from the catalogue unless the patch gives them.
    const entry = moved && state && municipality ? Location.find(state, municipality) : undefined;
    const timeZone = input.timeZone ?? (entry ? entry.timeZone : current.timeZone);
    const division = input.tariffDivision === undefined ? (moved ? undefined : current.tariffDivision) : input.tariffDivision;
    const place = cfePlace({
      tariffCode,
      timeZone,
      tariffZone: moved || input.tariffDivision !== undefined ? undefined : (current.tariffZone ?? undefined),
      tariffDivision: division ?? undefined,
      state: state ?? undefined,
      municipality: municipality ?? undefined,
    });
    const next = {
      name: input.name ?? current.name,
      timeZone,
      tariffCode,
      tariffZone: place.tariffZone ?? (tariffCode.startsWith("cfe-") ? current.tariffZone : null),
      tariffDivision: place.tariffDivision ?? division ?? null,
      contractedDemandKw: input.contractedDemandKw === undefined ? current.contractedDemandKw : input.contractedDemandKw,
      supplyVoltage: input.supplyVoltage === undefined ? current.supplyVoltage : input.supplyVoltage,
      state: place.state ?? state,
      municipality: place.municipality ?? municipality,
      billingCycleDay: input.billingCycleDay === undefined ? current.billingCycleDay : input.billingCycleDay,
      rpu: input.rpu === undefined ? current.rpu : input.rpu,
    };
    await Database.use()
      .update(factoryTable)
      .set({ ...next, contractedDemandKw: next.contractedDemandKw?.toString() ?? null })
      .where(and(eq(factoryTable.organizationId, input.organizationId), eq(factoryTable.id, input.id)));
    return { ...current, ...next };
  },
  invalid,
);
