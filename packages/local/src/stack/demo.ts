/**
 * The demo organization of the local stack: a plant in Hermosillo (division Noroeste) with CFE's published
 * GDMTH prices, a gateway, six meters, a year of generated history (demo-year.ts) loaded in the background
 * through the bulk path, with its production, monthly closes and one utility bill, and the real edge agent
 * as its live gateway (simulated meters, SQLite outbox under the data folder, Kinesis route).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Auth } from "@wattflow/core/auth";
import { Close } from "@wattflow/core/close";
import { intervalSeconds } from "@wattflow/core/config";
import { Database } from "@wattflow/core/database";
import { Device } from "@wattflow/core/device";
import { Factory } from "@wattflow/core/factory";
import { Import } from "@wattflow/core/import";
import { Ingest } from "@wattflow/core/ingest";
import { Location } from "@wattflow/core/location";
import { Meter } from "@wattflow/core/meter";
import { Organization } from "@wattflow/core/organization";
import { Prices } from "@wattflow/core/prices";
import { Published } from "@wattflow/core/prices/published";
import type { Tariff } from "@wattflow/core/tariff";
import { offsetAt, toLocal } from "@wattflow/core/tariff/periods";
import { TariffStore } from "@wattflow/core/tariff/store";
import { User } from "@wattflow/core/user";
import { VisibleError } from "@wattflow/core/util/error";
import { readJsonState, writeFileAtomic } from "@wattflow/core/util/files";
import { Workflow } from "@wattflow/core/workflow";
import { run as runAgent } from "@wattflow/edge/agent";
import { Config as EdgeConfig } from "@wattflow/edge/config";
import Decimal from "decimal.js";
import { sql } from "drizzle-orm";
import { contractedDemandKw, demoLines, type Events, type Plan, ProductionTally, planFor, type Slot, slots } from "./demo-year";

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
  /** The demo year's history: its range and the months and instants worth looking at (absent in folders made before it). */
  year?: { from: string; to: string; contractedDemandKw: number; events: Events };
  /** The live gateway's data folder (its outbox): `wattflow edge status --data <edge>`. */
  edgeDataDir?: string;
};

const lines = demoLines.map((line) => line.line);

/** Where the demo plant is: its municipality decides its CFE division (Noroeste), schedule zone and clock. */
export const demoPlace = { state: "Sonora", municipality: "Hermosillo" } as const;

/** The demo factory's zone (Hermosillo keeps UTC−7 all year): time-of-use periods are its local hours. */
export const demoTimeZone = "America/Hermosillo";

/** The demo tariff is in force from 1 January two years back, so tests and imports have a past to use. */
export function demoTariffStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear() - 2, 0, 1));
}

/**
 * CFE GDMTH for the demo plant: the schedule zone of Hermosillo with the prices CFE published for division
 * Noroeste (Published.rows, each with its source): January–September 2026 but March. A month without a
 * published table (March 2026, every month before January 2026 or after September 2026) is priced with the
 * latest table before it, or the earliest one, and flagged `estimated`, as for any factory (tariff/plan.ts).
 */
export function demoTariff(_now: Date): Extract<Tariff.Definition, { kind: "cfe-gdmth" }> {
  const noroeste = Published.rows.filter((row) => row.tariff === "cfe-gdmth" && row.division === "noroeste");
  const zone = Location.resolve(demoPlace).zone;
  return Prices.merge({ kind: "cfe-gdmth", zone, prices: [] } as unknown as Tariff.Definition, noroeste) as Extract<Tariff.Definition, { kind: "cfe-gdmth" }>;
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
    name: "Planta Hermosillo",
    timeZone: demoTimeZone,
    tariffCode: "cfe-gdmth",
    ...demoPlace,
    supplyVoltage: "medium",
    contractedDemandKw,
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
    year: yearOf(meterIds, now),
    edgeDataDir: join(dataDir, "edge"),
  };
  await planDemoYear(dataDir, now);
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

function yearOf(meterIds: readonly string[], now: Date): NonNullable<DemoInfo["year"]> {
  const meters = meterIds.map((meterId, index) => ({ meterId, line: lines[index] as string }));
  const plan = planFor(now, demoTimeZone, meters, demoTariff(now));
  return { from: new Date(plan.from).toISOString(), to: new Date(plan.to).toISOString(), contractedDemandKw, events: plan.events };
}

/** Progress of the demo year's background load (`demo-year.json`): a restart resumes it and never loads twice. */
type YearState = {
  /** The end of the history (epoch ms): fixed when the demo is made, so a restart regenerates the same readings. */
  to: number;
  /** Readings are stored up to here (epoch ms). */
  loadedTo: number;
  production: boolean;
  closed: string[];
  utilityBill: boolean;
  done: boolean;
};

