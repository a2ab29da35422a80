import { and, asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { Allocation } from "../billing/allocation";
import { lookupCacheMs, plantLimits } from "../config";
import { Database } from "../database";
import { factoryTable } from "../factory/factory.sql";
import { readThrough } from "../util/cache";
import { VisibleError } from "../util/error";
import { fn } from "../util/fn";
import { createId } from "../util/id";
import * as Limits from "../util/limits";
import { meterTable } from "./meter.sql";

export * as Meter from "./index";

/** Who a meter belongs to, and the factory's time zone (time-of-use periods are local). */
export type Owner = {
  id: string;
  organizationId: string;
  factoryId: string;
  deviceId: string;
  timeZone: string;
  /** The meter's rating (kW) when known: slots above it are flagged, not dropped. */
  maxKw: number | null;
};

/** `billing`: the utility's meter at the point of supply; `sub`: a meter downstream of another (line → machine). */
export const Role = Allocation.Role;
export type Role = Allocation.Role;

/** Where a meter sits in its factory's tree: its role and the meter upstream of it (null at the top). */
export const Place = z.object({ role: Role.default("sub"), parentId: z.string().min(1).nullable().default(null) });

/**
 * Checks a meter's place in its factory's tree before it is saved (Allocation.placeProblem: a billing meter has no
 * parent, a parent is a meter of the same factory, no loop). `id` is absent for a meter not yet created.
 * @throws VisibleError `meter.invalid_hierarchy` naming `parentId`.
 */
export async function checkPlace(input: { id?: string; factoryId: string; role: Role; parentId: string | null }): Promise<void> {
  if (input.parentId === null) return;
  const rows = await Database.use()
    .select({ id: meterTable.id, parentId: meterTable.parentId })
    .from(meterTable)
    .where(eq(meterTable.factoryId, input.factoryId));
  const problem = Allocation.placeProblem(new Map(rows.map((row) => [row.id, row.parentId])), input);
  if (problem) throw new VisibleError("input", "meter.invalid_hierarchy", "Invalid meter hierarchy", [{ path: "parentId", message: problem }]);
}

/**
 * How the gateway reads a meter, as the cloud stores it and `GET /v1/devices/self/config` hands it out: the meter
 * model (`driver`: the name of a map file the gateway ships, e.g. `sdm630`), and either the gateway's named `bus`
 * with the meter's Modbus `unitId` (1…247: 0 is broadcast, 248… reserved, Modbus over Serial Line V1.02 §2.2) or a
 * Modbus TCP `host` and `port`; `ct`/`vt` ratios (dimensionless) and `maxKw` (kW, the rating) are applied by the
 * gateway. The cloud checks the shape; the gateway checks the rest against its own maps and buses.
 */
export const Connection = z.object({
  driver: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "driver is a meter model (sdm630, em24, pm5xxx, …): lower-case letters, digits, . _ -")
    // The simulator makes energy up: a gateway's own file may use it for tests, the cloud never hands it to a gateway.
    .refine((driver) => driver !== "sim", "sim is the gateway's test simulator; the cloud lists real meter models (sdm630, em24, …)")
    .optional(),
  bus: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "bus is the name of one of the gateway's buses: letters, digits, _ . -")
    .optional(),
  unitId: z.number().int().min(1, "unitId is 1…247 (0 is broadcast)").max(247, "unitId is 1…247").optional(),
  host: z.string().trim().min(1).max(253).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  ct: Limits.positive("ct", plantLimits.maxTransformerRatio).optional(),
  vt: Limits.positive("vt", plantLimits.maxTransformerRatio).optional(),
  maxKw: Limits.positive("maxKw", plantLimits.maxKw).optional(),
});
export type Connection = z.infer<typeof Connection>;

/**
 * What a connection lacks or contradicts, each with its path: a meter on a bus needs its unitId; a bus and a host
 * exclude each other; a bus, host, unit or port needs a driver; `multiplier`, when given with `ct`/`vt`, must be ct × vt.
 */
