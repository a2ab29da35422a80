/**
 * A factory's month of KPIs, gathered: 15-minute windows and meter days from the time-series port
 * (InfluxDB, or DuckDB over the lake), meters and lines, production, and the tariff in force, then
 * `Kpi.compute`. Org-scoped: another organization's factory is "not found".
 */
import { Factory } from "../factory";
import { Meter } from "../meter";
import { Production } from "../production";
import { Tariff } from "../tariff";
import { TariffStore } from "../tariff/store";
import { TimeSeries } from "../timeseries";
import { VisibleError } from "../util/error";
import { compute, type Kpis, monthRange, type Query } from "./index";

export * as KpiReport from "./report";

/**
 * The KPIs of a factory's local month as of `now`. `basis` says which meters the factory-wide figures (totals,
 * demand, bill to date) sum: its billing meters when it has any, else every meter.
 * @example await KpiReport.month(actor.organizationId, "fac_…", { month: "2026-03" })
 */
export async function month(
  organizationId: string,
  factoryId: string,
  query: Query,
  now = new Date(),
): Promise<Kpis & { factoryId: string; basis: "billing-meters" | "all-meters" }> {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  const { from, to } = monthRange(query.month, factory.timeZone);
  const series = await TimeSeries.use();
  const range = { factoryId, from, to };
  const meters = await Meter.listByFactory(factoryId);
  const usage = await series.usage({ ...range, timeZone: factory.timeZone });
  // The factory's figures and its bill come from the meters at the point of supply when it has them (sub-meters
  // measure the same energy again); per-line figures keep every meter's days.
  const billing = meters.filter((meter) => meter.role === "billing").map((meter) => meter.id);
  const basis = billing.length > 0 ? "billing-meters" : "all-meters";
  const windows = billing.length > 0 ? await series.windows({ ...range, meterIds: billing }) : usage.windows;
  const meterDays = usage.meterDays;
  const production = await Production.days(factoryId, `${query.month}-01`, lastDayOf(query.month));
  const versions = (await TariffStore.versions([factoryId])).get(factoryId) ?? [];
  const kpis = compute({
    month: query.month,
    timeZone: factory.timeZone,
    now,
    currency: factory.currency,
    contractedDemandKw: factory.contractedDemandKw,
    windows,
    meterDays,
    meters: meters.map((meter) => ({ id: meter.id, line: meter.line })),
    production,
    tariff: Tariff.inForce(versions, from),
    gridFactorKgPerKwh: query.gridFactor,
    billingMeterId: billing.length === 1 ? billing[0] : null,
  });
  return { factoryId, basis, ...kpis };
}

/** The month's last day, YYYY-MM-DD. */
function lastDayOf(month: string): string {
  const days = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).getUTCDate();
  return `${month}-${String(days).padStart(2, "0")}`;
}
