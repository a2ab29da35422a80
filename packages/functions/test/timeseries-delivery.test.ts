import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Ingest } from "@wattflow/core/ingest";
import { readingTable } from "@wattflow/core/reading/reading.sql";
import { SeriesSink } from "@wattflow/core/sink";
import { InfluxSink } from "@wattflow/core/sink/influx";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { InfluxTimeSeries } from "@wattflow/core/timeseries/influx";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { handler } from "../src/ingest/consumer";
import { ids, type Pipeline, pipeline } from "./support";

const fixture = (name: string): KinesisStreamEvent => JSON.parse(readFileSync(new URL(`./events/kinesis/${name}`, import.meta.url), "utf8"));

/** An InfluxDB write endpoint: answers `status` and keeps every line it accepted. */
async function influxWrites() {
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (endpoint.status === 204) endpoint.lines.push(...body.split("\n"));
      response.writeHead(endpoint.status, { "content-type": "application/json" }).end(endpoint.status === 204 ? "" : '{"code":"invalid","message":"refused"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    status: 204,
    lines: [] as string[],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return endpoint;
}

describe.each(Testing.lanes())("the consumer writes costed readings to the time series after the lake (%s)", (lane) => {
  let p: Pipeline;
  let influx: Awaited<ReturnType<typeof influxWrites>>;
  beforeEach(async () => {
    p = await pipeline(lane);
    influx = await influxWrites();
    TimeSeries.provide(new InfluxTimeSeries({ url: influx.url, token: "t", org: "wattflow", bucket: "readings" }));
    SeriesSink.provide(new InfluxSink({ url: influx.url, token: "t", org: "wattflow", bucket: "readings", sleep: async () => {} }));
  });
  afterEach(async () => {
    TimeSeries.provide(undefined);
    SeriesSink.provide(undefined);
    await influx.close();
    await p.close();
  });

  it("writes one point per stored reading, tagged by factory and meter, with its cost", async () => {
    const response = await handler(fixture("mixed-batch.json"));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(influx.lines).toHaveLength(2);
    expect(influx.lines.map((line) => line.split(" ")[0]).sort()).toEqual([
      `reading,factory=${ids.factory},meter=${ids.meters[0]}`,
      `reading,factory=${ids.factory},meter=${ids.meters[1]}`,
    ]);
    // 12.5 kWh at the test factory's flat 2.1534: the cost as stored, digit for digit.
    expect(influx.lines.find((line) => line.includes(`meter=${ids.meters[0]} `))).toMatch(/ kwh=12\.5,.*,cost=26\.917500,computed_at=\d+i,/);
  });

  it("when InfluxDB refuses, no record fails; the stored readings stay undelivered and the sweeper re-sends them to both (the lake's views keep one copy)", async () => {
    influx.status = 400;
    // A failed record would be retried into quarantine as lost; stored readings are not lost.
    expect(await handler(fixture("mixed-batch.json"))).toEqual({ batchItemFailures: [] });
    expect((await p.database.db.select().from(readingTable)).every((row) => row.lakeDeliveredAt === null)).toBe(true);

    influx.status = 204;
    const swept = await Ingest.sweepUndelivered({ olderThanMs: 0, limit: 100 }, new Date(Date.now() + 1000));

    expect(swept).toBe(2);
    expect(influx.lines).toHaveLength(2);
    expect((await p.database.db.select().from(readingTable)).every((row) => row.lakeDeliveredAt !== null)).toBe(true);
    const [copies] = await p.lake.query("select count(*)::int as copies, count(distinct (meter_id, interval_start))::int as readings from readings");
    expect(copies).toEqual({ copies: 4, readings: 2 });
  });
});