export function connectionProblems(input: Connection & { multiplier?: number }): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (input.bus !== undefined && input.host !== undefined) problems.push({ path: "host", message: "give bus (with unitId) or host, not both" });
  if (input.bus !== undefined && input.unitId === undefined) problems.push({ path: "unitId", message: "a meter on a bus needs its unitId (1…247)" });
  if (input.port !== undefined && input.host === undefined) problems.push({ path: "port", message: "port goes with host" });
  const placed = input.bus ?? input.host ?? input.unitId;
  if (placed !== undefined && input.driver === undefined) problems.push({ path: "driver", message: "a meter with a bus or host needs its driver (model)" });
  const ratio = (input.ct ?? 1) * (input.vt ?? 1);
  if (input.multiplier !== undefined && (input.ct !== undefined || input.vt !== undefined) && Math.abs(input.multiplier - ratio) > 1e-9 * ratio)
    problems.push({ path: "multiplier", message: `multiplier must be ct × vt (${ratio}) when they are given` });
  return problems;
}

/** A meter as `create` answers it: who owns it, its place and the connection fields that are set. */
export const Created = z.object({
  id: z.string(),
  organizationId: z.string(),
  factoryId: z.string(),
  deviceId: z.string(),
  name: z.string(),
  line: z.string(),
  role: Role,
  parentId: z.string().nullable(),
  ...Connection.shape,
});
export type Created = z.infer<typeof Created>;

export const create = fn(
  z.object({
    organizationId: z.string(),
    factoryId: z.string(),
    deviceId: z.string(),
    name: Limits.name(),
    line: Limits.name("line"),
    /** CT × VT; defaults to ct × vt when those are given, else 1. */
    multiplier: Limits.positive("multiplier", plantLimits.maxMultiplier).optional(),
    ...Place.shape,
    ...Connection.shape,
  }),
  async (input): Promise<Created> => {
    const problems = connectionProblems(input);
    if (problems.length > 0) throw new VisibleError("input", "meter.invalid_connection", "Invalid meter connection", problems);
    await checkPlace(input);
    const id = createId("meter");
    const multiplier = input.multiplier ?? (input.ct ?? 1) * (input.vt ?? 1);
    await Database.use()
      .insert(meterTable)
      .values({ ...input, id, multiplier: multiplier.toString() });
    const { organizationId, factoryId, deviceId, name, line, role, parentId } = input;
    return { id, organizationId, factoryId, deviceId, name, line, role, parentId, ...connectionOf(input) };
  },
);

/** The connection fields that are set (null columns left out). */
function connectionOf(row: { [K in keyof Connection]?: Connection[K] | null }): Connection {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(Connection.shape) as (keyof Connection)[]) {
    const value = row[key];
    if (value !== null && value !== undefined) out[key] = value;
  }
  return out as Connection;
}

/** A meter as its gateway is told to read it: its id, name and line (for people on site) and its connection. */
/** A meter as a gateway is given it (`GET /v1/devices/self/config`): who it is and how it is read. */
export const GatewayMeter = z.object({ id: z.string(), name: z.string(), line: z.string(), ...Connection.shape });
export type GatewayMeter = z.infer<typeof GatewayMeter>;

/**
 * The meters a gateway reads: those assigned to `deviceId` in the gateway's own factory (a meter moved to another
 * factory is not its business), ordered by id so the list and its version are stable.
 */
export async function forGateway(device: { id: string; factoryId: string }): Promise<GatewayMeter[]> {
  const rows = await Database.use()
    .select()
    .from(meterTable)
    .where(and(eq(meterTable.deviceId, device.id), eq(meterTable.factoryId, device.factoryId)))
    .orderBy(asc(meterTable.id));
  return rows.map((row) => ({ id: row.id, name: row.name, line: row.line, ...connectionOf(row) }));
}

/** A meter as the API lists it (multiplier: CT × VT ratio; maxKw: rating in kW, null when unknown). */
export const Info = z.object({
  id: z.string(),
  factoryId: z.string(),
  deviceId: z.string(),
  name: z.string(),
  line: z.string(),
  multiplier: z.number(),
  maxKw: z.number().nullable(),
  role: Allocation.Role,
  parentId: z.string().nullable(),
});
export type Info = z.infer<typeof Info>;

function toInfo(row: typeof meterTable.$inferSelect): Info {
  const { id, factoryId, deviceId, name, line, maxKw, role, parentId } = row;
  return { id, factoryId, deviceId, name, line, multiplier: Number(row.multiplier), maxKw, role, parentId };
}

/** The meters of one of the organization's factories, by name; another organization's factory has none. */
export async function list(organizationId: string, factoryId: string): Promise<Info[]> {
  const rows = await Database.use()
    .select()
    .from(meterTable)
    .where(and(eq(meterTable.organizationId, organizationId), eq(meterTable.factoryId, factoryId)))
    .orderBy(meterTable.name);
  return rows.map(toInfo);
}

