import { Close } from "@wattflow/core/close";
import { factoryTable } from "@wattflow/core/factory/factory.sql";
import { meterTable } from "@wattflow/core/meter/meter.sql";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { ids, type Pipeline, pipeline } from "./support";

const factoryId = "fac_01jdit000000000000000000";
const meterId = "mtr_01jdit000000000000000000";
const dit = { fixed: "800.00", energy: { base: "0.7000", intermedia: "1.1000", punta: "1.3000" }, capacity: "300.00" };

describe.each(Testing.lanes())("a factory on a new CFE tariff on %s", (lane) => {
  let p: Pipeline;
  const assign = (definition: unknown) =>
    app.request(`/v1/factories/${factoryId}/tariffs`, {
      method: "POST",
      headers: { Authorization: `Bearer ${p.apiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ effectiveFrom: "2026-01-01T06:00:00Z", definition }),
    });

  beforeAll(async () => {
    p = await pipeline(lane);
    await p.database.db
      .insert(factoryTable)
      .values({ id: factoryId, organizationId: ids.organization, name: "Smelter", timeZone: "America/Mexico_City", tariffCode: "cfe-dit" });
    await p.database.db
      .insert(meterTable)
      .values({ id: meterId, organizationId: ids.organization, factoryId, deviceId: ids.device, name: "main", line: "supply" });
  });
  afterAll(async () => {
    await p.close();
  });

  it("assigns DIT through the console, refusing prices of the wrong shape at their path", async () => {
    const wrong = await assign({ kind: "cfe-dit", zone: "central", prices: [{ ...dit, energy: "1.1" }] });
    const right = await assign({ kind: "cfe-dit", zone: "central", prices: [{ month: "2026-03", ...dit }] });

    expect(wrong.status).toBe(400);
    expect(JSON.stringify(await wrong.json())).toContain("definition.prices.0.energy");
    expect(right.status).toBe(201);
  });

  it("closes the month on DIT from the stored readings", async () => {
    // Prepare: 10 kWh at 10:00 on Tuesday 10 March 2026 in Mexico City (16:00Z): intermedia, winter.
    await Testing.insertReadings(p.database.db, {
      meterId,
      intervalStart: new Date("2026-03-10T16:00:00Z"),
      intervalSeconds: 300,
      factoryId,
      deviceId: ids.device,
      kwh: 10,
      source: "http",
      receivedAt: new Date(),
    });

    // Act
    const closed = await Close.factoryMonth({ factoryId, month: "2026-03" });

    // Assess: fixed 800.00; intermedia 10 × 1.1 = 11.00 (base and punta 0); capacity on min(punta demand 0 kW,
    // Q / (24 · 31 · 0.71) = 0.019 → 1 kW) = 0 kW; no distribution on a transmission supply; subtotal 811.00;
    // IVA 129.76; total 940.76.
    expect(closed).toMatchObject({ total: "940.76", basis: "all-meters" });
    const stored = await Close.get(factoryId, "2026-03");
    expect(stored?.lines.map((line) => [line.code, line.amount])).toEqual([
      ["fixed", "800.00"],
      ["energy-base", "0.00"],
      ["energy-intermedia", "11.00"],
      ["energy-punta", "0.00"],
      ["capacity", "0.00"],
      ["subtotal", "811.00"],
      ["iva", "129.76"],
      ["total", "940.76"],
    ]);
  });
});
