/**
 * The time-series port on InfluxDB 2: costed readings written as line protocol (tags factory and
 * meter; the TOU period, price, cost and computedAt as fields, so a recomputed reading replaces its
 * point rather than adding a series), in batches, retried on throttling and server errors; reads are
 * Flux from the query library, answered as annotated CSV.
 */
import { InfluxDB } from "@influxdata/influxdb-client";
import { Flux } from "../flux";
import type { Lake } from "../lake";
import { toLocal } from "../time";
import { type MeterDay, type Port, type Range, TimeSeriesError, type Window } from "./index";

/** InfluxDB's guidance for write batches: 5,000 lines. */
const batchLines = 5000;
/** Attempts per batch: throttling (429) and 5xx are retried with backoff, honouring Retry-After. */
const maxAttempts = 5;
const baseDelayMs = 200;
const maxDelayMs = 10_000;

export type Settings = { url: string; token: string; org: string; bucket: string; fetch?: typeof fetch; sleep?: (ms: number) => Promise<void> };

/** Escapes a measurement name: commas and spaces. */
export function escapeMeasurement(value: string): string {
  return noNewline(value).replace(/[\\,\s]/g, (match) => `\\${match}`);
}

/** Escapes a tag key, tag value or field key: commas, equals signs and spaces. */
export function escapeKey(value: string): string {
  if (value.length === 0) throw new TimeSeriesError("a tag or field key/value may not be empty in line protocol");
  if (value.endsWith("\\")) throw new TimeSeriesError("a tag or field key/value may not end with a backslash in line protocol");
  return noNewline(value).replace(/[,= ]/g, (match) => `\\${match}`);
}

/** A string field value: quotes and backslashes escaped. */
export function escapeString(value: string): string {
  return `"${value.replace(/[\\"]/g, (match) => `\\${match}`)}"`;
}

function noNewline(value: string): string {
  if (/[\n\r]/.test(value)) throw new TimeSeriesError(`line protocol names may not contain line breaks: ${JSON.stringify(value)}`);
  return value;
}

function floatField(value: number): string {
  if (!Number.isFinite(value)) throw new TimeSeriesError(`${value} is not a finite number`);
  return String(value);
}

/** A decimal string written as a float field verbatim (no binary rounding on our side). */
function decimalField(value: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw new TimeSeriesError(`${JSON.stringify(value)} is not a decimal`);
  return value;
}

/**
 * One reading as a line-protocol line, timestamped (ms) at its interval start.
 * @example toLine(row) → 'reading,factory=fac_1,meter=mtr_1 kwh=1.5,…,period="punta",cost=2.589,computed_at=1772352000000i 1772352000000'
 */
export function toLine(row: Lake.Row): string {
  const fieldsOut: string[] = [`${Flux.fields.kwh}=${floatField(row.kwh)}`];
  const optionalFloat = (name: string, value: number | null) => {
    if (value !== null) fieldsOut.push(`${name}=${floatField(value)}`);
  };
  optionalFloat(Flux.fields.kvarh, row.kvarh);
  optionalFloat(Flux.fields.kwAvg, row.kwAvg);
  optionalFloat(Flux.fields.kwMax, row.kwMax);
  optionalFloat(Flux.fields.pf, row.pf);
  optionalFloat(Flux.fields.voltage, row.voltage);
  optionalFloat(Flux.fields.current, row.current);
  if (row.touPeriod !== null) fieldsOut.push(`${Flux.fields.period}=${escapeString(row.touPeriod)}`);
  if (row.unitPrice !== null) fieldsOut.push(`${Flux.fields.unitPrice}=${decimalField(row.unitPrice)}`);
  if (row.cost !== null) fieldsOut.push(`${Flux.fields.cost}=${decimalField(row.cost)}`);
  if (row.computedAt !== null) fieldsOut.push(`${Flux.fields.computedAt}=${row.computedAt.getTime()}i`);
  fieldsOut.push(
    `${Flux.fields.intervalSeconds}=${row.intervalSeconds}i`,
    `${Flux.fields.estimated}=${row.estimated}`,
    `${Flux.fields.gap}=${row.gap}`,
    `${Flux.fields.estimatedKwh}=${floatField(row.quality === "estimated" ? row.kwh : 0)}`,
    `${Flux.fields.device}=${escapeString(row.deviceId)}`,
  );
  const series = `${escapeMeasurement(Flux.measurement)},${Flux.tags.factory}=${escapeKey(row.factoryId)},${Flux.tags.meter}=${escapeKey(row.meterId)}`;
  return `${series} ${fieldsOut.join(",")} ${row.intervalStart.getTime()}`;
}

export class InfluxTimeSeries implements Port {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private client?: InfluxDB;

  constructor(private readonly settings: Settings) {
    this.fetch = settings.fetch ?? fetch;
    this.sleep = settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  describe() {
    return { kind: "influxdb" as const, location: `${this.settings.url} (org ${this.settings.org}, bucket ${this.settings.bucket})` };
  }

  async write(rows: readonly Lake.Row[]): Promise<void> {
    for (let index = 0; index < rows.length; index += batchLines)
      await this.writeBatch(
        rows
          .slice(index, index + batchLines)
          .map(toLine)
          .join("\n"),
      );
  }

  private async writeBatch(body: string): Promise<void> {
    const url = new URL("/api/v2/write", this.settings.url);
    url.search = new URLSearchParams({ org: this.settings.org, bucket: this.settings.bucket, precision: "ms" }).toString();
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(url.toString(), {
          method: "POST",
          headers: { authorization: `Token ${this.settings.token}`, "content-type": "text/plain; charset=utf-8" },
          body,
        });
      } catch (error) {
        if (attempt >= maxAttempts) throw new TimeSeriesError(`InfluxDB write failed after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
        await this.sleep(backoff(attempt));
        continue;
      }
      if (response.status === 204 || response.ok) return;
      const text = await response.text();
      const retriable = response.status === 429 || response.status >= 500;
      if (!retriable || attempt >= maxAttempts)
        throw new TimeSeriesError(`InfluxDB write answered ${response.status}${retriable ? ` after ${attempt} attempts` : ""}: ${text.slice(0, 300)}`);
      const retryAfter = Number(response.headers.get("retry-after"));
      await this.sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, maxDelayMs) : backoff(attempt));
    }
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

function backoff(attempt: number): number {
  return Math.min(baseDelayMs * 2 ** (attempt - 1), maxDelayMs);
}
