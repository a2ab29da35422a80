import { index, integer, numeric, pgTable, text } from "drizzle-orm/pg-core";
import { id, reference, timestamps } from "../database/types";
import { organizationTable } from "../organization/organization.sql";

export const factoryTable = pgTable(
  "factory",
  {
    id: id(),
    organizationId: reference("organization_id", () => organizationTable.id),
    name: text("name").notNull(),
    /** IANA zone: time-of-use periods and days are the factory's local ones. */
    timeZone: text("time_zone").notNull(),
    /** Utility tariff code (`cfe-gdmth`), its schedule zone and price division. */
    tariffCode: text("tariff_code").notNull(),
    tariffZone: text("tariff_zone"),
    tariffDivision: text("tariff_division"),
    contractedDemandKw: numeric("contracted_demand_kw"),
    /** Supply voltage of the contract (CFE: medium 1–35 kV, high above): it sets the power-factor threshold. */
    supplyVoltage: text("supply_voltage", { enum: ["medium", "high"] }),
    /** Where the factory is supplied: the municipality decides its street-lighting charge (DAP). */
    state: text("state"),
    municipality: text("municipality"),
    /** Day of the month (1–28) CFE reads the meter; null bills calendar months. An imported utility bill's reading dates win. */
    billingCycleDay: integer("billing_cycle_day"),
    currency: text("currency").notNull().default("MXN"),
    /** CFE's service number (Registro Permanente de Usuario, 12 digits) as printed on its bills; null when not given. */
    rpu: text("rpu"),
    ...timestamps,
  },
  (t) => [index("factory_organization_idx").on(t.organizationId)],
);
