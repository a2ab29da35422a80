/**
 * The public setup API the console uses (/v1/factories/:id, meters, gateways, CFE plans) and alert handling
 * (/v1/alerts/:id/acknowledge and /resolve): roles, tenancy (another organization's id is 404) and per-field problems.
 */
import { alertRuleTable, alertTable } from "@wattflow/core/alert/alert.sql";
import { Auth } from "@wattflow/core/auth";
import { Testing } from "@wattflow/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { ids, type Pipeline, pipeline } from "./support";

type Json = Record<string, unknown> & { code?: string; errors?: { path: string; message: string }[] };

describe.each(Testing.lanes())("setup and alerts API on %s", (lane) => {
  let p: Pipeline;
  let viewer: string;
  let operator: string;
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  /** Creates a GDMTH factory in `place` through the API (201, or the test fails); returns its id. */
  const createGdmthFactory = async (place: { name: string; timeZone: string; state: string; municipality: string; tariffDivision?: string }) => {
    const created = await call(p.apiToken, "POST", "/v1/factories", { ...place, tariffCode: "cfe-gdmth" });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  beforeAll(async () => {
    p = await pipeline(lane);
    viewer = (await Auth.createToken({ organizationId: ids.organization, name: "Wall screen", role: "viewer" })).token;
    operator = (await Auth.createToken({ organizationId: ids.organization, name: "Shift lead", role: "operator" })).token;
  });
  afterAll(async () => p.close());

  describe("factories", () => {
    // Mexico City's Azcapotzalco, billed in Valle de México Norte or Centro (location/catalogue.ts).
    const azcapotzalco = { timeZone: "America/Mexico_City", state: "Ciudad de México", municipality: "Azcapotzalco" };

    it("moves a CFE factory to a municipality: division and clock come from the catalogue, kW, voltage and cycle day are kept", async () => {
      // Prepare: a GDMTH factory in Azcapotzalco, in Valle de México Norte.
      const id = await createGdmthFactory({ ...azcapotzalco, name: "Planta Norte", tariffDivision: "Valle de México Norte" });

      // Act: to Navojoa, Sonora (Noroeste, on Hermosillo's clock all year), with the contract's figures.
      const moved = await call(p.apiToken, "PATCH", `/v1/factories/${id}`, {
        state: "Sonora",
        municipality: "Navojoa",
        contractedDemandKw: 850,
        supplyVoltage: "medium",
        billingCycleDay: 12,
      });

      // Assess
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({
        tariffDivision: "Noroeste",
        tariffZone: "central",
        timeZone: "America/Hermosillo",
        contractedDemandKw: 850,
        supplyVoltage: "medium",
        billingCycleDay: 12,
      });
      expect((await call(viewer, "GET", `/v1/factories/${id}`)).body).toMatchObject({ municipality: "Navojoa", timeZone: "America/Hermosillo" });
    });

    it("refuses a division the catalogue does not bill the municipality in, and a cycle day past 28, naming each field", async () => {
      const id = await createGdmthFactory({ ...azcapotzalco, name: "Planta Centro", tariffDivision: "Valle de México Centro" });

      const division = await call(p.apiToken, "PATCH", `/v1/factories/${id}`, { tariffDivision: "Noroeste" });
      const day = await call(p.apiToken, "PATCH", `/v1/factories/${id}`, { billingCycleDay: 31 });
      const otherDivision = await call(p.apiToken, "PATCH", `/v1/factories/${id}`, { tariffDivision: "valle de mexico norte" });

      expect(division.status).toBe(400);
      expect(division.body.errors).toEqual([
        {
          path: "tariffDivision",
          message: "Azcapotzalco (Ciudad de México) is billed in the Valle de México Norte or Valle de México Centro division, not Noroeste",
        },
      ]);
      expect(day.status).toBe(400);
      expect(day.body.errors).toEqual([{ path: "billingCycleDay", message: "billingCycleDay is a day 1–28" }]);
      // The catalogue bills Azcapotzalco in either Valle de México division: the other one is taken, in CFE's spelling.
      expect(otherDivision.body).toMatchObject({ tariffDivision: "Valle de México Norte" });
    });

    it("lets only an admin edit a factory, and answers 404 for another organization's", async () => {
      const asViewer = await call(viewer, "PATCH", `/v1/factories/${ids.factory}`, { name: "Renamed" });
      const asOperator = await call(operator, "PATCH", `/v1/factories/${ids.factory}`, { name: "Renamed" });
      const foreign = await call(p.apiToken, "PATCH", `/v1/factories/${ids.otherFactory}`, { name: "Mine now" });
      const foreignRead = await call(p.apiToken, "GET", `/v1/factories/${ids.otherFactory}`);

      expect([asViewer.status, asOperator.status]).toEqual([403, 403]);
      expect(asViewer.body.code).toBe("auth.role_required");
      expect([foreign.status, foreignRead.status]).toEqual([404, 404]);
      expect((await call(p.otherApiToken, "GET", `/v1/factories/${ids.otherFactory}`)).body).toMatchObject({ name: "Plant B" });
    });
  });

  describe("meters and gateways", () => {
    it("lists a factory's meters and renames one, moving it on a line with a new multiplier", async () => {
      const edited = await call(p.apiToken, "PATCH", `/v1/factories/${ids.factory}/meters/${ids.meters[1]}`, {
        name: "Compresor 3",
        line: "Aire",
        multiplier: 40,
        parentId: ids.meters[0],
      });
      const listed = await call(viewer, "GET", `/v1/factories/${ids.factory}/meters`);

      expect(edited.status).toBe(200);
      const meters = listed.body.meters as { id: string; name: string; line: string; multiplier: number; parentId: string | null }[];
      expect(meters.map((meter) => meter.id).sort()).toEqual([...ids.meters].sort());
      expect(meters.find((meter) => meter.id === ids.meters[1])).toMatchObject({ name: "Compresor 3", line: "Aire", multiplier: 40, parentId: ids.meters[0] });
    });

    it("refuses an empty name and a negative multiplier by field; a meter of another factory or organization is 404", async () => {
      const bad = await call(p.apiToken, "PATCH", `/v1/factories/${ids.factory}/meters/${ids.meters[2]}`, { name: " ", multiplier: -1 });
      const foreign = await call(p.apiToken, "PATCH", `/v1/factories/${ids.factory}/meters/${ids.otherMeter}`, { name: "x" });
      const wrongFactory = await call(p.otherApiToken, "PATCH", `/v1/factories/${ids.otherFactory}/meters/${ids.meters[2]}`, { name: "x" });
      const viewerEdit = await call(viewer, "PATCH", `/v1/factories/${ids.factory}/meters/${ids.meters[2]}`, { name: "x" });

      expect(bad.status).toBe(400);
      expect(bad.body.errors?.map((problem) => problem.path).sort()).toEqual(["multiplier", "name"]);
      expect([foreign.status, wrongFactory.status, viewerEdit.status]).toEqual([404, 404, 403]);
    });

    it("renames a gateway under its factory; an empty name is refused by field, another organization's gateway is 404", async () => {
      const renamed = await call(p.apiToken, "PATCH", `/v1/factories/${ids.factory}/gateways/${ids.device}`, { name: "Gateway nave 2" });
      const empty = await call(p.apiToken, "PATCH", `/v1/factories/${ids.factory}/gateways/${ids.device}`, { name: "  " });
      const foreign = await call(p.otherApiToken, "PATCH", `/v1/factories/${ids.otherFactory}/gateways/${ids.device}`, { name: "Mine" });
      const asViewer = await call(viewer, "PATCH", `/v1/factories/${ids.factory}/gateways/${ids.device}`, { name: "x" });

      expect(renamed.body).toEqual({ id: ids.device, factoryId: ids.factory, name: "Gateway nave 2" });
      expect(empty.body.errors).toEqual([{ path: "name", message: "name is required" }]);
      expect([foreign.status, asViewer.status]).toEqual([404, 403]);
    });

    it("lists a factory's gateways, and rotates one only under its own factory", async () => {
      const listed = await call(viewer, "GET", `/v1/factories/${ids.factory}/gateways`);
      const foreign = await call(p.apiToken, "GET", `/v1/factories/${ids.otherFactory}/gateways`);
      const elsewhere = await call(p.otherApiToken, "POST", `/v1/factories/${ids.otherFactory}/gateways/${ids.device}/rotate`);

      expect((listed.body.gateways as { id: string }[]).map((gateway) => gateway.id)).toEqual([ids.device]);
      expect(foreign.status).toBe(404);
      expect(elsewhere.status).toBe(404);
    });
  });

  describe("CFE plan", () => {
    it("assigns GDMTH on CFE's published Noroeste prices from a date: the version starts at that date's local midnight", async () => {
      // Prepare: a GDMTH factory in Navojoa, Sonora (Noroeste, America/Hermosillo = UTC−7 all year).
      const id = await createGdmthFactory({ name: "Planta Navojoa", timeZone: "America/Hermosillo", state: "Sonora", municipality: "Navojoa" });

      // Act
      const plan = await call(p.apiToken, "POST", `/v1/factories/${id}/tariffs/cfe`, {
        tariff: "cfe-gdmth",
        contractedDemandKw: 1200,
        supplyVoltage: "medium",
        effectiveFrom: "2026-03-01",
        prices: { source: "published" },
      });

      // Assess. 2026-03-01 00:00 in Hermosillo (UTC−7) is 2026-03-01T07:00Z. The bundled Noroeste GDMTH months are
      // 2026-01 … 2026-09 (nine); March's (consulted for Navojoa): fixed 197.77, base 0.9715, intermedia 1.5573, punta 1.7262.
      expect(plan.status).toBe(201);
      expect(plan.body).toMatchObject({ effectiveFrom: "2026-03-01T07:00:00.000Z", effectiveDate: "2026-03-01" });
      const definition = plan.body.definition as { kind: string; zone: string; division: string; prices: { month: string; fixed: string; energy: unknown }[] };
      expect(definition).toMatchObject({ kind: "cfe-gdmth", zone: "central", division: "Noroeste" });
      expect(definition.prices.map((month) => month.month)).toEqual([
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
      ]);
      expect(definition.prices[2]).toMatchObject({ fixed: "197.77", energy: { base: "0.9715", intermedia: "1.5573", punta: "1.7262" } });
      const factory = await call(viewer, "GET", `/v1/factories/${id}`);
      expect(factory.body).toMatchObject({ tariffCode: "cfe-gdmth", contractedDemandKw: 1200, supplyVoltage: "medium" });
      const tariffs = await call(viewer, "GET", `/v1/factories/${id}/tariffs`);
      expect(tariffs.body.versions).toEqual([expect.objectContaining({ effectiveDate: "2026-03-01" })]);
    });

    it("takes prices entered per month, naming a bad price by its month and field, and leaves the factory as it was when refused", async () => {
      const before = (await call(p.apiToken, "GET", `/v1/factories/${ids.factory}`)).body;
      const month = { month: "2026-04", fixed: "500", distribution: "100.5", capacity: "350.2", energy: "1.3" };

      // Each request below differs from GDMTO at 300 kW from 1 April only where it says.
      const gdmto = { tariff: "cfe-gdmto", contractedDemandKw: 300, supplyVoltage: "medium", effectiveFrom: "2026-04-01" };
      const assign = (body: Record<string, unknown>) => call(p.apiToken, "POST", `/v1/factories/${ids.factory}/tariffs/cfe`, { ...gdmto, ...body });

      const refused = await assign({ prices: { source: "entered", months: [month, { ...month, month: "2026-05", fixed: "abc" }] } });
      // A GDMTH month with a misspelt period (`puntaa`): once dropped on the way in, so punta went unpriced.
      const misspelt = await assign({
        tariff: "cfe-gdmth",
        prices: {
          source: "entered",
          months: [
            { month: "2026-04", fixed: "500", distribution: "100.5", capacity: "350.2", energy: { base: "1", intermedia: "1.5", punta: "2", puntaa: "2.2" } },
          ],
        },
      });
      // April entered twice (a correction added below the original): the bill read the first, so the correction was lost.
      const twice = await assign({ prices: { source: "entered", months: [month, { ...month, fixed: "9" }] } });
      const noDate = await assign({ effectiveFrom: "2026-04-31", prices: { source: "entered", months: [month] } });
      const unpublished = await assign({ tariff: "cfe-pdbt", contractedDemandKw: 20, prices: { source: "published" } });
      const taken = await assign({ prices: { source: "entered", months: [month] } });

      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.path).toBe("prices.months.1.fixed");
      expect(twice.status).toBe(400);
      expect(twice.body).toMatchObject({
        code: "tariff.invalid_plan",
        errors: [{ path: "prices.months.1.month", message: "2026-04 is priced already by entry 0: give each month once (correct that entry instead)" }],
      });
      expect(misspelt.status).toBe(400);
      expect(misspelt.body).toMatchObject({
        code: "tariff.invalid_plan",
        errors: [{ path: "prices.months.0.energy.puntaa", message: "puntaa is not a field of this body" }],
      });
      expect(noDate.status).toBe(400);
      expect(noDate.body.errors?.[0]?.path).toBe("effectiveFrom");
      expect(unpublished.status).toBe(400);
      expect(unpublished.body.errors?.[0]?.path).toBe("prices.source");
      // Refusals changed nothing; the accepted plan set the tariff, 300 kW and the voltage. Plant A is on Mexico City's
      // clock (UTC−6, no DST since 2022): 2026-04-01 00:00 local = 06:00Z.
      expect(before).toMatchObject({ tariffCode: "flat", contractedDemandKw: null });
      expect(taken.status).toBe(201);
      expect(taken.body).toMatchObject({ effectiveFrom: "2026-04-01T06:00:00.000Z", factory: { tariffCode: "cfe-gdmto", contractedDemandKw: 300 } });
    });

    it("lets only an admin assign a plan", async () => {
      const body = { tariff: "cfe-gdmth", contractedDemandKw: 1, supplyVoltage: "medium", effectiveFrom: "2026-01-01", prices: { source: "published" } };
      expect((await call(operator, "POST", `/v1/factories/${ids.factory}/tariffs/cfe`, body)).status).toBe(403);
    });
  });

  describe("alerts", () => {
    const alertId = "alt_01jsetup000000000000000000";
    const otherAlertId = "alt_01jsetup000000000000000001";
    beforeAll(async () => {
      const db = p.database.db;
      await db.insert(alertRuleTable).values([
        { id: "alr_01jsetup000000000000000000", organizationId: ids.organization, factoryId: ids.factory, kind: "power_factor_low", threshold: 0.9 },
        { id: "alr_01jsetup000000000000000001", organizationId: ids.otherOrganization, factoryId: ids.otherFactory, kind: "power_factor_low", threshold: 0.9 },
      ]);
      const raised = { kind: "power_factor_low", message: "PF 0.82 < 0.90", at: new Date("2026-03-10T18:00:00Z"), raisedAt: new Date("2026-03-10T18:05:00Z") };
      await db.insert(alertTable).values([
        { ...raised, id: alertId, organizationId: ids.organization, factoryId: ids.factory, ruleId: "alr_01jsetup000000000000000000", dedupKey: "d1" },
        {
          ...raised,
          id: otherAlertId,
          organizationId: ids.otherOrganization,
          factoryId: ids.otherFactory,
          ruleId: "alr_01jsetup000000000000000001",
          dedupKey: "d1",
        },
      ]);
    });

    it("is acknowledged by an operator, then resolved by an admin: who and when recorded, the first acknowledgement stands", async () => {
      const acknowledged = await call(operator, "POST", `/v1/alerts/${alertId}/acknowledge`);
      const again = await call(p.apiToken, "POST", `/v1/alerts/${alertId}/acknowledge`);
      const open = await call(viewer, "GET", "/v1/alerts?status=unresolved");
      const resolved = await call(p.apiToken, "POST", `/v1/alerts/${alertId}/resolve`);
      const stillOpen = await call(viewer, "GET", "/v1/alerts?status=unresolved");

      expect(acknowledged.status).toBe(200);
      expect(acknowledged.body).toMatchObject({ status: "acknowledged", acknowledged: { name: "Shift lead" }, resolved: null });
      const mark = acknowledged.body.acknowledged as { at: string; by: string };
      expect(mark.by).toMatch(/^tok_/);
      expect(Math.abs(Date.parse(mark.at) - Date.now())).toBeLessThan(60_000);
      expect(again.body.acknowledged).toEqual(acknowledged.body.acknowledged);
      expect((open.body.alerts as { id: string }[]).map((alert) => alert.id)).toEqual([alertId]);
      expect(resolved.body).toMatchObject({ status: "resolved", acknowledged: { name: "Shift lead" }, resolved: { name: "t" } });
      expect(stillOpen.body.alerts).toEqual([]);
    });

    it("refuses a viewer (403 naming the roles) and answers 404 for another organization's alert", async () => {
      const asViewer = await call(viewer, "POST", `/v1/alerts/${otherAlertId}/acknowledge`);
      const foreign = await call(p.apiToken, "POST", `/v1/alerts/${otherAlertId}/resolve`);
      const badStatus = await call(viewer, "GET", "/v1/alerts?status=closed");

      expect(asViewer.status).toBe(403);
      expect(asViewer.body.message).toContain("admin or operator");
      expect(foreign.status).toBe(404);
      expect(foreign.body.code).toBe("alert.not_found");
      expect(badStatus.status).toBe(400);
      expect((await call(p.otherApiToken, "GET", "/v1/alerts")).body.alerts).toEqual([expect.objectContaining({ id: otherAlertId, status: "open" })]);
    });
  });
});
