/**
 * The demo organization of the local stack: a factory with a tariff in force for the past two
 * years, a gateway and six meters. Their readings come from the real edge agent with simulated
 * meters (demo-gateway.ts).
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Auth } from "@wattflow/core/auth";
import { BillingPeriod } from "@wattflow/core/billing";
import { Database } from "@wattflow/core/database";
import { Device } from "@wattflow/core/device";
import { Factory } from "@wattflow/core/factory";
import { Meter } from "@wattflow/core/meter";
import { Organization } from "@wattflow/core/organization";
import { Published } from "@wattflow/core/prices/published";
import type { Tariff } from "@wattflow/core/tariff";
import { TariffStore } from "@wattflow/core/tariff/store";
import { User } from "@wattflow/core/user";
import { VisibleError } from "@wattflow/core/util/error";
import { readJsonState, writeFileAtomic } from "@wattflow/core/util/files";
import { sql } from "drizzle-orm";
import { demoContractedDemandKw, demoLines, demoRatedKw } from "./demo-year";

export type DemoInfo = {
  apiUrl: string;
  organizationId: string;
  factoryId: string;
  deviceId: string;
  deviceToken: string;
  meterIds: string[];
  lines: string[];
  /** Reads the demo organization and changes nothing (role viewer). */
  apiToken: string;
  /** Changes the demo organization's setup and alert rules, replays its quarantine (role admin). */
  adminToken: string;
  /** Imports files and starts runs; sees the organization's quarantine (role operator). */
  operatorToken: string;
  /** The local stack's platform admin: also sees and replays quarantined records no organization claims. */
  platformToken: string;
  /** The console's demo sign-in (admin of the demo organization). */
  user: { email: string; password: string };
  /** A factory of a second organization, which the demo user and tokens must never see. */
  otherFactoryId: string;
  kinesis: { endpoint: string; stream: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
};

const lines: string[] = [...demoLines];
const ratedKw: readonly number[] = demoRatedKw;

/**
 * The simulated meter (packages/edge simulator.ts) behind each demo meter, in `meterIds` order: seed, rated
 * load (kW) and the factory's clock (Monterrey: UTC−6 all year since 2022), so shifts fall on local hours.
 */
export function demoSimulators(info: Pick<DemoInfo, "meterIds">): { meterId: string; seed: number; ratedKw: number; utcOffsetHours: number }[] {
  return info.meterIds.map((meterId, index) => ({ meterId, seed: index + 1, ratedKw: ratedKw[index] ?? 100, utcOffsetHours: -6 }));
}

/** Days of history a stack started from code (tests, benchmarks) loads unless told: recent enough to leave older intervals to tests. */
export const demoHistoryDays = 3;

/** The demo factory's zone: time-of-use periods are its local hours. */
export const demoTimeZone = "America/Monterrey";

/**
 * The demo tariff is in force from 1 January two years back, so tests and imports have a past to use: from that
 * day's midnight in the factory's zone (06:00 UTC in Monterrey), as a tariff comes into force on a local date, not
 * at UTC midnight (the evening before there).
 * @example demoTariffStart(new Date("2026-11-30T12:00:00Z")) // 2024-01-01T06:00:00.000Z
 */
export function demoTariffStart(now: Date): Date {
  return BillingPeriod.startOf(`${now.getUTCFullYear() - 2}-01-01`, demoTimeZone);
}

/** The demo factory's CFE division: Monterrey's, from CFE's catalogue (core/src/location). */
export const demoDivision = "golfo norte";

/**
 * CFE GDMTH, central schedule zone, with a price table for every month from the start up to last
 * month: CFE's published prices for the demo's division where the product ships them
 * (prices/data/published.json), and elsewhere the example prices of the reference (division Noroeste,
 * March 2026) standing in — demo figures, not CFE's. The current month has none yet, as when CFE publishes
 * late: its readings are priced with the latest prices and flagged `estimated` until a price import.
 */
export function demoTariff(now: Date): Tariff.Definition {
  const prices: Extract<Tariff.Definition, { kind: "cfe-gdmth" }>["prices"] = [];
  const published = new Map(Published.of("cfe-gdmth", demoDivision).map((row) => [row.month, row]));
  const start = demoTariffStart(now);
  for (let month = new Date(start); month < new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)); month.setUTCMonth(month.getUTCMonth() + 1)) {
    const key = month.toISOString().slice(0, 7);
    const row = published.get(key);
    prices.push(
      row?.energyBase && row.energyIntermedia && row.energyPunta
        ? {
            month: key,
            fixed: row.fixed,
            energy: { base: row.energyBase, intermedia: row.energyIntermedia, punta: row.energyPunta },
            distribution: row.distribution,
            capacity: row.capacity,
          }
        : {
            month: key,
            fixed: "197.77",
            energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" },
            distribution: "90.85",
            capacity: "392.66",
          },
    );
  }
  return { kind: "cfe-gdmth", zone: "central", prices };
}

/** demo.json holds a password and tokens: only its owner may read it. */
const secretMode = 0o600;

