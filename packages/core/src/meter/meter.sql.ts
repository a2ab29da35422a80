import { type AnyPgColumn, doublePrecision, index, integer, numeric, text } from "drizzle-orm/pg-core";
import { ownedTable } from "../database/table";
import { reference } from "../database/types";
import { deviceTable } from "../device/device.sql";
import { factoryTable } from "../factory/factory.sql";

export const meterTable = ownedTable(
  "meter",
  {
    factoryId: reference("factory_id", () => factoryTable.id),
    /** The gateway that reads this meter: the only device allowed to write its readings. */
    deviceId: reference("device_id", () => deviceTable.id),
    name: text("name").notNull(),
    /** Production line or circuit label, used to join production figures for KPIs. */
    line: text("line").notNull(),
    /** CT × VT ratio the gateway applies to every quantity. */
    multiplier: numeric("multiplier").notNull().default("1"),
    counterType: text("counter_type").notNull().default("import_kwh"),
    /** The meter's rating in kW (CT ratio × nominal voltage, or configured): slots above it are flagged `spike_over_rating`. */
    maxKw: doublePrecision("max_kw"),
    /**
     * `billing`: the utility's meter at the point of supply (the bill is its readings); `sub`: a meter downstream
     * of another (a line, a machine), which allocates the bill's cost. Meters saved before roles existed are `sub`.
     */
    role: text("role", { enum: ["billing", "sub"] })
      .notNull()
      .default("sub"),
    /** The meter upstream of this one (same factory); null for a billing meter and for a first-level meter without one. */
    parentId: text("parent_id").references((): AnyPgColumn => meterTable.id),
    /**
     * How its gateway reads it (GET /v1/devices/self/config): the meter model (`driver`, a map file of the gateway,
     * e.g. sdm630), the named bus of the gateway it hangs on with its Modbus `unit_id`, or a Modbus TCP `host`/`port`;
     * `ct`/`vt` ratios the gateway applies. Null: not configured in the cloud (the gateway's own file says).
     */
    driver: text("driver"),
    bus: text("bus"),
    unitId: integer("unit_id"),
    host: text("host"),
    port: integer("port"),
    ct: doublePrecision("ct"),
    vt: doublePrecision("vt"),
  },
  (t) => [index("meter_factory_idx").on(t.factoryId), index("meter_device_idx").on(t.deviceId), index("meter_parent_idx").on(t.parentId)],
);
