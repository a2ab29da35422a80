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
 * The KPIs of a factory's local month as of `now`.
 * @example await KpiReport.month(actor.organizationId, "fac_…", { month: "2026-03" })
 */
export async function month(organizationId: string, factoryId: string, query: Query, now = new Date()): Promise<Kpis & { factoryId: string }> {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  const { from, to } = monthRange(query.month, factory.timeZone);
  const series = await TimeSeries.use();
  const range = { factoryId, from, to };
  const { windows, meterDays } = await series.usage({ ...range, timeZone: factory.timeZone });
  const meters = await Meter.listByFactory(factoryId);
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
  });
  return { factoryId, ...kpis };
}

/** The month's last day, YYYY-MM-DD. */
function lastDayOf(month: string): string {
  const days = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).getUTCDate();
  return `${month}-${String(days).padStart(2, "0")}`;
}
