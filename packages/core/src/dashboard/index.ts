/**
 * The console's figures, read from stored readings in the factory's local time: the overview of
 * every factory (today, the billing period so far and its projection from the Statement, current 15-minute demand, power factor)
 * and one factory's series for a range (power and cost per bucket with its TOU period, 15-minute
 * demand with the peak, cost per period, per-meter totals). Series are columnar to keep a month of
 * 5-minute buckets small on the wire.
 */
import Decimal from "decimal.js";
import { sql } from "drizzle-orm";
import { powerFactorThreshold } from "../billing";
import { BillingPeriod } from "../billing/period";
import { Database } from "../database";
import { Factory } from "../factory";
import { Figures } from "../kpi/figures";
import { Rollup } from "../rollup";
import { Statement } from "../statement";
import { Usage } from "../usage";
import { VisibleError } from "../util/error";

export * as Dashboard from "./index";

type Rows<T> = { rows: T[] };
const rowsOf = <T>(result: unknown) => (result as Rows<T>).rows;
const money = (value: string | null | undefined) => new Decimal(value ?? 0).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
const instant = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** The kWh of readings that carry kVArh, summed: what power factor pairs with sum(kvarh) (Figures.powerFactor). */
/** The kWh of estimated slots (spread from gap readings), summed; 0 when all was measured. */
const estimatedKwh = sql.raw("coalesce(sum(kwh) filter (where quality = 'estimated'), 0)::float8");

const kwhWithKvarh = sql.raw(`sum(${Figures.sql.kwhWithKvarh("kwh", "kvarh")})::float8`);

