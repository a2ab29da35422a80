/**
 * The console's overview of every factory: today, the billing period so far and its projection from the
 * Statement, current 15-minute demand, power factor. One factory's series for a range is `Usage.series`
 * (the one read model of a range's sums).
 */
import Decimal from "decimal.js";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { powerFactorThreshold } from "../billing";
import { BillingPeriod } from "../billing/period";
import { Database } from "../database";
import { Figures } from "../kpi/figures";
import { Statement } from "../statement";
import { round } from "../util/number";

export * as Dashboard from "./index";

type Rows<T> = { rows: T[] };
const rowsOf = <T>(result: unknown) => (result as Rows<T>).rows;
const cents = (value: string | null | undefined) => new Decimal(value ?? 0).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
const instant = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** Money as exact decimal text (MXN, the factory's currency), null when the period is not priced (no tariff in force), never 0.00. */
const money = z.string().nullable();

export const FactorySummary = z.object({
  id: z.string(),
  name: z.string(),
  timeZone: z.string(),
  currency: z.string(),
  meters: z.number(),
  today: z.object({ kwh: z.number(), cost: money }),
  /**
   * The billing period so far (the Statement's, as `/kpis` says it): `start`/`end` instants and `period` local dates
   * [start, end) with its month `label`; `cost` the bill so far (every line: energy, demand, PF, IVA, DAP) and
   * `projectedCost` the bill at the period's end; `energyCost`/`projectedEnergyCost` the energy lines alone. Every
   * money field is null when `priced` is false. `estimatedKwh`: the part of `kwh` spread from gap readings.
   */
  month: z.object({
    label: z.string(),
    start: z.string(),
    end: z.string(),
    /** The instant the figures are as of (the request's "now" within the period): `/kpis` at the same `asOf` says the same cents. */
    asOf: z.string(),
    period: BillingPeriod.Period,
    kwh: z.number(),
    estimatedKwh: z.number(),
    priced: z.boolean(),
    prices: z.enum(["published", "estimated"]).nullable(),
    cost: money,
    projectedCost: money,
    energyCost: money,
    projectedEnergyCost: money,
    powerFactor: z.number().nullable(),
    /** Below it CFE surcharges this period's bill (0.90, or 0.95 for high voltage or ≥ 1 MW contracted from 2024): Bill.powerFactorThreshold. */
    powerFactorThreshold: z.number(),
  }),
  /** The latest complete 15-minute window (its start instant) and its measured demand, kW, beside the contracted kW. */
  demand: z.object({ windowStart: z.string().nullable(), kw: z.number().nullable(), contractedKw: z.number().nullable() }),
  lastReadingEnd: z.string().nullable(),
});
export type FactorySummary = z.infer<typeof FactorySummary>;

/**
 * Every factory of the organization: today, the current billing period so far and its projection (Statement.of:
 * the same read model as `/kpis` and the close, on the factory's billing cycle), the latest complete 15-minute
 * demand and the newest reading's end.
 */
export async function overview(organizationId: string, now = new Date()): Promise<FactorySummary[]> {
  const at = now.toISOString();
  const rows = rowsOf<{
    id: string;
    name: string;
    time_zone: string;
    currency: string;
    contracted: number | null;
    supply_voltage: "medium" | "high" | null;
    meters: number;
    last_end: string | Date | null;
    window_start: string | Date | null;
    window_kwh: number | null;
  }>(
    await Database.use().execute(sql`
      with f as (
        select id, name, time_zone, currency, contracted_demand_kw::float8 as contracted, supply_voltage
        from factory where organization_id = ${organizationId})
      select f.id, f.name, f.time_zone, f.currency, f.contracted, f.supply_voltage,
        (select count(*)::int from meter where meter.factory_id = f.id) as meters,
        m.last_end, w.window_start, w.window_kwh
      from f
      left join lateral (
        select interval_start + interval_seconds * interval '1 second' as last_end
        from reading r where r.factory_id = f.id and r.interval_start < ${at}::timestamptz order by r.interval_start desc limit 1) m on true
      left join lateral (
        select date_bin('15 minutes', interval_start, timestamptz '2000-01-01') as window_start, coalesce(sum(kwh) filter (where quality = 'measured'), 0)::float8 as window_kwh
        from reading r where r.factory_id = f.id and r.interval_start >= m.last_end - interval '45 minutes' and r.interval_start < m.last_end
        group by 1 having date_bin('15 minutes', min(interval_start), timestamptz '2000-01-01') + interval '15 minutes' <= m.last_end
        order by 1 desc limit 1) w on true
      order by f.name`),
  );
  const summaries: FactorySummary[] = [];
  for (const row of rows) {
    const statement = await Statement.of(row.id, "current", now);
    // Today: the factory's local day so far, bounded by the one rule for a day's first instant.
    const dayStart = BillingPeriod.startOf(BillingPeriod.localDate(now, row.time_zone), row.time_zone);
    const [today] = rowsOf<{ kwh: number | null; cost: string | null }>(
      await Database.use().execute(sql`
        select sum(kwh)::float8 as kwh, sum(cost)::text as cost
        from reading where factory_id = ${row.id} and interval_start >= ${dayStart.toISOString()}::timestamptz and interval_start < ${at}::timestamptz`),
    );
    const lastEnd = row.last_end === null ? null : new Date(row.last_end).getTime();
    summaries.push({
      id: row.id,
      name: row.name,
      timeZone: row.time_zone,
      currency: row.currency,
      meters: row.meters,
      today: { kwh: round(today?.kwh ?? 0, 3), cost: statement.priced ? cents(today?.cost) : null },
      month: {
        label: statement.label,
        start: statement.range.from,
        end: statement.range.to,
        asOf: statement.range.asOf,
        period: statement.period,
        kwh: statement.energy.kwh,
        estimatedKwh: statement.energy.estimatedKwh,
        priced: statement.priced,
        prices: statement.prices,
        cost: statement.bill?.monthToDate.total ?? null,
        projectedCost: statement.bill?.projection?.total ?? null,
        energyCost: statement.energyCost.toDate,
        projectedEnergyCost: statement.energyCost.projection,
        powerFactor: statement.powerFactor,
        powerFactorThreshold:
          powerFactorThreshold(BillingPeriod.priceMonth(statement.period), { contractedDemandKw: row.contracted, supplyVoltage: row.supply_voltage }) / 100,
      },
      demand: {
        windowStart: instant(row.window_start),
        kw: row.window_kwh === null ? null : round(Figures.demandKw(row.window_kwh), 2),
        contractedKw: row.contracted,
      },
      lastReadingEnd: lastEnd === null ? null : new Date(lastEnd).toISOString(),
    });
  }
  return summaries;
}