const yearStatePath = (dataDir: string) => join(dataDir, "demo-year.json");

/** Slots per bulk batch: a day of 6 meters (1,728 readings) is one insert of ~0.1–0.3 s on PGlite, short enough for /health to keep answering. */
const slotsPerBatch = 288;

/**
 * Marks a freshly made demo for its year of history, ending at `now`. Data folders made before the
 * demo year have no state file and get no history (delete the folder to start over with it).
 */
export async function planDemoYear(dataDir: string, now: Date): Promise<void> {
  const state: YearState = { to: now.getTime(), loadedTo: 0, production: false, closed: [], utilityBill: false, done: false };
  await writeFileAtomic(yearStatePath(dataDir), JSON.stringify(state));
}

export type YearLoad = {
  /** Resolves when the year is stored, closed and reconciled (or the load stopped or failed: see log). */
  finished: Promise<void>;
  stop(): Promise<void>;
};

/**
 * Loads the demo year in the background, after /health answers: the generated readings through
 * `Ingest.storeBulk` (the consumer's grid store and lake delivery) a day at a time, yielding to the event
 * loop between days so the API keeps answering; then the production file and the utility bill through
 * the real import workflow, and the real monthly close for every past month. Progress is kept in
 * demo-year.json after each step, so a restart resumes and never stores or closes twice.
 */
