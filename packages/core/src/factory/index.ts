import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { Database } from "../database";
import { fn } from "../util/fn";
import { createId } from "../util/id";
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
  currency: z.string(),
});
export type Info = z.infer<typeof Info>;

export const create = fn(
  z.object({
    organizationId: z.string(),
    name: z.string().min(1, "name is required"),
    /** Stored in its canonical IANA spelling (`america/monterrey` → `America/Monterrey`): InfluxDB, Postgres and Athena match zones exactly. */
    timeZone: z
      .string()
      .refine((zone) => canonicalZone(zone) !== undefined, "timeZone must be an IANA time zone such as America/Mexico_City")
      .transform((zone) => canonicalZone(zone) as string),
    tariffCode: z.string().min(1),
    tariffZone: z.string().optional(),
    tariffDivision: z.string().optional(),
    contractedDemandKw: z.number().positive().optional(),
    currency: z.string().length(3).default("MXN"),
  }),
  async (input): Promise<Info> => {
    const id = createId("factory");
    await Database.use()
      .insert(factoryTable)
      .values({ ...input, id, contractedDemandKw: input.contractedDemandKw?.toString() });
    return {
      id,
      organizationId: input.organizationId,
      name: input.name,
      timeZone: input.timeZone,
      tariffCode: input.tariffCode,
      tariffZone: input.tariffZone ?? null,
      tariffDivision: input.tariffDivision ?? null,
      contractedDemandKw: input.contractedDemandKw ?? null,
      currency: input.currency,
    };
  },
);

function toInfo(row: typeof factoryTable.$inferSelect): Info {
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
