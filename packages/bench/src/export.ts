/**
 * `npm run bench:export [-- METERS DAYS]`: a factory of METERS meters (200 by default) with DAYS days of 5-minute
 * readings (7 by default) on PGlite in memory, exported through the API (`GET …/exports/readings.csv`). The same
 * answer is read twice: streamed (each chunk counted and dropped, as a download to a file is) and, as the
 * yardstick, into one string (what an export built in memory would hold). Prints rows/s, MB/s and the peak memory
 * above the starting point of each, and what a year would be at the same bytes per row.
 */
import "../../../scripts/with-resolvers";
import { Auth } from "@wattflow/core/auth";
import { Device } from "@wattflow/core/device";
import { Factory } from "@wattflow/core/factory";
import { Meter } from "@wattflow/core/meter";
import { Organization } from "@wattflow/core/organization";
import { TariffStore } from "@wattflow/core/tariff/store";
import { Testing } from "@wattflow/core/testing";
import { app } from "@wattflow/functions/api/app";
import { sql } from "drizzle-orm";

const meterCount = Number(process.argv[2] ?? 200);
const days = Number(process.argv[3] ?? 7);
const from = "2026-03-01T06:00:00Z";
const to = new Date(Date.parse(from) + days * 86_400_000).toISOString();

/**
 * Peak RSS and live heap above the values when it started, sampled every 100 ms while `work` runs; with
 * `--expose-gc` (npm run bench:export sets it) each sample collects garbage first, so the heap is what is held.
 */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number; rssMb: number; heapMb: number }> {
  globalThis.gc?.();
  const start = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  const sample = () => {
    globalThis.gc?.();
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - start.rss);
    heap = Math.max(heap, now.heapUsed - start.heapUsed);
  };
  const timer = setInterval(sample, 100);
  const began = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const seconds = (performance.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  sample();
  clearInterval(timer);
  return { value, seconds, cpuSeconds: (used.user + used.system) / 1e6, rssMb: rss / 2 ** 20, heapMb: heap / 2 ** 20 };
}

const database = await Testing.database();
const organization = await Organization.create({ name: "Bench" });
const factory = await Factory.create({ organizationId: organization.id, name: "Bench plant", timeZone: "America/Mexico_City", tariffCode: "flat" });
await TariffStore.addVersion({
  factoryId: factory.id,
  effectiveFrom: new Date("2020-01-01T00:00:00Z"),
  definition: { kind: "flat", currency: "MXN", energyPrice: "2.1534" },
});
const device = await Device.create({ organizationId: organization.id, factoryId: factory.id, name: "gw" });
for (let index = 0; index < meterCount; index++)
  await Meter.create({ organizationId: organization.id, factoryId: factory.id, deviceId: device.id, name: `M${index}`, line: `L${index % 20}` });
const loading = performance.now();
// One statement per day keeps each insert's memory small.
for (let day = 0; day < days; day++) {
  const dayFrom = new Date(Date.parse(from) + day * 86_400_000).toISOString();
  const dayTo = new Date(Date.parse(from) + (day + 1) * 86_400_000 - 300_000).toISOString();
  await database.db.execute(sql`
    insert into reading (meter_id, interval_start, interval_seconds, factory_id, device_id, kwh, kvarh, pf, tou_period, unit_price, cost, source, received_at)
    select m.id, slot, 300, ${factory.id}, ${device.id}, 0.25 + (extract(minute from slot) / 600), 0.1, 0.93, 'energy', 2.1534,
           round(((0.25 + extract(minute from slot) / 600) * 2.1534)::numeric, 6), 'http', now()
    from meter m, generate_series(${dayFrom}::timestamptz, ${dayTo}::timestamptz, interval '5 minutes') as slot
    where m.factory_id = ${factory.id}`);
}
const rows = meterCount * days * 288;
console.log(`loaded ${rows.toLocaleString("en-US")} readings (${meterCount} meters × ${days} days) in ${((performance.now() - loading) / 1000).toFixed(1)} s`);
const token = (await Auth.createToken({ organizationId: organization.id, name: "bench", role: "viewer" })).token;
const request = () => app.request(`/v1/factories/${factory.id}/exports/readings.csv?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } });

const streamed = await measured(async () => {
  const response = await request();
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  return bytes;
});
// The text is returned, so it is still held when the last sample is taken.
const whole = await measured(async () => (await request()).text());

const mb = streamed.value / 2 ** 20;
const report = (name: string, run: { seconds: number; cpuSeconds: number; rssMb: number; heapMb: number }) =>
  console.log(
    `${name.padEnd(22)} ${run.seconds.toFixed(1).padStart(6)} s (CPU ${run.cpuSeconds.toFixed(1)} s)  ${Math.round(rows / run.seconds)
      .toLocaleString("en-US")
      .padStart(9)} rows/s  ${(mb / run.seconds).toFixed(1).padStart(6)} MB/s  peak +${run.rssMb.toFixed(0)} MB RSS, +${run.heapMb.toFixed(0)} MB heap`,
  );
console.log(`CSV: ${mb.toFixed(1)} MB, ${(streamed.value / rows).toFixed(0)} bytes a row`);
report("streamed", streamed);
report("one string (yardstick)", whole);
console.log(
  `peak heap streamed ÷ one string: ${(streamed.heapMb / whole.heapMb).toFixed(2)}; a year of ${meterCount} meters (${(meterCount * 365 * 288).toLocaleString("en-US")} rows) would be ${(((streamed.value / rows) * meterCount * 365 * 288) / 2 ** 30).toFixed(1)} GB of CSV, ~${((meterCount * 365 * 288) / (rows / streamed.seconds) / 60).toFixed(0)} min at this rate`,
);
await database.close();