export function loadDemoYear(info: DemoInfo, dataDir: string, log: (line: string) => void): YearLoad {
  let stopped = false;
  const path = yearStatePath(dataDir);
  const run = async () => {
    const state = readJsonState<YearState>(path);
    if (!state || state.done) return;
    const save = () => writeFileAtomic(path, JSON.stringify(state));
    const meters = info.meterIds.map((meterId, index) => ({ meterId, line: lines[index] as string }));
    const plan = planFor(new Date(state.to), demoTimeZone, meters, demoTariff(new Date(state.to)));
    const began = Date.now();
    if (state.loadedTo < plan.to) {
      log(`demo year: loading ${new Date(Math.max(plan.from, state.loadedTo)).toISOString()} → ${new Date(plan.to).toISOString()} in the background`);
      let stored = 0;
      for (const chunk of slots(plan, slotsPerBatch)) {
        if (stopped) return;
        const end = (chunk[chunk.length - 1] as Slot).start.getTime() + intervalSeconds * 1000;
        if (end <= state.loadedTo) continue;
        const result = await Ingest.storeBulk(
          info.deviceId,
          chunk.flatMap((slot) => slot.readings),
        );
        stored += result.stored;
        state.loadedTo = end;
        await save();
        // Let requests in between batches: PGlite runs on this thread.
        await new Promise((resolve) => setImmediate(resolve));
      }
      log(`demo year: ${stored} readings stored in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
    if (!state.production) {
      const tally = new ProductionTally(plan);
      for (const chunk of slots(plan, slotsPerBatch * 7)) {
        if (stopped) return;
        tally.add(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const csv = ["date,line,units", ...tally.rows().map((row) => `${row.date},${row.line},${row.units}`)].join("\n");
      await importAndWait(info, "production", "demo-production.csv", csv);
      state.production = true;
      await save();
    }
    const months = closedMonths(plan);
    for (const month of months) {
      if (stopped) return;
      if (state.closed.includes(month)) continue;
      await runAndWait("MonthlyClose", { month, factoryIds: [info.factoryId] }, `demo-close-${month}-${info.factoryId.slice(4, 16)}`);
      state.closed.push(month);
      await save();
    }
    if (!state.utilityBill) {
      // The utility's bill for the third-last closed month, as CFE would send it: its meter reads a little more than ours.
      const month = months[months.length - 3] as string;
      const ours = await Close.get(info.factoryId, month);
      if (ours) await importAndWait(info, "bill", `cfe-${month}.csv`, utilityBill(month, ours.lines));
      state.utilityBill = true;
      await save();
    }
    state.done = true;
    await save();
    log(`demo year: ready in ${((Date.now() - began) / 1000).toFixed(1)} s (${months.length} months closed, production and one utility bill imported)`);
  };
  const finished = run().catch((error: Error) => log(`demo year: ${error.stack ?? error.message}`));
  return {
    finished,
    async stop() {
      stopped = true;
      await finished;
    },
  };
}

/** The plan's whole local months before the current one (YYYY-MM). */
function closedMonths(plan: Plan): string[] {
  const first = toLocal(plan.from, plan.timeZone);
  const last = Close.previousMonth(new Date(plan.to), plan.timeZone);
  const months: string[] = [];
  for (let month = `${first.year}-${String(first.month).padStart(2, "0")}`; month <= last; month = Close.nextMonth(month)) months.push(month);
  return months;
}

/**
 * A CFE bill for `month` in the import's format (month, code, quantity, unit, unit_price, amount), built
 * from our closed bill's lines as CFE's own meter would bill them: 0.4 % more energy in each energy line
 * (whole kWh); a line priced on money (power factor) keeps only its amount; IVA (16 %) and the total follow
 * from the charges, DAP is added after IVA.
 */
export function utilityBill(month: string, lines: readonly { code: string; quantity: string; unit: string; unitPrice: string; amount: string }[]): string {
  const rows = ["month,code,quantity,unit,unit_price,amount"];
  let subtotal = new Decimal(0);
  let afterTax = new Decimal(0);
  for (const line of lines) {
    if (["subtotal", "iva", "total"].includes(line.code)) continue;
    let quantity = new Decimal(line.quantity);
    let amount = new Decimal(line.amount);
    if (line.code.startsWith("energy")) {
      quantity = quantity.times("1.004").toDecimalPlaces(0);
      amount = quantity.times(line.unitPrice).toDecimalPlaces(2);
    }
    if (line.code === "dap") afterTax = afterTax.plus(amount);
    else subtotal = subtotal.plus(amount);
    // A line priced on money (the power-factor adjustment: a share of the charges) has no metered quantity on CFE's bill.
    const metered = line.unit !== "MXN";
    rows.push([month, line.code, metered ? quantity.toFixed() : "", metered ? line.unit : "", metered ? line.unitPrice : "", amount.toFixed(2)].join(","));
  }
  const iva = subtotal.times("0.16").toDecimalPlaces(2);
  rows.push([month, "iva", "", "", "", iva.toFixed(2)].join(","));
  rows.push([month, "total", "", "", "", subtotal.plus(iva).plus(afterTax).toFixed(2)].join(","));
  return rows.join("\n");
}

async function importAndWait(info: DemoInfo, kind: "production" | "bill", name: string, csv: string): Promise<void> {
  const { executionArn } = await Import.start({
    organizationId: info.organizationId,
    kind,
    factoryId: info.factoryId,
    files: [{ name, bytes: new TextEncoder().encode(csv) }],
  });
  await waitFor(executionArn, `${kind} import`);
}

async function runAndWait(workflow: string, input: unknown, name: string): Promise<void> {
  let executionArn: string;
  try {
    executionArn = (await Workflow.use().start(workflow, input, name)).executionArn;
  } catch (error) {
    // Started before a restart: wait for that run instead.
    if (!(error instanceof Workflow.ExecutionAlreadyExists)) throw error;
    const found = (await Workflow.use().list({ workflow })).find((execution) => execution.name === name);
    if (!found) throw error;
    executionArn = found.executionArn;
  }
  await waitFor(executionArn, `${workflow} ${name}`);
}

async function waitFor(executionArn: string, what: string): Promise<void> {
  for (;;) {
    const execution = await Workflow.use().describe(executionArn);
    if (execution && execution.status !== "RUNNING") {
      if (execution.status !== "SUCCEEDED") throw new Error(`${what} ended ${execution.status}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The demo's live gateway: the real edge agent (packages/edge) in this process, with the demo meters as
 * simulators on the plant's clock, its SQLite outbox under `<dataDir>/edge` (`wattflow edge status --data
 * <dataDir>/edge`), uploading on the Kinesis route to the stack's Kinesis endpoint with the HTTP fallback.
 * Stops with the returned function.
 */
export function runDemoGateway(info: DemoInfo, dataDir: string, log: (line: string) => void): () => Promise<void> {
  const utcOffsetHours = offsetAt(Date.now(), demoTimeZone) / 3_600_000;
  const config = EdgeConfig.parse({
    deviceId: info.deviceId,
    token: info.deviceToken,
    api: { url: info.apiUrl },
    kinesis: info.kinesis,
    dataDir: info.edgeDataDir ?? join(dataDir, "edge"),
    meters: info.meterIds.map((id, index) => ({ id, driver: "sim", seed: index + 1, ratedKw: demoLines[index % demoLines.length]?.ratedKw, utcOffsetHours })),
  });
  mkdirSync(config.dataDir, { recursive: true });
  const abort = new AbortController();
  const running = runAgent(config, { signal: abort.signal, log: (line) => log(`demo gateway: ${line}`) }).catch((error: Error) =>
    log(`demo gateway stopped: ${error.message}`),
  );
  return async () => {
    abort.abort();
    await running;
  };
}
