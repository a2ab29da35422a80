/**
 * CSV exports of readings (per meter, per 5-minute slot) and usage (per bucket), written with csv-stringify as
 * RFC 4180 (comma, CRLF, quotes where a field needs them), a header row, instants in ISO 8601 UTC beside the
 * factory's local time with its offset, decimal point '.', UTF-8, and a BOM only when asked (`bom`).
 * Readings are read in keyset pages and streamed: a year of 200 meters never sits in memory.
 */
import { stringify } from "csv-stringify/sync";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { exportLimits } from "../config";
import { Database } from "../database";
import { Factory } from "../factory";
import { Usage } from "../usage";
import { VisibleError } from "../util/error";
import { Instant } from "../util/instant";
import * as Format from "./format";

/**
 * `bom=1|true`: start the file with a UTF-8 byte order mark so Excel reads "Energía" and "Querétaro" as UTF-8.
 * Off by default: RFC 4180 has none, and programs (pandas, csv readers, `wattflow export … | head`) would read it
 * as part of the first column's name. The console's download link asks for it, since people open those in Excel.
 */
export const Bom = z
  .enum(["0", "1", "true", "false"], { error: "bom is 1, true, 0 or false" })
  .optional()
  .transform((value) => value === "1" || value === "true");

/** `?from&to[&meter][&bom]`: [from, to) instants (at most 400 days), one meter of the factory or all of them. */
export const ReadingsQuery = z
  .object({ from: Instant.schema("from"), to: Instant.schema("to"), bom: Bom, meter: z.string().min(1, "meter is a meter id").optional() })
  .superRefine(Instant.span(exportLimits.maxDays));
export type ReadingsQuery = z.infer<typeof ReadingsQuery>;

/** The usage route's query (`from`, `to`, `bucket`) and `bom`. */
export const UsageQuery = z.intersection(Usage.Query, z.object({ bom: Bom }));
export type UsageQuery = z.infer<typeof UsageQuery>;

/** A CSV file on its way: the bytes as a web stream (produced as they are read) and a file name for it. */
export type CsvFile = { stream: ReadableStream<Uint8Array>; fileName: string };

export const readingColumns = [
  "meter_id",
  "meter",
  "line",
  "start_utc",
  "start_local",
  "seconds",
  "quality",
  "kwh",
  "kvarh",
  "pf",
  "period",
  "unit_price",
  "cost",
  "price_estimated",
  "flags",
] as const;

export const usageColumns = ["start_utc", "start_local", "kwh", "measured_kwh", "estimated_kwh", "cost", "readings", "partial"] as const;

/** A float kWh (stored to the micro-kWh) in plain decimal notation, never exponent: 1e-7 → "0", 0.5 → "0.5". */
function decimal6(value: number | null): string {
  if (value === null) return "";
  const text = value.toFixed(6).replace(/\.?0+$/, "");
  return text === "-0" ? "0" : text;
}

const options = { record_delimiter: "windows", quoted_match: /[\r\n]/ } as const;

/**
 * Pages of rows (arrays of text) as a CSV byte stream: the header, then each page stringified whole (csv-stringify,
 * RFC 4180; a field with a line break is quoted too, where csv-stringify would quote only CRLF) and handed on as one
 * chunk. A page is read only when the reader wants more (pull), so at most a page or two is in memory; cancelling
 * the download stops the reading; a failure while reading ends the stream with that error.
 */
function csvStream(header: readonly string[], pages: AsyncGenerator<string[][]>, bom: boolean): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(stringify([[...header]], { ...options, bom })));
          return;
        }
        // Until something is enqueued or the end: a pull that enqueues nothing is not called again.
        for (;;) {
          const next = await pages.next();
          if (next.done) return controller.close();
          if (next.value.length > 0) return controller.enqueue(encoder.encode(stringify(next.value, options)));
        }
      },
      async cancel() {
        await pages.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}

async function ownFactory(organizationId: string, factoryId: string) {
  const factory = await Factory.get(organizationId, factoryId);
  if (!factory) throw new VisibleError("not_found", "factory.not_found", `factory ${factoryId} not found`);
  return factory;
}

/**
 * The factory of `meterId` when it is in `organizationId` (and, given `factoryId`, of that factory).
 * @throws VisibleError `meter.not_found` (404).
 */
export async function meterFactory(organizationId: string, meterId: string, factoryId?: string): Promise<string> {
  const result = await Database.use().execute(sql`select factory_id from meter where id = ${meterId} and organization_id = ${organizationId}`);
  const found = (result as unknown as { rows: { factory_id: string }[] }).rows[0]?.factory_id;
  if (!found || (factoryId !== undefined && found !== factoryId))
    throw new VisibleError("not_found", "meter.not_found", factoryId ? `meter ${meterId} of factory ${factoryId} not found` : `meter ${meterId} not found`);
  return found;
}

const day = (instant: string) => new Date(Date.parse(instant)).toISOString().slice(0, 10);

