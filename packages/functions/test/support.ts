/** A real local pipeline for handler tests: a private database, the durable log and a Parquet lake in a temp folder. */
import { join } from "node:path";
import { Auth } from "@wattflow/core/auth";
import type { Database } from "@wattflow/core/database";
import { deviceTable } from "@wattflow/core/device/device.sql";
import { Gateway } from "@wattflow/core/device/gateway";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { Lake } from "@wattflow/core/lake";
import { LocalLake } from "@wattflow/core/lake/local";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { organizationTable } from "@wattflow/core/organization/organization.sql";
import { Stream } from "@wattflow/core/stream";
import { LocalStream } from "@wattflow/core/stream/local";
import { TariffStore } from "@wattflow/core/tariff/store";
import { tariffTable } from "@wattflow/core/tariff/tariff.sql";
import { Testing } from "@wattflow/core/testing";
import { TimeSeries } from "@wattflow/core/timeseries";
import { PostgresTimeSeries } from "@wattflow/core/timeseries/postgres";
import { hashToken } from "@wattflow/core/util/hash";
import { kinesisEvent } from "@wattflow/local/stream/event";
import { DurableLog } from "@wattflow/local/stream/log";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";

/** Fixed ids, so the JSON event fixtures can name them. */
export const ids = {
  organization: "org_01jtest0000000000000000000",
  otherOrganization: "org_01jtest0000000000000000001",
  factory: "fac_01jtest0000000000000000000",
  otherFactory: "fac_01jtest0000000000000000001",
  device: "dev_01jtest0000000000000000000",
  otherDevice: "dev_01jtest0000000000000000001",
  meters: ["mtr_01jtest0000000000000000000", "mtr_01jtest0000000000000000001", "mtr_01jtest0000000000000000002"],
  otherMeter: "mtr_01jtest0000000000000000009",
};
export const deviceToken = "wfd_test-device-token";
export const otherDeviceToken = "wfd_other-device-token";
/**
 * The test gateway's Ed25519 key pair (a test key, used nowhere else): the records in
 * events/kinesis/*.json are signed with it, as a gateway signs what it puts on Kinesis.
 */
export const devicePrivateKeyPem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFXwZ7QNyoNADkHy6NBMi2SWzG02lZ7XC00045O6aOGU\n-----END PRIVATE KEY-----\n";
export const devicePublicKey = "MCowBQYDK2VwAyEA4B7xSEHcP4rDLCPFWDRMyYog0Sbe94LrXNrfKJxmVaA=";
/** Flat price of the test factory, MXN per kWh. */
export const energyPrice = "2.1534";

export type Pipeline = { database: Database.Handle; log: DurableLog; lake: LocalLake; apiToken: string; otherApiToken: string; close(): Promise<void> };

/**
 * A pipeline for the tests of the enclosing `describe`: opened before them (before each one with `each: true`) and
 * closed after, so a test file does not repeat the same hooks. The object is filled in when the hook runs.
 * @example const p = usePipeline(lane); it("…", () => p.database.db.select()…)
 */
export function usePipeline(lane: Testing.Lane = "pglite", options: { each?: boolean } = {}): Pipeline {
  const current = {} as Pipeline;
  (options.each ? beforeEach : beforeAll)(async () => {
    Object.assign(current, await pipeline(lane));
  });
  (options.each ? afterEach : afterAll)(async () => {
    await current.close();
  });
  return current;
}

