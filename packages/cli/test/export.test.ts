/**
 * `wattflow export` run as a user runs it, against the API served over HTTP (the Hono app on @hono/node-server, a
 * private PGlite database): readings and usage as CSV, a closed bill as PDF, and the errors a person can act on.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { Auth } from "@wattflow/core/auth";
import { Close } from "@wattflow/core/close";
import { Device } from "@wattflow/core/device";
import { Factory } from "@wattflow/core/factory";
import { Meter } from "@wattflow/core/meter";
import { Organization } from "@wattflow/core/organization";
import { Rollup } from "@wattflow/core/rollup";
import { TariffStore } from "@wattflow/core/tariff/store";
import { Testing } from "@wattflow/core/testing";
import { app } from "@wattflow/functions/api/app";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin } from "./support";

const standardFontDataUrl = `${join(dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json")), "standard_fonts")}/`;

/** Runs `wattflow …` in a child process without blocking this process, which serves the API it calls. */
function wattflow(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("wattflow export", () => {
  let database: Awaited<ReturnType<typeof Testing.database>>;
  let server: ServerType;
  let dir: ReturnType<typeof Testing.temporaryDir>;
  let env: Record<string, string>;
  let factoryId: string;
  let meters: string[];

  beforeAll(async () => {
    database = await Testing.database();
    dir = Testing.temporaryDir();
    const organization = await Organization.create({ name: "Export Org" });
    // Flat 2.1534 MXN/kWh, Mexico City (UTC−6 all year).
    const factory = await Factory.create({ organizationId: organization.id, name: "Planta Norte", timeZone: "America/Mexico_City", tariffCode: "flat" });
    factoryId = factory.id;
    await TariffStore.addVersion({
      factoryId,
      effectiveFrom: new Date("2020-01-01T00:00:00Z"),
      definition: { kind: "flat", currency: "MXN", energyPrice: "2.1534" },
    });
    const device = await Device.create({ organizationId: organization.id, factoryId, name: "gw" });
    meters = [];
    for (const line of ["L1", "L2"])
      meters.push((await Meter.create({ organizationId: organization.id, factoryId, deviceId: device.id, name: `${line} main`, line })).id);
    // 10 March 2026, 06:00Z–06:15Z (00:00–00:15 local): three slots per meter, meter L1 10 kWh each, L2 40 kWh each.
    await Testing.insertReadings(
      database.db,
      meters.flatMap((meterId, index) =>
        [0, 1, 2].map((slot) => ({
          meterId,
          factoryId,
          deviceId: device.id,
          intervalStart: new Date(Date.parse("2026-03-10T06:00:00Z") + slot * 300_000),
          intervalSeconds: 300,
          kwh: index === 0 ? 10 : 40,
          touPeriod: "energy",
          unitPrice: "2.1534",
          cost: index === 0 ? "21.534" : "86.136",
          source: "http" as const,
          receivedAt: new Date(),
        })),
      ),
    );
    // Written straight into the table, not through the store: their rollups are rebuilt as a backfill would.
    await Rollup.rebuild(database.db);
    await Close.factoryMonth({ factoryId, month: "2026-03" }, new Date("2026-04-01T08:00:00Z"));
    const token = (await Auth.createToken({ organizationId: organization.id, name: "export", role: "viewer" })).token;
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
    });
    const { port } = server.address() as AddressInfo;
    // WATTFLOW_DATA: an empty folder, so no demo.json answers for the stack.
    env = { WATTFLOW_API: `http://127.0.0.1:${port}`, WATTFLOW_TOKEN: token, WATTFLOW_DATA: dir.path };
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await database.close();
    dir.remove();
  });

  it("writes a factory's readings to --out as CSV, meter by meter, slot by slot", async () => {
    const out = join(dir.path, "readings.csv");

    const result = await wattflow(
      ["export", "readings", "--factory", factoryId, "--from", "2026-03-10T00:00:00-06:00", "--to", "2026-03-10T00:10:00-06:00", "--out", out],
      env,
    );

    expect(result.stderr).toBe(`wrote ${out}\n`);
    expect(result.status).toBe(0);
    // 00:00–00:10 local is two slots per meter; 10 kWh × 2.1534 = 21.534000, 40 kWh × 2.1534 = 86.136000 MXN.
    const [first, second] = [...meters].sort();
    const nameOf = (id: string | undefined) => (id === meters[0] ? "L1 main,L1" : "L2 main,L2");
    const kwhOf = (id: string | undefined) => (id === meters[0] ? "10,,,energy,2.153400,21.534000" : "40,,,energy,2.153400,86.136000");
    expect(readFileSync(out, "utf8")).toBe(
      [
        "meter_id,meter,line,start_utc,start_local,seconds,quality,kwh,kvarh,pf,period,unit_price,cost,price_estimated,flags",
        `${first},${nameOf(first)},2026-03-10T06:00:00.000Z,2026-03-10T00:00:00-06:00,300,measured,${kwhOf(first)},false,`,
        `${first},${nameOf(first)},2026-03-10T06:05:00.000Z,2026-03-10T00:05:00-06:00,300,measured,${kwhOf(first)},false,`,
        `${second},${nameOf(second)},2026-03-10T06:00:00.000Z,2026-03-10T00:00:00-06:00,300,measured,${kwhOf(second)},false,`,
        `${second},${nameOf(second)},2026-03-10T06:05:00.000Z,2026-03-10T00:05:00-06:00,300,measured,${kwhOf(second)},false,`,
        "",
      ].join("\r\n"),
    );
  });

  it("prints usage per bucket to standard output, with a BOM when asked", async () => {
    const result = await wattflow(
      ["export", "usage", "--factory", factoryId, "--from", "2026-03-10T00:00:00-06:00", "--to", "2026-03-11T00:00:00-06:00", "--bucket", "1d", "--bom"],
      env,
    );

    // By hand: the local day 10 March holds all six slots, 3 × 10 + 3 × 40 = 150 kWh, 150 × 2.1534 = 323.01 MXN.
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      "\uFEFFstart_utc,start_local,kwh,measured_kwh,estimated_kwh,cost,readings,partial\r\n2026-03-10T06:00:00.000Z,2026-03-10T00:00:00-06:00,150,150,0,323.01,6,false\r\n",
    );
  });

  it("writes the month's closed bill as a PDF", async () => {
    const out = join(dir.path, "bill.pdf");

    const result = await wattflow(["export", "bill", "--factory", factoryId, "--month", "2026-03", "--out", out], env);

    expect(result.status).toBe(0);
    const bytes = new Uint8Array(readFileSync(out));
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe("%PDF-");
    const document = await getDocument({ data: bytes, standardFontDataUrl, verbosity: 0 }).promise;
    const text = (await (await document.getPage(1)).getTextContent()).items.map((item) => ("str" in item ? item.str : "")).join(" ");
    // By hand: 150 kWh × 2.1534 = 323.01 MXN, a flat bill's one line, and its total.
    expect(text).toContain("Planta Norte");
    expect(text).toMatch(/Energía\s+150 kWh\s+\$2\.1534 MXN\/kWh\s+\$323\.01 MXN/);
    expect(text).toMatch(/Total\s+\$323\.01 MXN/);
    await document.destroy();
  });

  it("says what is wrong: the API's problem with its path, a bill month never closed, a format a kind does not have; no file is left", async () => {
    const out = join(dir.path, "bad.csv");

    const backwards = await wattflow(
      ["export", "readings", "--factory", factoryId, "--from", "2026-03-11T00:00:00Z", "--to", "2026-03-10T00:00:00Z", "--out", out],
      env,
    );
    const unknown = await wattflow(["export", "usage", "--factory", "fac_nope", "--from", "2026-03-10T00:00:00Z", "--to", "2026-03-11T00:00:00Z"], env);
    const noBill = await wattflow(["export", "bill", "--factory", factoryId, "--month", "2026-02", "--out", join(dir.path, "feb.pdf")], env);
    const pdfReadings = await wattflow(["export", "readings", "--factory", factoryId, "--format", "pdf"], env);
    const noRange = await wattflow(["export", "readings", "--factory", factoryId], env);

    expect(backwards.status).toBe(1);
    expect(backwards.stderr).toBe("wattflow: the API answered 400 readings.invalid_query: Invalid request (to: to must be after from)\n");
    expect(unknown.stderr).toBe("wattflow: the API answered 404 factory.not_found: factory fac_nope not found\n");
    expect(noBill.stderr).toBe(
      `wattflow: factory ${factoryId} has no closed bill for 2026-02 (closed: 2026-03); close it with \`wattflow runs start close --month 2026-02\`\n`,
    );
    expect(pdfReadings.stderr).toBe("wattflow: readings export as csv only (--format csv), not pdf\n");
    expect(noRange.stderr).toContain("wattflow: export readings needs --from and --to");
    expect([unknown.status, noBill.status, pdfReadings.status, noRange.status]).toEqual([1, 1, 1, 1]);
    expect(readdirSync(dir.path).filter((name) => name.startsWith("bad") || name.startsWith("feb"))).toEqual([]);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});
