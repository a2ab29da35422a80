/**
 * The time-series port on InfluxDB 2: reads are Flux from the query library, answered as annotated CSV. What writes
 * the points is the series sink (sink/influx.ts), a port of its own.
 */
import { InfluxDB } from "@influxdata/influxdb-client";
import { Flux } from "../flux";
import { toLocal } from "../time";
import { type MeterDay, type Port, type Range, TimeSeriesError, type Window } from "./index";

/** Where InfluxDB is and the token to ask it with (TimeSeries.influxSettingsFromEnv reads them). */
export type Settings = { url: string; token: string; org: string; bucket: string };

export class InfluxTimeSeries implements Port {
  private client?: InfluxDB;

  constructor(private readonly settings: Settings) {}

  describe() {
    return { kind: "influxdb" as const, location: `${this.settings.url} (org ${this.settings.org}, bucket ${this.settings.bucket})` };
  }

  /** Runs a Flux script and returns its rows as objects (annotated CSV parsed by the official client). */
  async query(script: string): Promise<Record<string, unknown>[]> {
    this.client ??= new InfluxDB({ url: this.settings.url, token: this.settings.token });
    try {
      return await this.client.getQueryApi(this.settings.org).collectRows(script, (values, table) => table.toObject(values));
    } catch (error) {
      throw new TimeSeriesError(`InfluxDB query failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async windows(range: Range): Promise<Window[]> {
    const scope = { bucket: this.settings.bucket, factoryId: range.factoryId, from: range.from, to: range.to, meterIds: range.meterIds };
    const [sums, periods, paired] = await Promise.all([
      this.query(Flux.factoryWindows(scope)),
      this.query(Flux.factoryWindowPeriods(scope)),
      this.query(Flux.factoryWindowsWithKvarh(scope)),
    ]);
    const byTime = new Map<number, Window>();
    const at = (row: Record<string, unknown>) => {
      const start = Date.parse(String(row._time));
      let window = byTime.get(start);
      if (!window) {
        window = { start: new Date(start), period: null, kwh: 0, estimatedKwh: 0, kvarh: null, kwhWithKvarh: 0, cost: "0" };
        byTime.set(start, window);
      }
      return window;
    };
    for (const row of sums) {
      const window = at(row);
      const value = Number(row._value);
      if (row._field === Flux.fields.kwh) window.kwh = value;
      else if (row._field === Flux.fields.kvarh) window.kvarh = value;
      else if (row._field === Flux.fields.estimatedKwh) window.estimatedKwh = value;
      else if (row._field === Flux.fields.cost) window.cost = value.toFixed(6);
    }
    for (const row of paired) at(row).kwhWithKvarh = Number(row._value);
    for (const row of periods) at(row).period = row._value === null || row._value === undefined ? null : String(row._value);
    return [...byTime.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
  }

  async usage(range: Range & { timeZone: string }): Promise<{ windows: Window[]; meterDays: MeterDay[] }> {
    const [windows, meterDays] = await Promise.all([this.windows(range), this.meterDays(range)]);
    return { windows, meterDays };
  }

  async meterDays(range: Range & { timeZone: string }): Promise<MeterDay[]> {
    const scope = {
      bucket: this.settings.bucket,
      factoryId: range.factoryId,
      from: range.from,
      to: range.to,
      timeZone: range.timeZone,
      meterIds: range.meterIds,
    };
    const [sums, paired] = await Promise.all([this.query(Flux.meterDays(scope)), this.query(Flux.meterDaysWithKvarh(scope))]);
    const rows = [...sums, ...paired];
    const byKey = new Map<string, MeterDay>();
    for (const row of rows) {
      const meterId = String(row[Flux.tags.meter]);
      const local = toLocal(Date.parse(String(row._time)), range.timeZone);
      const day = `${local.year}-${String(local.month).padStart(2, "0")}-${String(local.day).padStart(2, "0")}`;
      const key = `${meterId}@${day}`;
      let found = byKey.get(key);
      if (!found) {
        found = { meterId, day, kwh: 0, cost: "0", kvarh: null, kwhWithKvarh: 0 };
        byKey.set(key, found);
      }
      if (row._field === Flux.fields.kwh) found.kwh = Number(row._value);
      else if (row._field === Flux.fields.kvarh) found.kvarh = Number(row._value);
      else if (row._field === Flux.kwhWithKvarhField) found.kwhWithKvarh = Number(row._value);
      else if (row._field === Flux.fields.cost) found.cost = Number(row._value).toFixed(6);
    }
    return [...byKey.values()].sort((a, b) => a.day.localeCompare(b.day) || a.meterId.localeCompare(b.meterId));
  }
}