/** Creates the demo organization once; on later starts reads it back from demo.json (an unreadable one is set aside and the demo made again). */
export async function seedDemo(dataDir: string, endpoints: { apiUrl: string; kinesis: DemoInfo["kinesis"] }): Promise<DemoInfo> {
  const path = join(dataDir, "demo.json");
  const previous = readJsonState<DemoInfo>(path);
  if (previous) {
    const result = await Database.use().execute(sql`select 1 from organization where id = ${previous.organizationId}`);
    if ((result as unknown as { rows: unknown[] }).rows.length > 0) {
      // Data folders made before the console existed get its user and second organization now.
      const consoleDemo = previous.user && previous.otherFactoryId ? {} : await seedConsoleDemo(previous.organizationId);
      const info = { ...previous, ...consoleDemo, ...(await seedReadOnlyToken(previous)), apiUrl: endpoints.apiUrl, kinesis: endpoints.kinesis };
      await writeFileAtomic(path, JSON.stringify(info, null, 2), { mode: secretMode });
      return info;
    }
  }
  const organization = await Organization.create({ name: "Demo Manufacturing", demo: true });
  const factory = await Factory.create({
    organizationId: organization.id,
    name: "Planta Monterrey",
    timeZone: demoTimeZone,
    tariffCode: "cfe-gdmth",
    tariffZone: "central",
    // Monterrey brings its CFE division (Golfo Norte) and the DAP rule from the location catalogue.
    state: "Nuevo León",
    municipality: "Monterrey",
    contractedDemandKw: demoContractedDemandKw,
    // A made-up service number, so the demo's bill PDFs show where the RPU goes.
    rpu: "000000000001",
  });
  const now = new Date();
  await TariffStore.addVersion({ factoryId: factory.id, effectiveFrom: demoTariffStart(now), definition: demoTariff(now) });
  const device = await Device.create({ organizationId: organization.id, factoryId: factory.id, name: "Gateway 1" });
  const meterIds: string[] = [];
  for (const line of lines) {
    const meter = await Meter.create({ organizationId: organization.id, factoryId: factory.id, deviceId: device.id, name: `${line} main`, line });
    meterIds.push(meter.id);
  }
  const viewer = await Auth.createToken({ organizationId: organization.id, name: "demo reader", role: "viewer" });
  const admin = await Auth.createToken({ organizationId: organization.id, name: "demo admin", role: "admin" });
  const operator = await Auth.createToken({ organizationId: organization.id, name: "demo operator", role: "operator" });
  const platform = await Auth.createToken({ organizationId: organization.id, name: "local platform admin", role: "admin", platform: true });
  const info: DemoInfo = {
    apiUrl: endpoints.apiUrl,
    organizationId: organization.id,
    factoryId: factory.id,
    deviceId: device.id,
    deviceToken: device.token,
    meterIds,
    lines,
    apiToken: viewer.token,
    adminToken: admin.token,
    operatorToken: operator.token,
    platformToken: platform.token,
    ...(await seedConsoleDemo(organization.id)),
    kinesis: endpoints.kinesis,
  };
  await writeFileAtomic(path, JSON.stringify(info, null, 2), { mode: secretMode });
  return info;
}

/**
 * Data folders made when the demo `apiToken` was an admin token: it becomes `adminToken`, and
 * `apiToken` a new read-only one, as the README describes it.
 */
async function seedReadOnlyToken(previous: DemoInfo): Promise<Partial<DemoInfo>> {
  const organizationId = previous.organizationId;
  const added: Partial<DemoInfo> = {};
  if (!previous.adminToken) {
    added.adminToken = previous.apiToken;
    added.apiToken = (await Auth.createToken({ organizationId, name: "demo reader", role: "viewer" })).token;
  }
  if (!previous.platformToken)
    added.platformToken = (await Auth.createToken({ organizationId, name: "local platform admin", role: "admin", platform: true })).token;
  return added;
}

/** The demo organization's console user (a fresh random password per data folder) and a second organization with one factory. */
async function seedConsoleDemo(organizationId: string): Promise<Pick<DemoInfo, "user" | "otherFactoryId">> {
  const password = randomBytes(12).toString("base64url");
  let user = { email: "energy.manager@demo.wattflow.dev", password };
  try {
    await User.create({ organizationId, email: user.email, name: "Demo energy manager", role: "admin", password });
  } catch (error) {
    // The demo made again on a database that has it (its demo.json was unreadable): the new demo user gets its own address.
    if (!(error instanceof VisibleError && error.code === "user.email_taken")) throw error;
    user = { email: `energy.manager+${randomBytes(3).toString("hex")}@demo.wattflow.dev`, password };
    await User.create({ organizationId, email: user.email, name: "Demo energy manager", role: "admin", password });
  }
  const other = await Organization.create({ name: "Other Industries" });
  const otherFactory = await Factory.create({
    organizationId: other.id,
    name: "Planta Tijuana",
    timeZone: "America/Tijuana",
    tariffCode: "cfe-gdmth",
    tariffZone: "baja-california",
    tariffDivision: "baja-california",
    contractedDemandKw: 800,
  });
  return { user, otherFactoryId: otherFactory.id };
}
