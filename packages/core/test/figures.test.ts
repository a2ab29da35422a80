import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Factory } from "../src/factory";
import { factoryTable } from "../src/factory/factory.sql";
import { Kpi } from "../src/kpi";
import { Emission } from "../src/kpi/emission";
import { Figures } from "../src/kpi/figures";
import { KpiViews } from "../src/kpi/views";
import { LakeSchema } from "../src/lake/schema";
import { organizationTable } from "../src/organization/organization.sql";
import { Testing } from "../src/testing";
import { temporaryLake } from "./temporary-lake";

describe("power factor from the meters that measure both kWh and kVArh (issue 17, case 1)", () => {
  const a = { meterId: "A", kwh: 100, kwhWithKvarh: 100, kvarh: 75 };
  const b = { meterId: "B", kwh: 100, kwhWithKvarh: 0, kvarh: null };

  it("leaves out a meter without a reactive register and names it", () => {
    // 100 / √(100² + 75²) = 100 / 125; counting B as PF 1.0 gave 200 / √(200² + 75²) = 0.9363.
    expect(Figures.powerFactorOf([a, b])).toEqual({ value: 0.8, kwh: 100, kvarh: 75, meters: ["A"], leftOut: ["B"], billingMeter: null });
  });

  it("takes the billing meter alone when it measures both, as the utility's bill does", () => {
    const c = { meterId: "C", kwh: 300, kwhWithKvarh: 300, kvarh: 0 };

    // C alone: 300 / √(300² + 0²) = 1; A and C together would be 400 / √(400² + 75²) = 0.9829.
    expect(Figures.powerFactorOf([a, b, c], { billingMeterId: "C" })).toMatchObject({ value: 1, meters: ["C"], billingMeter: "C" });
    expect(Figures.powerFactorOf([a, b, c], { billingMeterId: "B" })).toMatchObject({ value: 0.9829, meters: ["A", "C"], billingMeter: null });
  });

  it("pairs a meter's kVArh with the kWh of its own readings that carry it", () => {
    // Meter A's kVArh register was missing for part of the month: only its 60 kWh read with kVArh count.
    expect(Figures.powerFactorOf([{ meterId: "A", kwh: 100, kwhWithKvarh: 60, kvarh: 45 }]).value).toBe(0.8);
    expect(Figures.powerFactor({ kwh: 0, kvarh: 10 })).toBeNull();
    expect(Figures.powerFactor({ kwh: 10, kvarh: null })).toBeNull();
  });
});

describe("emission factors by year with their source (issue 17, case 4)", () => {
  it("a month uses the latest published factor not after it", () => {
    expect(Emission.forMonth("2023-12")).toMatchObject({ kgPerKwh: 0.438, year: 2023 });
    expect(Emission.forMonth("2024-01")).toMatchObject({ kgPerKwh: 0.444, year: 2024 });
    // 2025 has no factor published yet: 2024's stands.
    expect(Emission.forMonth("2025-03")).toMatchObject({ kgPerKwh: 0.444, year: 2024 });
    // 2022's notice is not in the table: 2021's 0.423 stands.
    expect(Emission.forMonth("2022-06")).toMatchObject({ kgPerKwh: 0.423, year: 2021 });
    expect(Emission.forMonth("2024-06").source).toMatch(/SEMARNAT/);
  });

  it("refuses a month before the first published factor, saying which is the first", () => {
    expect(() => Emission.forMonth("2019-12")).toThrow(/no grid emission factor is published for 2019-12 or earlier \(the first is 2020\)/);
  });

  it("a KPI says which year's factor it used, or that the request gave it", () => {
    const base: Kpi.Input = {
      month: "2023-05",
      timeZone: "America/Monterrey",
      now: new Date("2023-06-02T00:00:00Z"),
      currency: "MXN",
      contractedDemandKw: null,
      windows: [{ start: new Date("2023-05-10T16:00:00Z"), period: "base", kwh: 1000, kvarh: null, kwhWithKvarh: 0, cost: "0" }],
      meterDays: [],
      meters: [],
      production: [],
    };

    // 1000 kWh × 0.438 (May 2023 takes 2023's factor); × 0.5 when the request gives one.
    expect(Kpi.compute(base).co2e).toMatchObject({ kg: 438, factorKgPerKwh: 0.438, factorYear: 2023 });
    expect(Kpi.compute({ ...base, gridFactorKgPerKwh: 0.5 }).co2e).toEqual({
      kg: 500,
      factorKgPerKwh: 0.5,
      factorYear: null,
      source: "given in the request (gridFactor)",
    });
  });
});

describe("energy per unit over the days and lines with production (issue 17, case 3)", () => {
  it("leaves out days without production rows and keeps a line that made 0 units as idle consumption", () => {
    const lineOf = new Map([
      ["m1", "Injection"],
      ["m2", "Packing"],
    ]);
    const result = Figures.energyPerUnit({
      production: [
        { line: "Injection", day: "2026-11-27", units: 600 },
        { line: "Injection", day: "2026-11-27", units: 400 },
        { line: "Packing", day: "2026-11-27", units: 0 },
      ],
      meterDays: [
        { meterId: "m1", day: "2026-11-27", kwh: 2500 },
        { meterId: "m1", day: "2026-11-30", kwh: 700 },
        { meterId: "m2", day: "2026-11-27", kwh: 300 },
      ],
      lineOf,
    });

    // Injection: 2500 kWh on its one production day ÷ (600 + 400) units; 30 November is not in the EnPI.
    // Packing: 300 kWh idle; with it, (2500 + 300) / 1000.
    expect(result).toEqual({
      lines: [
        { line: "Injection", days: ["2026-11-27"], units: 1000, kwh: 2500, kwhPerUnit: 2.5 },
        { line: "Packing", days: ["2026-11-27"], units: 0, kwh: 300, kwhPerUnit: null },
      ],
      units: 1000,
      kwh: 2500,
      kwhPerUnit: 2.5,
      idle: { kwh: 300, lines: ["Packing"] },
      kwhPerUnitWithIdle: 2.8,
    });
  });
});

