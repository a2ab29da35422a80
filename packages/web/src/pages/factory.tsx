/**
 * One factory over a range: power and cost with TOU periods shaded, cost per period, 15-minute demand
 * with the month's peak and the contracted demand, how much energy was estimated (spread from gap
 * readings) and how many slots hold no value, and the meters table with each meter's gaps. The time from
 * the API's answer to the painted page is measured on every load (performance measure "factory:render", kept on the
 * figures' `data-render-ms` for tests and benchmarks, not shown to people).
 */
import { Time } from "@wattflow/core/time";
import { useLayoutEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import uPlot from "uplot";
import { api, type Gaps, ok, type Series } from "../api";
import { Chart, estimatedFill, estimatedSwatch, fromZero, peakMarker, periodColor, timeAxis, touShading } from "../charts";
import { money, num, percent, periodName, tariffName, when } from "../format";
import { PageHeading } from "../heading";
import { useLoad, useToggleSet } from "../hooks";
import { LoadError, LoadState } from "../states";
import { DataTable } from "../table";
import { ZoneNote } from "../zone";

const ranges = ["today", "7d", "30d", "month", "year"] as const;
type Range = (typeof ranges)[number];
type Bucket = Series["bucket"];

/**
 * The bucket a span is drawn in: no more points than the chart has pixels to show them (a 1,440-px page draws about
 * 1,300): up to 2 days of 5-minute buckets (576 points, where a 5-minute slot is a pixel or more), up to 14 days of
 * quarter-hours (1,344), up to 93 days of hours (2,232: a quarter, uPlot still draws each pixel's min and max), days
 * beyond (a year is 365). Anything coarser than 5 minutes is read from the factory's quarter-hour rollup.
 * @example bucketFor(30 * 86_400_000) // "1h"
 */
export function bucketFor(spanMs: number): Bucket {
  const days = spanMs / 86_400_000;
  return days <= 2 ? "5m" : days <= 14 ? "15m" : days <= 93 ? "1h" : "1d";
}

/**
 * Downloads of the range as CSV (GET /v1/factories/:id/exports/…): with a BOM, since people open these in Excel;
 * the session cookie goes with a plain link.
 */
function csvHref(id: string, kind: "readings" | "usage", range: { from: string; to: string }): string {
  const query = new URLSearchParams({ ...range, bom: "1", ...(kind === "usage" ? { bucket: "1h" } : {}) });
  return `/v1/factories/${encodeURIComponent(id)}/exports/${kind}.csv?${query}`;
}

/**
 * The range's [from, to): up to the quarter-hour in progress (the rollups' grid; the API answers from them only for
 * ranges on it), from local midnight (today, a year back), the month's first day, or 7/30 days back on the hour.
 */
function bounds(range: Range, timeZone: string, now = new Date()): { from: string; to: string } {
  const to = new Date(Math.ceil(now.getTime() / 900_000) * 900_000);
  const iso = (from: Date) => ({ from: from.toISOString(), to: to.toISOString() });
  // A local day's and month's first instant by core's one rule (midnight, or where the clocks skip it).
  if (range === "today") return iso(new Date(Time.startOfDay(now.getTime(), timeZone)));
  if (range === "year") return iso(new Date(Time.startOfDay(to.getTime() - 365 * 86_400_000, timeZone)));
  if (range === "month") return iso(new Date(Time.dayStart({ ...Time.toLocal(now.getTime(), timeZone), day: 1 }, timeZone)));
  const days = range === "7d" ? 7 : 30;
  return iso(new Date(Math.floor((to.getTime() - days * 86_400_000) / 3_600_000) * 3_600_000));
}

/** The range's bounds and the bucket its span is drawn in. */
function queryOf(range: Range, timeZone: string) {
  const span = bounds(range, timeZone);
  return { ...span, bucket: bucketFor(Date.parse(span.to) - Date.parse(span.from)) };
}

export function FactoryPage({ id, range: requested }: { id: string; range: string | null }) {
  const { t } = useTranslation("factory");
  const range: Range = ranges.find((key) => key === requested) ?? "today";
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const factory = factories.data?.factories.find((f) => f.id === id);
  const series = useLoad(async () => {
    if (!factory) return undefined;
    performance.clearMarks();
    const query = queryOf(range, factory.timeZone);
    return ok(
      api.v1.factories[":id"].series.$get({ param: { id }, query }).then((response) => {
        performance.mark("factory:data");
        return response;
      }),
    );
  }, [id, range, factory?.timeZone]);

  if (factories.error) return <LoadError error={factories.error} />;
  if (factories.data && !factory) return <p className="error">{t("notFound")}</p>;
  if (!factory) return <p className="muted">{t("loading")}</p>;
  return (
    <section>
      <PageHeading title={factory.name}>
        <nav className="segmented" aria-label={t("range")}>
          {ranges.map((key) => (
            <a key={key} href={`#/factories/${id}?range=${key}`} className={key === range ? "seg active" : "seg"}>
              {t(`ranges.${key}`)}
            </a>
          ))}
        </nav>
      </PageHeading>
      <p className="muted small">
        {t("tariff", { tariff: tariffName(factory.tariffCode, factory.tariffZone) })} · <a href={`#/tariffs/${id}`}>{t("tariffsLink")}</a> ·{" "}
        <a href={`#/bills/${id}`}>{t("billsLink")}</a> · CSV:{" "}
        <a href={csvHref(id, "readings", bounds(range, factory.timeZone))} download data-testid="csv-readings">
          {t("csvReadings")}
        </a>
        ,{" "}
        <a href={csvHref(id, "usage", bounds(range, factory.timeZone))} download data-testid="csv-usage">
          {t("csvUsage")}
        </a>
      </p>
      <ZoneNote zones={[factory.timeZone]} />
      <LoadError error={series.error} />
      {series.loading && <p className="muted small">{t("loadingReadings")}</p>}
      {/* Keyed by range: new data mounts anew, so each load is measured from its own answer. */}
      {series.data && <FactoryFigures key={`${series.data.from}/${series.data.to}`} series={series.data} />}
    </section>
  );
}

function FactoryFigures({ series }: { series: Series }) {
  const { t } = useTranslation("factory");
  const section = useRef<HTMLDivElement>(null);
  const [renderMs, setRenderMs] = useState<number>();
  const { factory, buckets, demand } = series;
  const zone = factory.timeZone;
  // uPlot shows times in the factory's zone, not the browser's.
  const tzDate = useMemo(() => (ts: number) => uPlot.tzDate(new Date(ts * 1000), zone), [zone]);

  // kW and estimated kW as the API gives them: each bucket's kWh over its hours (0 estimated where all was measured).
  const powerData = useMemo<uPlot.AlignedData>(() => [buckets.t, buckets.kw, buckets.cost, buckets.estimatedKw], [buckets]);
  const width = t(`widths.${series.bucket}`);
  // The x axis spans the range asked for, on the factory's clock; y axes start at 0.
  const time = useMemo(() => timeAxis(zone, Date.parse(series.from) / 1000, Date.parse(series.to) / 1000), [zone, series.from, series.to]);
  const powerOptions = useMemo<Omit<uPlot.Options, "width" | "height">>(
    () => ({
      tzDate,
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      scales: { x: time.scale, y: { range: fromZero() }, cost: { range: fromZero(0.01) } },
      series: [
        { ...time.series, label: t("chart.time") },
        { label: t("chart.power"), stroke: "#1f6feb", width: 1.5, value: (_u, v) => (v === null ? "—" : `${num(v, 1)} kW`) },
        {
          label: t("chart.cost", { currency: factory.currency }),
          stroke: "#8250df",
          width: 1,
          scale: "cost",
          value: (_u, v) => (v === null ? "—" : money(v, factory.currency)),
        },
        // The estimated part of the power, hatched under the power line on the same kW axis; steps, as a bucket is [t, end).
        {
          label: t("chart.estimated"),
          stroke: estimatedSwatch,
          width: 1,
          fill: estimatedFill,
          paths: uPlot.paths.stepped?.({ align: 1 }),
          value: (_u, v) => (v === null ? "—" : `${num(v, 1)} kW`),
        },
      ],
      axes: [time.axis, { label: "kW", size: 60 }, { label: factory.currency, scale: "cost", side: 1, grid: { show: false }, size: 60 }],
      plugins: [touShading(buckets)],
    }),
    [buckets, tzDate, factory.currency, time, t],
  );

  const demandData = useMemo<uPlot.AlignedData>(() => [demand.t, demand.kw, demand.t.map(() => demand.contractedKw)] as unknown as uPlot.AlignedData, [demand]);
  const demandOptions = useMemo<Omit<uPlot.Options, "width" | "height">>(
    () => ({
      tzDate,
      // Room for the contracted line too, so the peak reads against it.
      scales: { x: time.scale, y: { range: fromZero(demand.contractedKw ?? 1) } },
      series: [
        { ...time.series, label: t("chart.time") },
        {
          label: t("chart.demand"),
          stroke: "#0969da",
          fill: "rgba(9, 105, 218, 0.08)",
          width: 1,
          value: (_u, v) => (v === null ? "—" : `${num(v)} kW`),
        },
        { label: t("chart.contracted"), stroke: "#d1242f", dash: [6, 4], width: 1, value: (_u, v) => (v === null ? "—" : `${num(v)} kW`) },
      ],
      axes: [time.axis, { label: "kW", size: 60 }],
      plugins: [peakMarker(demand.peak, (kw) => t("chart.peak", { kw: num(kw) }))],
    }),
    [demand, tzDate, time, t],
  );

  // Data arrived → React committed → uPlot drew → the browser painted the next frame.
  useLayoutEffect(() => {
    const frame = requestAnimationFrame(() =>
      setTimeout(() => {
        performance.mark("factory:painted");
        const measure = performance.measure("factory:render", "factory:data", "factory:painted");
        setRenderMs(measure.duration);
      }, 0),
    );
    return () => cancelAnimationFrame(frame);
  }, []);

  // The meters whose gaps are listed under their row.
  const [gapsShown, toggleGaps] = useToggleSet();
  // Biggest consumers first: where an energy manager looks for savings.
  const meters = useMemo(() => [...series.meters].sort((a, b) => b.kwh - a.kwh), [series.meters]);
  const maxPeriodCost = Math.max(...series.byPeriod.map((p) => Number(p.cost)), 1);
  const periodsShown = [...new Set(buckets.period.filter((p): p is string => p !== null))];
  return (
    <div
      ref={section}
      className="factory"
      data-testid="factory-figures"
      data-render-ms={renderMs?.toFixed(1)}
      data-points={buckets.t.length}
      data-bucket={series.bucket}
      data-meters={series.meters.length}
    >
      <dl className="figures wide">
        <div>
          <dt>{t("energy")}</dt>
          <dd data-testid="range-kwh">{num(series.totals.kwh)} kWh</dd>
        </div>
        <div>
          <dt>{t("measuredEstimated")}</dt>
          <dd className="sub" data-testid="range-measured">
            {t("measuredLine", {
              measured: num(series.totals.measuredKwh, 1),
              estimated: num(series.totals.estimatedKwh, 1),
              share: percent(series.totals.estimatedShare),
            })}
          </dd>
          <dd className={series.totals.missingSlots > 0 ? "sub bad" : "sub"} data-testid="range-missing">
            {t("missingSlots", { count: series.totals.missingSlots, n: num(series.totals.missingSlots) })}
          </dd>
        </div>
        <div>
          <dt>{t("cost")}</dt>
          <dd data-testid="range-cost">{series.priced ? money(series.totals.cost, factory.currency) : t("notPriced")}</dd>
        </div>
        <div>
          <dt>{t("peakDemand")}</dt>
          <dd data-testid="peak-kw">{demand.peak ? `${num(demand.peak.kw)} kW` : "—"}</dd>
          <dd className="sub">{demand.peak ? when(new Date(demand.peak.t * 1000).toISOString(), zone) : ""}</dd>
        </div>
        <div>
          <dt>{t("contractedDemand")}</dt>
          <dd>{num(demand.contractedKw)} kW</dd>
        </div>
        <div>
          <dt>{t("powerFactor")}</dt>
          <dd>{percent(series.totals.powerFactor)}</dd>
        </div>
        <div>
          <dt>{t("readings")}</dt>
          <dd>{num(series.totals.readings)}</dd>
        </div>
      </dl>
      <div className="card">
        <div className="card-title">
          <h2>{t("powerAndCost")}</h2>
          <div className="legend" data-testid="period-legend">
            {periodsShown.map((period) => (
              <span key={period}>
                <i style={{ background: periodColor(period, 0.35) }} /> {periodName(period)}
              </span>
            ))}
            <span>
              <i className="hatched" /> {t("estimated")}
            </span>
          </div>
        </div>
        {buckets.t.length === 0 ? <p className="muted">{t("noReadings")}</p> : <Chart label={t("chart.powerLabel")} options={powerOptions} data={powerData} />}
        <p className="muted small" data-testid="bucket-note">
          {t("bucketNote", { width })}
          {series.bucket === "1h" || series.bucket === "1d" ? ` ${t("splitNote")}` : ""}
        </p>
      </div>
      <div className="grid-2">
        <div className="card">
          <h2>{t("demand")}</h2>
          {demand.t.length === 0 ? (
            <p className="muted">{t("noReadings")}</p>
          ) : (
            <Chart label={t("demand")} options={demandOptions} data={demandData} height={220} />
          )}
          {(series.bucket === "1h" || series.bucket === "1d") && <p className="muted small">{t("demandNote", { width })}</p>}
        </div>
        <div className="card">
          <h2>{t("costByPeriod")}</h2>
          <table className="bars" data-testid="cost-by-period">
            <tbody>
              {series.byPeriod.map((period) => (
                <tr key={period.period ?? "none"}>
                  <th className="period-name">{periodName(period.period)}</th>
                  <td className="bar-cell">
                    <div className="bar" style={{ width: `${(Number(period.cost) / maxPeriodCost) * 100}%`, background: periodColor(period.period, 0.65) }} />
                  </td>
                  <td className="num">{num(period.kwh)} kWh</td>
                  <td className="num">{money(period.cost, factory.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="card">
        <h2>{t("meters", { count: series.meters.length, n: num(series.meters.length) })}</h2>
        <DataTable
          scroll="scroll"
          testId="meters-table"
          rows={meters}
          rowKey={(meter) => meter.id}
          detailRow={(meter) => gapsShown.has(meter.id) && <GapList meterId={meter.id} from={series.from} to={series.to} timeZone={zone} />}
          columns={[
            { header: t("meter"), cell: (meter) => meter.name },
            { header: t("line"), cell: (meter) => meter.line },
            { header: "kWh", num: true, cell: (meter) => num(meter.kwh, 1) },
            { header: t("cost"), num: true, cell: (meter) => money(meter.cost, factory.currency) },
            { header: t("maxKw"), num: true, cell: (meter) => num(meter.maxKw, 1) },
            { header: t("pf"), num: true, cell: (meter) => percent(meter.powerFactor) },
            { header: t("lastReading"), cell: (meter) => when(meter.lastReading, zone) },
            {
              header: t("gapsHeader"),
              // Its "gaps" button lists the meter's missing and estimated spans in the range (GET /v1/meters/:id/gaps).
              cell: (meter) => (
                <button type="button" className="link" aria-expanded={gapsShown.has(meter.id)} onClick={() => toggleGaps(meter.id)}>
                  {gapsShown.has(meter.id) ? t("hideGaps") : t("gaps")}
                </button>
              ),
            },
          ]}
        />
      </div>
    </div>
  );
}

function GapList({ meterId, from, to, timeZone }: { meterId: string; from: string; to: string; timeZone: string }) {
  const { t } = useTranslation("factory");
  const gaps = useLoad(() => ok(api.v1.meters[":id"].gaps.$get({ param: { id: meterId }, query: { from, to } })), [meterId, from, to]);
  return (
    <LoadState state={gaps} loading={<p className="muted small">{t("loadingGaps")}</p>}>
      {(data) => (
        <DataTable
          compact
          className="gaps"
          testId="gaps-list"
          rows={spansOf(data)}
          rowKey={(span) => `${span.kind}/${span.start}`}
          rowProps={(span) => ({ "data-kind": span.kind })}
          empty={<p className="muted small">{t("noGaps")}</p>}
          columns={[
            { cell: (span) => (span.kind === "missing" ? t("missing") : t("estimatedSpan")) },
            {
              cell: (span) => (
                <>
                  {when(span.start, timeZone)} → {when(span.end, timeZone)}
                </>
              ),
            },
            { num: true, cell: (span) => t("slots", { count: span.slots, n: num(span.slots) }) },
            { num: true, cell: (span) => (span.kwh === null ? "" : `${num(span.kwh, 3)} kWh`) },
          ]}
        />
      )}
    </LoadState>
  );
}

/** Missing and estimated spans in time order. */
function spansOf(gaps: Gaps) {
  return [
    ...gaps.missing.map((span) => ({ ...span, kind: "missing" as const, kwh: null })),
    ...gaps.estimated.map((span) => ({ ...span, kind: "estimated" as const, kwh: span.kwh })),
  ].sort((a, b) => a.start.localeCompare(b.start));
}