/**
 * The stored readings of a factory (or one of its meters) over [from, to) as CSV, ordered by meter then slot:
 * `readingColumns` — meter id, name and line; slot start in UTC (ISO 8601, `Z`) and on the factory's clock with its
 * offset; seconds (300); quality (`measured` | `estimated`); kWh, kVArh, PF; the TOU period; unit price (MXN/kWh)
 * and cost (MXN) exact as stored; `price_estimated` (true when priced with unpublished prices); flags (`;`-separated).
 * Ownership is checked before the first byte, so a 404 is an ordinary JSON problem.
 * @throws VisibleError `factory.not_found`, `meter.not_found` (404).
 */
export async function readingsCsv(organizationId: string, factoryId: string, query: ReadingsQuery): Promise<CsvFile> {
  const factory = await ownFactory(organizationId, factoryId);
  if (query.meter !== undefined) await meterFactory(organizationId, query.meter, factory.id);
  const offsets = new Map<number, number>();
  const from = new Date(Date.parse(query.from)).toISOString();
  const to = new Date(Date.parse(query.to)).toISOString();
  // Meter by meter, each read along its primary key (meter, slot) in keyset pages: every page is an index range
  // scan of its own size, however many meters and months the factory holds (one query over the factory, ordered by
  // meter then slot, sorts the whole range again for every page). The meters are the factory's (checked above), so
  // the readings are filtered by meter alone: a factory_id term lets the planner pick the (factory, start) index and
  // scan every meter's rows for each one.
  const meterRows: unknown = await Database.use().execute(
    sql`select id, name, line from meter where factory_id = ${factory.id} ${query.meter === undefined ? sql`` : sql`and id = ${query.meter}`} order by id`,
  );
  const meters = (meterRows as { rows: { id: string; name: string; line: string }[] }).rows;
  async function* pages(): AsyncGenerator<string[][]> {
    for (const meter of meters) {
      let after: string | null = null;
      for (;;) {
        const page: unknown = await Database.use().execute(sql`
          select (extract(epoch from interval_start) * 1000)::float8 as start_ms, interval_seconds, quality, kwh, kvarh, pf, tou_period,
                 unit_price::text as unit_price, cost::text as cost, estimated, array_to_string(flags, ';') as flags
          from reading
          where meter_id = ${meter.id}
            and interval_start ${after === null ? sql`>= ${from}::timestamptz` : sql`> ${after}::timestamptz`} and interval_start < ${to}::timestamptz
          order by interval_start
          limit ${exportLimits.pageRows}`);
        const found = (page as { rows: ReadingRow[] }).rows;
        yield found.map((row) => {
          const ms = Number(row.start_ms);
          return [
            meter.id,
            meter.name,
            meter.line,
            new Date(ms).toISOString(),
            Format.localIso(ms, factory.timeZone, offsets),
            String(row.interval_seconds),
            row.quality,
            decimal6(row.kwh),
            decimal6(row.kvarh),
            row.pf === null ? "" : String(row.pf),
            row.tou_period ?? "",
            row.unit_price ?? "",
            row.cost ?? "",
            String(row.estimated),
            row.flags ?? "",
          ];
        });
        const last: ReadingRow | undefined = found[found.length - 1];
        if (!last || found.length < exportLimits.pageRows) break;
        after = new Date(Number(last.start_ms)).toISOString();
      }
    }
  }
  const who = query.meter ?? factory.id;
  return { stream: csvStream(readingColumns, pages(), query.bom), fileName: `readings-${who}-${day(query.from)}-${day(query.to)}.csv` };
}

type ReadingRow = {
  start_ms: number | string;
  interval_seconds: number;
  quality: string;
  kwh: number;
  kvarh: number | null;
  pf: number | null;
  tou_period: string | null;
  unit_price: string | null;
  cost: string | null;
  estimated: boolean;
  flags: string | null;
};

/**
 * A factory's usage (`Usage.factory`: buckets of 5m, 1h or 1d on the factory's clock) as CSV, one row per bucket:
 * `usageColumns` — bucket start in UTC and local time, kWh, measured kWh, estimated kWh, cost (MXN; empty when not priced), readings
 * (slots), and `partial` (`true` when the range starts or ends inside the bucket, so it holds only that part; else `false`).
 * @throws VisibleError `factory.not_found` (404).
 */
export async function usageCsv(organizationId: string, factoryId: string, query: UsageQuery): Promise<CsvFile> {
  const { bom, ...usageQuery } = query;
  const usage = await Usage.factory(organizationId, factoryId, usageQuery);
  const offsets = new Map<number, number>();
  async function* pages(): AsyncGenerator<string[][]> {
    for (let first = 0; first < usage.buckets.length; first += exportLimits.pageRows)
      yield usage.buckets.slice(first, first + exportLimits.pageRows).map((bucket) => {
        const ms = Date.parse(bucket.start);
        return [
          bucket.start,
          Format.localIso(ms, usage.timeZone, offsets),
          decimal6(bucket.kwh),
          decimal6(bucket.kwh - bucket.estimatedKwh),
          decimal6(bucket.estimatedKwh),
          bucket.cost === null ? "" : decimal6(bucket.cost),
          String(bucket.readings),
          String(bucket.partial),
        ];
      });
  }
  return { stream: csvStream(usageColumns, pages(), bom), fileName: `usage-${factoryId}-${query.bucket}-${day(query.from)}-${day(query.to)}.csv` };
}