describe("months in local time in every view (issue 17, case 2)", () => {
  const { lake, remove } = temporaryLake();
  afterAll(remove);

  it("a reading at 20:00 on 31 March in Monterrey is March's in power_factor_monthly and kpi_monthly, though its partition is 1 April", async () => {
    // 20:00 in Monterrey (UTC−6) is 02:00Z on 1 April: dt=2026-04-01.
    const row = Testing.lakeRow({
      meterId: "mtr_1",
      factoryId: "fac_mty",
      intervalStart: new Date("2026-04-01T02:00:00Z"),
      kwh: 100,
      kvarh: 75,
      touPeriod: "punta",
    });
    await lake.put([row, { ...row, meterId: "mtr_2", kvarh: null }]);
    for (const view of [...LakeSchema.views("lake"), ...KpiViews.views("lake", { timeZone: "America/Monterrey" })])
      await lake.query(KpiViews.forDuckDb(view.sql, "lake"));

    const pf = await lake.query("SELECT month, power_factor, meters, meters_left_out FROM power_factor_monthly");
    const monthly = await lake.query("SELECT local_month, power_factor, co2e_factor_kg_per_kwh, co2e_factor_year FROM kpi_monthly");

    // One meter with kVArh, one left out: 100 / √(100² + 75²) = 0.8.
    expect(pf).toEqual([{ month: "2026-03", power_factor: 0.8, meters: 1n, meters_left_out: 1n }]);
    expect(monthly).toEqual([{ local_month: "2026-03", power_factor: 0.8, co2e_factor_kg_per_kwh: 0.444, co2e_factor_year: 2024 }]);
  });

  it("demand_15min is a window's measured kWh × 4: an estimated slot in it sets no demand", async () => {
    // Prepare: the window 16:00–16:15Z of another factory: two measured slots of 10 and 5 kWh, one estimated of 40 kWh.
    const slot = (minute: number, kwh: number, quality: "measured" | "estimated") =>
      Testing.lakeRow({
        meterId: "mtr_d",
        factoryId: "fac_demand",
        intervalStart: new Date(`2026-03-10T16:${String(minute).padStart(2, "0")}:00Z`),
        kwh,
        quality,
      });
    await lake.put([slot(0, 10, "measured"), slot(5, 5, "measured"), slot(10, 40, "estimated")]);
    for (const view of LakeSchema.views("lake")) await lake.query(KpiViews.forDuckDb(view.sql, "lake"));

    // Act
    const rows = await lake.query("SELECT demand_kw, intervals FROM demand_15min WHERE factory_id = 'fac_demand'");

    // Assess: (10 + 5) kWh in 15 minutes = 15 × 60 / 15 = 60 kW, from the 2 measured slots only.
    expect(rows).toEqual([{ demand_kw: 60, intervals: 2n }]);
  });
});

describe("time zones are stored in their canonical IANA spelling (issue 17, case 5)", () => {
  let database: Awaited<ReturnType<typeof Testing.database>>;
  beforeAll(async () => {
    database = await Testing.database();
    await database.db.insert(organizationTable).values({ id: "org_tz", name: "TZ org" });
  });
  afterAll(async () => {
    await database.close();
  });

  it("a factory created with america/monterrey is stored as America/Monterrey", async () => {
    const created = await Factory.create({ organizationId: "org_tz", name: "Planta", timeZone: "america/monterrey", tariffCode: "flat" });

    expect(created.timeZone).toBe("America/Monterrey");
    expect((await Factory.get("org_tz", created.id))?.timeZone).toBe("America/Monterrey");
  });

  it("the migration fixes the letter case of a zone stored before", async () => {
    // Prepare: a factory written before the canonical spelling was enforced.
    await database.db
      .insert(factoryTable)
      .values({ id: "fac_lower", organizationId: "org_tz", name: "Vieja", timeZone: "america/monterrey", tariffCode: "flat" });
    const migration = readFileSync(new URL("../migrations/0006_factory_zone_canonical.sql", import.meta.url), "utf8");

    // Act: run the migration's statement again (migrate ran it on an empty table).
    await database.db.execute(sql.raw(migration));

    // Assess
    expect((await Factory.get("org_tz", "fac_lower"))?.timeZone).toBe("America/Monterrey");
  });

  it("an unknown zone is refused with its path", async () => {
    // The schema check throws before any I/O starts, synchronously.
    const create = () => Factory.create({ organizationId: "org_tz", name: "Planta", timeZone: "America/Gotham", tariffCode: "flat" });

    expect(create).toThrow(
      expect.objectContaining({ kind: "input", problems: [{ path: "timeZone", message: "timeZone must be an IANA time zone such as America/Mexico_City" }] }),
    );
  });
});
