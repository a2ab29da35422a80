import { boolean, index, integer, numeric, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { id, instant, reference, timestamps, updatedAt } from "../database/types";
import { factoryTable } from "../factory/factory.sql";

/**
 * A factory's bill for a local month: `wattflow` is the one the monthly close computed from readings
 * (authoritative), `utility` the one the utility sent (imported, for reconciliation).
 */
export const billTable = pgTable(
  "bill",
  {
    id: id(),
    factoryId: reference("factory_id", () => factoryTable.id),
    /** YYYY-MM, in the factory's time zone: the month the billing period ends in. */
    month: text("month").notNull(),
    /** The billing period, local dates [start, end) (CFE's reading dates); null on bills stored before periods were kept. */
    periodStart: text("period_start"),
    periodEnd: text("period_end"),
    source: text("source", { enum: ["wattflow", "utility"] }).notNull(),
    /** closed: computed and final; reopened: a reading arrived after the close (a migration trigger sets it). */
    status: text("status", { enum: ["closed", "reopened", "imported"] }).notNull(),
    currency: text("currency").notNull(),
    subtotal: numeric("subtotal").notNull(),
    powerFactor: numeric("power_factor"),
    pfAdjustment: numeric("pf_adjustment").notNull(),
    iva: numeric("iva").notNull(),
    total: numeric("total").notNull(),
    readings: integer("readings"),
    /**
     * Share of the period the readings cover (0–1, 4 decimals): readings stored ÷ (basis meters × the period's
     * 5-minute slots). Below Config.cfeBilling.billCoverageWarning the bill is short of CFE's. Null on utility bills
     * and bills closed before it was kept.
     */
    coverage: numeric("coverage"),
    /**
     * Which meters the bill sums: `billing-meters` (the factory's meters at the point of supply; sub-meters only
     * allocate), `all-meters` (no meter is marked billing: every meter, as before meter roles existed).
     */
    basis: text("basis", { enum: ["billing-meters", "all-meters"] }),
    /** kWh of the bill's energy that was estimated (slots spread from gap readings), not measured. */
    estimatedKwh: numeric("estimated_kwh"),
    /** The month's maximum demand (kW; Bill.peakDemandKw): later months' demand ratchets look back at it. Null on flat bills and older rows. */
    peakDemandKw: numeric("peak_demand_kw"),
    /**
     * Priced with the latest published prices because the billing month's were not published yet (Bill.estimated);
     * null on utility bills and bills closed before this was kept.
     */
    pricesEstimated: boolean("prices_estimated"),
    importRunId: text("import_run_id"),
    closedAt: instant("closed_at"),
    reopenedAt: instant("reopened_at"),
    updatedAt: updatedAt(),
    ...timestamps,
  },
  (t) => [uniqueIndex("bill_factory_month_source_idx").on(t.factoryId, t.month, t.source), index("bill_status_idx").on(t.status)],
);

/** A bill's lines; on a computed bill, the utility's amount for the same code and the difference once reconciled. */
export const billLineTable = pgTable(
  "bill_line",
  {
    billId: reference("bill_id", () => billTable.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    code: text("code").notNull(),
    quantity: numeric("quantity").notNull(),
    unit: text("unit").notNull(),
    unitPrice: numeric("unit_price").notNull(),
    amount: numeric("amount").notNull(),
    utilityAmount: numeric("utility_amount"),
    difference: numeric("difference"),
  },
  (t) => [uniqueIndex("bill_line_bill_position_idx").on(t.billId, t.position)],
);
