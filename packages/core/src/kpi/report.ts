/**
 * A factory's KPIs for a billing period, gathered: 15-minute windows and meter days from the time-series port
 * (InfluxDB, or DuckDB over the lake) for the breakdowns, meters and lines, production, then `Kpi.compute`; the
 * period, the basis meters, demand, power factor, the bill so far and its projection are the Statement's (the read model the overview and the close share). Org-scoped:
 * another organization's factory is "not found".
 */
import { z } from "zod";
import { Bill } from "../billing";
import { BillingPeriod } from "../billing/period";
import { Factory } from "../factory";
import { Meter } from "../meter";
import { Production } from "../production";
import { Statement } from "../statement";
import { TimeSeries } from "../timeseries";
import { VisibleError } from "../util/error";
import { compute, Kpis, type Query } from "./index";

export * as KpiReport from "./report";

export const Report = Kpis.extend({
  factoryId: z.string(),
  /** The month label of the billing period (YYYY-MM). */
  month: z.string(),
  basis: Statement.Schema.shape.basis,
  /** The billing period: local dates [start, end) in the factory's zone, its label, and where its dates come from. */
  period: z.object({ label: z.string(), start: z.string(), end: z.string(), source: Statement.Schema.shape.periodSource }),
  /** False when no tariff is in force over the period: every cost is null, never 0.00. */
  priced: z.boolean(),
  /** Whether the period's prices are CFE's published ones or estimated from the latest; null when not priced. */
  prices: Statement.Schema.shape.prices,
  /** The read model: energy, energy-only cost by period, demand, PF, bill so far and projection. */
  statement: Statement.Schema,
  /** The statement's bill so far and projection (null before the period starts), or why there is none. */
  bill: z.union([z.object({ monthToDate: Bill.Schema, projection: Bill.Schema.nullable() }), z.object({ unavailable: z.string() })]),
});
export type Report = z.infer<typeof Report>;

/**
 * The KPIs of a factory's billing period as of `now`: `?period=current|YYYY-MM` or `?month=YYYY-MM` (the period CFE
 * labels with that month: the imported utility bill's reading dates, else the factory's cycle day, else the
 * calendar month; neither: current). `basis` says which meters the factory-wide figures (totals, demand, bill) sum:
 * its billing meters when it has any, else every meter.
 * @throws VisibleError `factory.not_found` (404); EmissionFactorError (400 at `month`) before 2020 without `gridFactor`.
 * @example await KpiReport.month(actor.organizationId, "fac_…", { period: "current" })
 */
export async function month(organizationId: string, factoryId: string, query: Query, now = new Date()): Promise<Report> {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  const statement = await Statement.of(factoryId, query.period ?? query.month ?? "current", now);
  const { from, to } = BillingPeriod.range(statement.period, factory.timeZone);
  const series = await TimeSeries.use();
  const range = { factoryId, from, to };
  const meters = await Meter.listByFactory(factoryId);
  const usage = await series.usage({ ...range, timeZone: factory.timeZone });
  // The factory's figures come from the statement's basis (the meters at the point of supply when it has them:
  // sub-meters measure the same energy again); per-line figures keep every meter's days.
  const { meterIds: billing } = await Statement.basisOf(factoryId);
  const windows = billing.length > 0 ? await series.windows({ ...range, meterIds: billing }) : usage.windows;
  const production = await Production.days(factoryId, statement.period.start, BillingPeriod.lastDay(statement.period));
  const kpis = compute({
    month: statement.label,
    period: statement.period,
    timeZone: factory.timeZone,
    now,
    currency: statement.currency,
    contractedDemandKw: factory.contractedDemandKw,
    windows,
    meterDays: usage.meterDays,
    meters: meters.map((meter) => ({ id: meter.id, line: meter.line })),
    production,
    gridFactorKgPerKwh: query.gridFactor,
    billingMeterId: billing.length === 1 ? billing[0] : null,
    // Demand and PF are the bill's (one figure: the statement's), not a second reading of the time series.
    bill: {
      peakKw: statement.demand.maxKw,
      peakAt: statement.demand.maxAt,
      puntaPeakKw: statement.demand.puntaKw,
      powerFactor: statement.powerFactor,
      basisMeterIds: billing,
    },
  });
  const figures = statement.priced ? kpis : withoutCosts(kpis);
  return {
    factoryId,
    basis: statement.basis,
    ...figures,
    month: statement.label,
    period: { label: statement.label, start: statement.period.start, end: statement.period.end, source: statement.periodSource },
    priced: statement.priced,
    prices: statement.prices,
    statement,
    bill: statement.bill ?? { unavailable: statement.unpriced ?? "not priced" },
  };
}

/** The figures with every per-reading cost null: an unpriced span has no cost, not a cost of 0.00. */
function withoutCosts(kpis: Kpis): Kpis {
  const none = <T extends { cost: string | null }>(rows: T[]) => rows.map((row) => ({ ...row, cost: null }));
  return {
    ...kpis,
    totals: { ...kpis.totals, cost: null },
    byDay: none(kpis.byDay),
    byShift: none(kpis.byShift),
    byLine: none(kpis.byLine),
    byPeriod: none(kpis.byPeriod),
  };
}