export async function pipeline(lane: Testing.Lane = "pglite"): Promise<Pipeline> {
  const dir = Testing.temporaryDir();
  // Each test file opens its own database: forget keys cached from another one.
  Gateway.resetCache();
  const database = await Testing.database(lane);
  const db = database.db;
  await db.insert(organizationTable).values([
    { id: ids.organization, name: "Test Org" },
    { id: ids.otherOrganization, name: "Other Org" },
  ]);
  await db.insert(factoryTable).values([
    { id: ids.factory, organizationId: ids.organization, name: "Plant A", timeZone: "America/Mexico_City", tariffCode: "flat" },
    { id: ids.otherFactory, organizationId: ids.otherOrganization, name: "Plant B", timeZone: "America/Tijuana", tariffCode: "flat" },
  ]);
  await db.insert(deviceTable).values([
    { id: ids.device, organizationId: ids.organization, factoryId: ids.factory, name: "gw", tokenHash: hashToken(deviceToken), publicKey: devicePublicKey },
    { id: ids.otherDevice, organizationId: ids.otherOrganization, factoryId: ids.otherFactory, name: "gw2", tokenHash: hashToken(otherDeviceToken) },
  ]);
  await db.insert(meterTable).values([
    ...ids.meters.map((id, index) => ({
      id,
      organizationId: ids.organization,
      factoryId: ids.factory,
      deviceId: ids.device,
      name: `m${index}`,
      line: `L${index}`,
    })),
    { id: ids.otherMeter, organizationId: ids.otherOrganization, factoryId: ids.otherFactory, deviceId: ids.otherDevice, name: "x", line: "X" },
  ]);
  for (const factoryId of [ids.factory, ids.otherFactory]) {
    await TariffStore.addVersion({ factoryId, effectiveFrom: new Date("2020-01-01T00:00:00Z"), definition: { kind: "flat", currency: "MXN", energyPrice } });
  }
  const apiToken = (await Auth.createToken({ organizationId: ids.organization, name: "t", role: "admin" })).token;
  const otherApiToken = (await Auth.createToken({ organizationId: ids.otherOrganization, name: "t", role: "admin" })).token;
  const log = await DurableLog.open({ dir: join(dir.path, "stream"), name: "readings", shardCount: 2, segmentBytes: 1 << 20 });
  const lake = new LocalLake(join(dir.path, "lake"));
  Stream.provide(new LocalStream(log));
  Lake.provide(lake);
  // What the Lambda runtime wires on a stage without InfluxDB, for tests that call core directly (a test may provide its own).
  const ownSeries = !TimeSeries.provided();
  if (ownSeries) TimeSeries.provide(new PostgresTimeSeries());
  return {
    database,
    log,
    lake,
    apiToken,
    otherApiToken,
    async close() {
      Stream.provide(undefined);
      Lake.provide(undefined);
      if (ownSeries) TimeSeries.provide(undefined);
      await log.close().catch(() => undefined);
      await lake.close();
      await database.close();
      dir.remove();
    },
  };
}

/** Everything on the stream, as the Kinesis event the consumer would get. */
export async function drainToEvent(log: DurableLog): Promise<KinesisStreamEvent> {
  const records = [];
  for (const shardId of log.shardIds) records.push(...(await log.read(shardId, log.trimHorizon(shardId), 10_000)).records);
  return kinesisEvent(records, { streamName: log.name });
}

export function reading(meterIndex: number, start: string, kwh: number) {
  return { meterId: ids.meters[meterIndex] as string, start, seconds: 300, kwh };
}

/**
 * Seeds, in organization A, a GDMTH factory `name` on Mexico City's clock (no municipality, so no DAP) with its gateway
 * `deviceId` (a token hash nobody signs with) and the tariff version `tariffId`: CFE's Noroeste prices of March 2026
 * (`Testing.gdmthNoroesteMarch2026`) in force from 1 January 2026, 00:00 local (06:00Z). Meters are the test's own.
 */
export async function seedGdmthFactory(db: Database.Db, plant: { factoryId: string; deviceId: string; tariffId: string; name: string }): Promise<void> {
  const { factoryId, deviceId } = plant;
  await db
    .insert(factoryTable)
    .values({ id: factoryId, organizationId: ids.organization, name: plant.name, timeZone: "America/Mexico_City", tariffCode: "cfe-gdmth" });
  await db.insert(deviceTable).values({ id: deviceId, organizationId: ids.organization, factoryId, name: "gw", tokenHash: "unused" });
  await db.insert(tariffTable).values({
    id: plant.tariffId,
    factoryId,
    effectiveFrom: new Date("2026-01-01T06:00:00Z"),
    definition: { kind: "cfe-gdmth", zone: "central", prices: [Testing.gdmthNoroesteMarch2026] },
  });
}
