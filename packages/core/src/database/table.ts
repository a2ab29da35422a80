import type { BuildExtraConfigColumns } from "drizzle-orm";
import { type PgColumnBuilderBase, type PgTableExtraConfigValue, pgTable } from "drizzle-orm/pg-core";
import { organizationTable } from "../organization/organization.sql";
import { id, reference, timestamps } from "./types";

/** The columns an organization's own rows open with: their prefixed-ULID id and the required organization reference. */
const ownedColumns = () => ({ id: id(), organizationId: reference("organization_id", () => organizationTable.id) });

/** An owned table's columns in order: id and organization, the table's own, then `created_at`. */
type OwnedColumns<Columns> = ReturnType<typeof ownedColumns> & Columns & typeof timestamps;

/**
 * A table of rows an organization owns (factories, meters, gateways, users, tokens, rules): `pgTable` with the columns
 * every such table has around the table's own — `id text primary key`, `organization_id text not null references
 * organization(id)` first, `created_at timestamptz not null default now()` last — so drizzle-kit sees the same columns
 * as when each table spelled them out. `extra` is pgTable's third argument (indexes), over all the columns, e.g.
 * `ownedTable("device", { name: text("name").notNull() }, (t) => [index("device_factory_idx").on(t.factoryId)])`.
 */
export function ownedTable<Name extends string, Columns extends Record<string, PgColumnBuilderBase>>(
  name: Name,
  columns: Columns,
  extra?: (self: BuildExtraConfigColumns<Name, OwnedColumns<Columns>, "pg">) => PgTableExtraConfigValue[],
) {
  const all: OwnedColumns<Columns> = { ...ownedColumns(), ...columns, ...timestamps };
  return pgTable<Name, OwnedColumns<Columns>>(name, all, extra);
}