export type FactorySummary = {
  id: string;
  name: string;
  timeZone: string;
  currency: string;
  meters: number;
  /** Null cost when the period is not priced (no tariff in force), never 0.00. */
  today: { kwh: number; cost: string | null };
  /**
   * The billing period so far (the Statement's, as `/kpis` says it): `start`/`end` instants and `period` local dates
   * [start, end) with its month `label`; `cost` the bill so far (every line: energy, demand, PF, IVA, DAP) and
   * `projectedCost` the bill at the period's end; `energyCost`/`projectedEnergyCost` the energy lines alone. Every
   * money field is null when `priced` is false. `estimatedKwh`: the part of `kwh` spread from gap readings.
   */
  month: {
    label: string;
    start: string;
    end: string;
    period: { start: string; end: string };
    kwh: number;
    estimatedKwh: number;
    priced: boolean;
    prices: "published" | "estimated" | null;
    cost: string | null;
    projectedCost: string | null;
    energyCost: string | null;
    projectedEnergyCost: string | null;
    powerFactor: number | null;
    /** Below it CFE surcharges this period's bill (0.90, or 0.95 for high voltage or ≥ 1 MW contracted from 2024): Bill.powerFactorThreshold. */
    powerFactorThreshold: number;
  };
  demand: { windowStart: string | null; kw: number | null; contractedKw: number | null };
  lastReadingEnd: string | null;
};

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
    window_kw: number | null;
  }>(
    await Database.use().execute(sql`
      with f as (
        select id, name, time_zone, currency, contracted_demand_kw::float8 as contracted, supply_voltage
        from factory where organization_id = ${organizationId})
      select f.id, f.name, f.time_zone, f.currency, f.contracted, f.supply_voltage,
        (select count(*)::int from meter where meter.factory_id = f.id) as meters,
        m.last_end, w.window_start, w.window_kw
      from f
      left join lateral (
        select interval_start + interval_seconds * interval '1 second' as last_end
        from reading r where r.factory_id = f.id and r.interval_start < ${at}::timestamptz order by r.interval_start desc limit 1) m on true
      left join lateral (
        select date_bin('15 minutes', interval_start, timestamptz '2000-01-01') as window_start, (coalesce(sum(kwh) filter (where quality = 'measured'), 0) * 4)::float8 as window_kw
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
      today: { kwh: round(today?.kwh ?? 0, 3), cost: statement.priced ? money(today?.cost) : null },
      month: {
        label: statement.label,
        start: statement.range.from,
        end: statement.range.to,
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
      demand: { windowStart: instant(row.window_start), kw: row.window_kw === null ? null : round(row.window_kw, 2), contractedKw: row.contracted },
      lastReadingEnd: lastEnd === null ? null : new Date(lastEnd).toISOString(),
    });
  }
  return summaries;
}

/** The usage query (from, to, bucket); the console's series span at most `maxSeriesDays`, a month of 5-minute buckets and then some. */
export const SeriesQuery = Usage.Query;
export const maxSeriesDays = 62;
export type SeriesQuery = Usage.Query;

export type Series = {
  factory: Factory.Info;
  from: string;
  to: string;
  bucket: SeriesQuery["bucket"];
  /** Bucket starts (epoch seconds), average kW, kWh (`estimatedKwh` of it spread from gap readings), cost and the bucket's most frequent TOU period. */
  buckets: { t: number[]; kw: number[]; kwh: number[]; estimatedKwh: number[]; cost: number[]; period: (string | null)[] };
  /** 15-minute demand windows aligned to :00/:15/:30/:45; kW = window kWh × 4. */
  demand: { t: number[]; kw: number[]; peak: { t: number; kw: number } | null; contractedKw: number | null };
  /** Null period: a tariff without time-of-use periods (or readings not priced yet). */
  byPeriod: { period: string | null; kwh: number; cost: string }[];
  /** As the usage route's totals: measured + estimated = kWh; `missingSlots`: meter slots in [from, min(to, now)) with no value. */
  totals: {
    kwh: number;
    cost: string;
    readings: number;
    powerFactor: number | null;
    measuredKwh: number;
    estimatedKwh: number;
    estimatedShare: number;
    missingSlots: number;
  };
  meters: {
    id: string;
    name: string;
    line: string;
    deviceId: string;
    kwh: number;
    cost: string;
    maxKw: number | null;
    powerFactor: number | null;
    lastReading: string | null;
  }[];
};

const bucketWidth = { "5m": ["5 minutes", 300], "15m": ["15 minutes", 900], "1h": ["1 hour", 3600], "1d": ["1 day", 86_400] } as const;

/** Per bucket (t: epoch seconds of its start): energy, cost and the TOU period most of its slots had. */
type BucketRow = { t: number; kwh: number; estimated_kwh: number; cost: number; period: string | null };
/** Energy of one instant (a slot, or a quarter-hour of the 15-minute rollup) and period, for demand and the period totals. */
type SlotRow = {
  t: number;
  period: string | null;
  kwh: number;
  estimated_kwh: number;
  cost: string;
  kvarh: number | null;
  kwh_with_kvarh: number | null;
  readings: number;
};
type MeterRow = {
  id: string;
  name: string;
  line: string;
  device_id: string;
  kwh: number | null;
  cost: string | null;
  max_kw: number | null;
  kvarh: number | null;
  kwh_with_kvarh: number | null;
  last: string | Date | null;
};
type Parts = { bucketRows: BucketRow[]; windows: { t: number; kwh: number }[]; slots: SlotRow[]; meterRows: MeterRow[] };

/**
 * The series' rows summed from the readings at their own 5-minute grain (the path before rollups; what
 * `Rollup.forceReadings` and 5-minute buckets read).
 */
async function fromReadings(factoryId: string, query: SeriesQuery, zone: string): Promise<Parts> {
  const db = Database.use();
  const [width] = bucketWidth[query.bucket];
  const range = sql`factory_id = ${factoryId} and interval_start >= ${query.from}::timestamptz and interval_start < ${query.to}::timestamptz`;
  // One pass over the readings at their own 5-minute grain feeds the 5-minute buckets, the 15-minute
  // demand, the periods and the totals; a month of 200 meters is 1.7 million rows, so passes count.
  const [slotRows, localRows, meterRows] = await Promise.all([
    db.execute(sql`
      select extract(epoch from interval_start)::float8 as t, tou_period as period, sum(kwh)::float8 as kwh, ${estimatedKwh} as estimated_kwh,
        coalesce(sum(cost), 0)::text as cost,
        sum(kvarh)::float8 as kvarh, ${kwhWithKvarh} as kwh_with_kvarh, count(*)::int as readings
      from reading where ${range} group by interval_start, tou_period order by 1`),
    // Quarter-hours, hours and days are the factory's local ones.
    query.bucket === "5m"
      ? undefined
      : db.execute(sql`
      select extract(epoch from ${Usage.bucketStart(width, zone)})::float8 as t,
        sum(kwh)::float8 as kwh, ${estimatedKwh} as estimated_kwh, coalesce(sum(cost), 0)::float8 as cost, mode() within group (order by tou_period) as period
      from reading where ${range} group by 1 order by 1`),
    db.execute(sql`
      select m.id, m.name, m.line, m.device_id, r.kwh, r.cost, r.max_kw, r.kvarh, r.kwh_with_kvarh, r.last
      from meter m left join lateral (
        select sum(kwh)::float8 as kwh, sum(cost)::text as cost, max(kw_max)::float8 as max_kw, sum(kvarh)::float8 as kvarh,
          ${kwhWithKvarh} as kwh_with_kvarh, max(interval_start) as last
        from reading where meter_id = m.id and interval_start >= ${query.from}::timestamptz and interval_start < ${query.to}::timestamptz) r on true
      where m.factory_id = ${factoryId} order by m.line, m.name`),
  ]);
  const slots = rowsOf<SlotRow>(slotRows);
  const bucketRows: BucketRow[] = [];
  if (localRows) bucketRows.push(...rowsOf<BucketRow>(localRows));
  else {
    // A slot's rows differ only by period (a tariff change mid-range); the bucket shows the period most readings had.
    let current: (BucketRow & { readings: number }) | undefined;
    for (const row of slots) {
      if (current && current.t === row.t) {
        current.kwh += row.kwh;
        current.estimated_kwh += row.estimated_kwh;
        current.cost += Number(row.cost);
        if (row.readings > current.readings) Object.assign(current, { period: row.period, readings: row.readings });
        continue;
      }
      if (current) bucketRows.push(current);
      current = { t: row.t, kwh: row.kwh, estimated_kwh: row.estimated_kwh, cost: Number(row.cost), period: row.period, readings: row.readings };
    }
    if (current) bucketRows.push(current);
  }
  return {
    bucketRows: bucketRows.map(({ t, kwh, estimated_kwh, cost, period }) => ({ t, kwh, estimated_kwh, cost, period })),
    windows: slots,
    slots,
    meterRows: rowsOf<MeterRow>(meterRows),
  };
}

/**
 * The same rows from a rollup (`source`, chosen by Rollup.choose so its buckets nest in the asked ones
 * and its edges are the range's): buckets, period totals and meters from it, demand from the 15-minute
 * rollup (CFE's windows). A bucket's period is the one most of its slots had, ties to the first in
 * Postgres' order, nulls left out: what `mode() within group (order by tou_period)` gives over readings.
 */
async function fromRollups(factoryId: string, query: SeriesQuery, zone: string, source: Exclude<Rollup.Source, "readings">): Promise<Parts> {
  const db = Database.use();
  const [width] = bucketWidth[query.bucket];
  const rows = Usage.rowsOf(source, factoryId, query);
  const buckets = Usage.rowsOf(source, factoryId, query, { perMeter: false });
  const [periodRows, windowRows, meterRows] = await Promise.all([
    db.execute(sql`
      select extract(epoch from ${Usage.bucketStart(width, zone)})::float8 as t, tou_period as period, sum(kwh)::float8 as kwh,
        sum(estimated_kwh)::float8 as estimated_kwh, coalesce(sum(cost), 0)::text as cost, sum(kvarh)::float8 as kvarh,
        sum(kwh_with_kvarh)::float8 as kwh_with_kvarh, sum(readings)::int as readings
      from ${buckets} group by 1, 2 order by 1, 2`),
    db.execute(sql`
      select extract(epoch from interval_start)::float8 as t, sum(kwh)::float8 as kwh
      from ${Usage.rowsOf("15m", factoryId, query, { perMeter: false })} group by 1 order by 1`),
    // Materialized: summed once, whatever the planner guesses of a rollup never analyzed (PGlite runs no
    // autovacuum; a nested loop over the grouped rollup re-sorted it per meter, 40 s for a month).
    db.execute(sql`
      with r as materialized (
        select meter_id, sum(kwh)::float8 as kwh, sum(cost)::text as cost, max(kw_max)::float8 as max_kw, sum(kvarh)::float8 as kvarh,
          sum(kwh_with_kvarh)::float8 as kwh_with_kvarh, max(last_start) as last
        from ${rows} group by meter_id)
      select m.id, m.name, m.line, m.device_id, r.kwh, r.cost, r.max_kw, r.kvarh, r.kwh_with_kvarh, r.last
      from meter m left join r on r.meter_id = m.id
      where m.factory_id = ${factoryId} order by m.line, m.name`),
  ]);
  const slots = rowsOf<SlotRow>(periodRows);
  const bucketRows: BucketRow[] = [];
  let current: { row: BucketRow; cost: Decimal; modeReadings: number } | undefined;
  for (const row of slots) {
    if (!current || current.row.t !== row.t) {
      if (current) bucketRows.push({ ...current.row, cost: current.cost.toNumber() });
      current = { row: { t: row.t, kwh: 0, estimated_kwh: 0, cost: 0, period: null }, cost: new Decimal(0), modeReadings: 0 };
    }
    current.row.kwh += row.kwh;
    current.row.estimated_kwh += row.estimated_kwh;
    current.cost = current.cost.plus(row.cost);
    if (row.period !== null && row.readings > current.modeReadings) {
      current.row.period = row.period;
      current.modeReadings = row.readings;
    }
  }
  if (current) bucketRows.push({ ...current.row, cost: current.cost.toNumber() });
  return { bucketRows, windows: rowsOf<{ t: number; kwh: number }>(windowRows), slots, meterRows: rowsOf<MeterRow>(meterRows) };
}

/**
 * One factory's figures over [from, to); an unknown or another organization's factory is not found. `now` bounds the missing slots.
 * Quarter-hour, hour and day buckets are read from the coarsest rollup that answers them (Rollup.choose),
 * with demand from the 15-minute rollup; 5-minute buckets and unaligned ranges sum the readings. Same figures either way.
 */
export async function series(organizationId: string, factoryId: string, query: SeriesQuery, now = new Date()): Promise<Series> {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  if (Date.parse(query.to) - Date.parse(query.from) > maxSeriesDays * 86_400_000)
    throw new VisibleError("input", "series.range_too_long", "Invalid request", [{ path: "to", message: `a range spans at most ${maxSeriesDays} days` }]);
  const seconds = bucketWidth[query.bucket][1];
  const source = Rollup.choose({ bucket: query.bucket, from: query.from, to: query.to, timeZone: factory.timeZone });
  const { bucketRows, windows, slots, meterRows } =
    source === "readings" ? await fromReadings(factoryId, query, factory.timeZone) : await fromRollups(factoryId, query, factory.timeZone, source);

  const demand: Series["demand"] = { t: [], kw: [], peak: null, contractedKw: factory.contractedDemandKw };
  for (const row of windows) {
    const window = Math.floor(row.t / 900) * 900;
    if (demand.t.at(-1) === window) demand.kw[demand.kw.length - 1] = (demand.kw.at(-1) ?? 0) + Figures.demandKw(row.kwh);
    else {
      demand.t.push(window);
      demand.kw.push(Figures.demandKw(row.kwh));
    }
  }
  const periods = new Map<string | null, { kwh: number; cost: Decimal; kvarh: number | null; kwhWithKvarh: number; readings: number }>();
  for (const row of slots) {
    const period = periods.get(row.period) ?? { kwh: 0, cost: new Decimal(0), kvarh: null, kwhWithKvarh: 0, readings: 0 };
    period.kwh += row.kwh;
    period.cost = period.cost.plus(row.cost);
    if (row.kvarh !== null) period.kvarh = (period.kvarh ?? 0) + row.kvarh;
    period.kwhWithKvarh += row.kwh_with_kvarh ?? 0;
    period.readings += row.readings;
    periods.set(row.period, period);
  }
  demand.kw = demand.kw.map((kw) => round(kw, 3));
  demand.kw.forEach((kw, index) => {
    if (!demand.peak || kw > demand.peak.kw) demand.peak = { t: demand.t[index] ?? 0, kw };
  });
  const byPeriod = [...periods.entries()].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)));
  const kwh = byPeriod.reduce((sum, [, row]) => sum + row.kwh, 0);
  const estimated = slots.reduce((sum, row) => sum + row.estimated_kwh, 0);
  const readings = byPeriod.reduce((sum, [, row]) => sum + row.readings, 0);
  const kvarh = byPeriod.some(([, row]) => row.kvarh !== null) ? byPeriod.reduce((sum, [, row]) => sum + (row.kvarh ?? 0), 0) : null;
  const buckets: Series["buckets"] = { t: [], kw: [], kwh: [], estimatedKwh: [], cost: [], period: [] };
  for (const row of bucketRows) {
    buckets.t.push(row.t);
    buckets.kwh.push(round(row.kwh, 4));
    buckets.estimatedKwh.push(round(row.estimated_kwh, 4));
    buckets.kw.push(round((row.kwh * 3600) / seconds, 3));
    buckets.cost.push(round(row.cost, 4));
    buckets.period.push(row.period);
  }
  return {
    factory,
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    bucket: query.bucket,
    buckets,
    demand,
    byPeriod: byPeriod.map(([period, row]) => ({ period, kwh: round(row.kwh, 3), cost: money(row.cost.toString()) })),
    totals: {
      kwh: round(kwh, 3),
      cost: money(byPeriod.reduce((sum, [, row]) => sum.plus(row.cost), new Decimal(0)).toString()),
      readings,
      powerFactor: Figures.powerFactor({ kwh: byPeriod.reduce((sum, [, row]) => sum + row.kwhWithKvarh, 0), kvarh }),
      measuredKwh: round(kwh - estimated, 3),
      estimatedKwh: round(estimated, 3),
      estimatedShare: kwh > 0 ? round(estimated / kwh, 4) : 0,
      missingSlots: Usage.missingSlots(meterRows.length, query, readings, now),
    },
    meters: meterRows.map((row) => ({
      id: row.id,
      name: row.name,
      line: row.line,
      deviceId: row.device_id,
      kwh: round(row.kwh ?? 0, 3),
      cost: money(row.cost),
      maxKw: row.max_kw,
      powerFactor: Figures.powerFactor({ kwh: row.kwh_with_kvarh ?? 0, kvarh: row.kvarh }),
      lastReading: instant(row.last),
    })),
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