/**
 * Changes a meter of the organization (of `factoryId` when given): its name, line, CT × VT multiplier, and its place
 * in the factory's tree (role and/or parent); absent fields are kept. The multiplier applies to readings the gateway
 * sends from now on (the gateway reads it with its configuration), never to stored ones.
 * @throws VisibleError `meter.not_found` (another organization's or factory's meter too), or `meter.invalid_hierarchy` (see checkPlace).
 */
export const update = fn(
  z.object({
    organizationId: z.string(),
    factoryId: z.string().optional(),
    id: z.string(),
    name: Limits.name().optional(),
    line: Limits.name("line").optional(),
    multiplier: Limits.positive("multiplier", plantLimits.maxMultiplier).optional(),
    role: Role.optional(),
    parentId: z.string().min(1).nullable().optional(),
    /** How its gateway reads it (null clears a field); checked as a whole with what is stored (connectionProblems). */
    driver: Connection.shape.driver.unwrap().nullable().optional(),
    bus: Connection.shape.bus.unwrap().nullable().optional(),
    unitId: Connection.shape.unitId.unwrap().nullable().optional(),
    host: Connection.shape.host.unwrap().nullable().optional(),
    port: Connection.shape.port.unwrap().nullable().optional(),
    ct: Connection.shape.ct.unwrap().nullable().optional(),
    vt: Connection.shape.vt.unwrap().nullable().optional(),
    maxKw: Connection.shape.maxKw.unwrap().nullable().optional(),
  }),
  async (input): Promise<Info> => {
    const db = Database.use();
    const where = and(eq(meterTable.id, input.id), eq(meterTable.organizationId, input.organizationId));
    const [meter] = await db.select().from(meterTable).where(where);
    if (!meter || (input.factoryId !== undefined && meter.factoryId !== input.factoryId))
      throw new VisibleError("not_found", "meter.not_found", `meter ${input.id} not found`);
    const next = {
      name: input.name ?? meter.name,
      line: input.line ?? meter.line,
      multiplier: input.multiplier === undefined ? meter.multiplier : input.multiplier.toString(),
      role: input.role ?? meter.role,
      parentId: input.parentId === undefined ? meter.parentId : input.parentId,
    };
    await checkPlace({ id: meter.id, factoryId: meter.factoryId, role: next.role, parentId: next.parentId });
    // The connection after the patch: a field given replaces the stored one, null clears it.
    const keys = ["driver", "bus", "unitId", "host", "port", "ct", "vt", "maxKw"] as const;
    const connection = Object.fromEntries(keys.map((key) => [key, input[key] === undefined ? meter[key] : input[key]])) as Pick<
      typeof meter,
      (typeof keys)[number]
    >;
    // A new ct or vt without a multiplier brings its ratio, as a meter created with them gets it.
    if (input.multiplier === undefined && (input.ct !== undefined || input.vt !== undefined))
      next.multiplier = String((connection.ct ?? 1) * (connection.vt ?? 1));
    const problems = connectionProblems({ ...connectionOf(connection), multiplier: Number(next.multiplier) });
    if (problems.length > 0) throw new VisibleError("input", "meter.invalid_connection", "The meter's connection is not valid", problems);
    await db
      .update(meterTable)
      .set({ ...next, ...connection })
      .where(where);
    return toInfo({ ...meter, ...next, ...connection });
  },
);

const cache = readThrough<Owner>(lookupCacheMs);

/**
 * Who owns each meter, by id; unknown ids are absent. Cached briefly because every reading asks;
 * a miss always goes to the database, so a meter created a moment ago is found.
 */
export async function owners(ids: readonly string[], now = Date.now()): Promise<Map<string, Owner>> {
  return cache.get(
    ids,
    async (missing) => {
      const rows = await Database.use()
        .select({
          id: meterTable.id,
          organizationId: meterTable.organizationId,
          factoryId: meterTable.factoryId,
          deviceId: meterTable.deviceId,
          timeZone: factoryTable.timeZone,
          maxKw: meterTable.maxKw,
        })
        .from(meterTable)
        .innerJoin(factoryTable, eq(factoryTable.id, meterTable.factoryId))
        .where(inArray(meterTable.id, missing));
      return new Map(rows.map((row) => [row.id, row]));
    },
    now,
  );
}

export async function listByFactory(factoryId: string) {
  return Database.use().select().from(meterTable).where(eq(meterTable.factoryId, factoryId));
}
