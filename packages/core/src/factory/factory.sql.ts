import { index, integer, numeric, text } from "drizzle-orm/pg-core";
import { ownedTable } from "../database/table";

export const factoryTable = ownedTable(
  "factory",
  {
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
  },
  (t) => [index("factory_organization_idx").on(t.organizationId)],
);
