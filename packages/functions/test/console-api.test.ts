/** Console API: sign-in with session cookies, onboarding and gateway credentials, figures, and organization isolation on every route. */
import { Close } from "@wattflow/core/close";
import { Dashboard } from "@wattflow/core/dashboard";
import { Quarantine } from "@wattflow/core/quarantine";
import { Testing } from "@wattflow/core/testing";
import type { Usage } from "@wattflow/core/usage";
import { User } from "@wattflow/core/user";
import { sessionTable, userTable } from "@wattflow/core/user/user.sql";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { handler as consumer } from "../src/ingest/consumer";
import { deviceToken, drainToEvent, ids, type Pipeline, pipeline, reading } from "./support";

const password = "correct horse battery staple";
const admin = { email: "admin@plant-a.example", password };
const viewer = { email: "viewer@plant-a.example", password };
const otherAdmin = { email: "admin@plant-b.example", password };

type Json = Record<string, unknown> & { code?: string };

async function signIn(credentials: { email: string; password: string }): Promise<string> {
  const response = await app.request("/v1/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(credentials) });
  expect(response.status).toBe(200);
  const cookie = /wattflow_session=[^;]+/.exec(response.headers.get("set-cookie") ?? "")?.[0];
  if (!cookie) throw new Error("no session cookie");
  return cookie;
}

/** A request as the console sends it: the session cookie, and the CSRF header on changes. */
function asSession(cookie: string, path: string, init: { method?: string; body?: unknown; csrf?: boolean } = {}) {
  const headers: Record<string, string> = { cookie, "content-type": "application/json" };
  if (init.csrf ?? init.method !== undefined) headers["x-wattflow-csrf"] = "1";
  return app.request(path, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

function asToken(token: string, path: string, init: { method?: string; body?: unknown } = {}) {
  return app.request(path, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

const json = async (response: Response) => (await response.json()) as Json;

describe.each(Testing.lanes())("console API on %s", (lane) => {
  let p: Pipeline;
  let adminCookie: string;
  let otherCookie: string;
  beforeAll(async () => {
    p = await pipeline(lane);
    await User.create({ organizationId: ids.organization, name: "A admin", role: "admin", ...admin });
    await User.create({ organizationId: ids.organization, name: "A viewer", role: "viewer", ...viewer });
    await User.create({ organizationId: ids.otherOrganization, name: "B admin", role: "admin", ...otherAdmin });
    // Plant A gets a day of readings, so isolation is checked against data that exists.
    const readings = [];
    for (let slot = 0; slot < 12; slot++) {
      const start = new Date(Date.UTC(2026, 2, 10, 18, slot * 5)).toISOString();
      readings.push({ ...reading(0, start, 10 + slot), kvarh: 3 }, { ...reading(1, start, 5), kvarh: 1 });
    }
    const ingest = await app.request("/v1/ingest", {
      method: "POST",
      headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
      body: JSON.stringify({ readings }),
    });
    expect((await json(ingest)).accepted).toBe(24);
    await consumer(await drainToEvent(p.log));
    await Quarantine.add([{ source: "http", reason: "test", errors: [], data: Buffer.from("{}"), organizationId: ids.organization, deviceId: ids.device }]);
    adminCookie = await signIn(admin);
    otherCookie = await signIn(otherAdmin);
  });
  afterAll(async () => {
    await p.close();
  });

  describe("sign-in", () => {
    it("keeps only a memory-hard hash of the password", async () => {
      const [row] = await p.database.db.select().from(userTable).where(eq(userTable.email, admin.email));
      expect(row?.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
      expect(row?.passwordHash).not.toContain(password);
      expect(await User.verifyPassword(password, row?.passwordHash ?? "")).toBe(true);
      expect(await User.verifyPassword(`${password}!`, row?.passwordHash ?? "")).toBe(false);
    });

    it("sets an HttpOnly, SameSite, expiring cookie and answers who is signed in", async () => {
      const response = await app.request("/v1/session", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...admin, email: "ADMIN@plant-a.example" }),
      });
      expect(response.status).toBe(200);
      const cookie = response.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/^wattflow_session=wfs_[\w-]+;/);
      expect(cookie).toMatch(/Max-Age=43200/);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      const me = await asSession(cookie.split(";")[0] ?? "", "/v1/session");
      expect(await json(me)).toMatchObject({ user: { email: admin.email, role: "admin", organizationId: ids.organization } });
    });

    it("refuses a wrong password or an unknown email with the same answer", async () => {
      for (const credentials of [
        { ...admin, password: "wrong password 123" },
        { email: "nobody@plant-a.example", password },
      ]) {
        const response = await app.request("/v1/session", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(credentials),
        });
        expect(response.status).toBe(401);
        expect((await json(response)).code).toBe("session.invalid_credentials");
      }
    });

    it("refuses an email after ten failed sign-ins, even with the right password, and says when to retry", async () => {
      // The failure count lives in the process, which both lanes share: one email per lane.
      const target = { email: `target-${lane}@plant-a.example`, password };
      await User.create({ organizationId: ids.organization, name: "Target", role: "viewer", ...target });
      const attempt = (pw: string) =>
        app.request("/v1/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...target, password: pw }) });
      for (let i = 0; i < User.maxFailures; i++) expect((await json(await attempt(`guess number ${i}`))).code).toBe("session.invalid_credentials");
      const locked = await attempt(password);
      expect(locked.status).toBe(401);
      expect((await json(locked)).code).toBe("session.too_many_attempts");
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(800);
      // Another email is not affected.
      expect((await app.request("/v1/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(viewer) })).status).toBe(
        200,
      );
    });

    it("stops accepting a session once signed out", async () => {
      const cookie = await signIn(admin);
      expect((await asSession(cookie, "/v1/factories")).status).toBe(200);
      const out = await asSession(cookie, "/v1/session", { method: "DELETE" });
      expect(out.headers.get("set-cookie")).toMatch(/wattflow_session=;.*Max-Age=0/);
      const after = await asSession(cookie, "/v1/factories");
      expect(after.status).toBe(401);
      expect((await json(after)).code).toBe("auth.session_expired");
    });

    it("stops accepting a session after it expires", async () => {
      const cookie = await signIn(admin);
      const token = cookie.split("=")[1] ?? "";
      const found = await User.session(token);
      await p.database.db
        .update(sessionTable)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(sessionTable.id, found?.actor.tokenId ?? ""));
      expect((await asSession(cookie, "/v1/factories")).status).toBe(401);
    });

    it("refuses a cookie-authenticated change without the CSRF header", async () => {
      const response = await asSession(adminCookie, "/v1/factories", {
        method: "POST",
        csrf: false,
        body: { name: "X", timeZone: "America/Monterrey", tariffCode: "flat" },
      });
      expect(response.status).toBe(403);
      expect((await json(response)).code).toBe("auth.missing_csrf_header");
    });

    it("lets a viewer read but not change the organization's setup", async () => {
      const cookie = await signIn(viewer);
      expect((await asSession(cookie, "/v1/overview")).status).toBe(200);
      const response = await asSession(cookie, "/v1/factories", {
        method: "POST",
        body: { name: "X", timeZone: "America/Monterrey", tariffCode: "flat" },
      });
      expect(response.status).toBe(403);
    });
  });

  describe("organization isolation", () => {
    /** Every route that names another organization's resource, asked by organization B with a session and with its API token. */
    const foreignRoutes: { name: string; method?: string; path: () => string; body?: unknown }[] = [
      { name: "usage of a factory", path: () => `/v1/factories/${ids.factory}/usage?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z` },
      { name: "console factory page", path: () => `/v1/factories/${ids.factory}/series?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z` },
      { name: "tariffs of a factory", path: () => `/v1/factories/${ids.factory}/tariffs` },
      { name: "bills of a factory", path: () => `/v1/factories/${ids.factory}/bills` },
      { name: "add a meter", method: "POST", path: () => `/v1/factories/${ids.factory}/meters`, body: { deviceId: ids.device, name: "m", line: "L" } },
      { name: "add a gateway", method: "POST", path: () => `/v1/factories/${ids.factory}/gateways`, body: { name: "gw" } },
      {
        name: "assign a tariff",
        method: "POST",
        path: () => `/v1/factories/${ids.factory}/tariffs`,
        body: { effectiveFrom: "2026-01-01T00:00:00Z", definition: { kind: "flat", currency: "MXN", energyPrice: "9.99" } },
      },
      {
        name: "import a URDB rate",
        method: "POST",
        path: () => `/v1/factories/${ids.factory}/tariffs/urdb`,
        body: { effectiveFrom: "2026-01-01T00:00:00Z", rate: {} },
      },
      { name: "issue an enrollment code", method: "POST", path: () => `/v1/factories/${ids.factory}/gateways/${ids.device}/enrollment-code` },
      { name: "rotate gateway credentials", method: "POST", path: () => `/v1/factories/${ids.factory}/gateways/${ids.device}/rotate` },
      { name: "revoke a gateway", method: "POST", path: () => `/v1/factories/${ids.factory}/gateways/${ids.device}/revoke` },
      { name: "a factory", path: () => `/v1/factories/${ids.factory}` },
      { name: "edit a factory", method: "PATCH", path: () => `/v1/factories/${ids.factory}`, body: { name: "Mine now" } },
      { name: "meters of a factory", path: () => `/v1/factories/${ids.factory}/meters` },
      { name: "edit a meter", method: "PATCH", path: () => `/v1/factories/${ids.factory}/meters/${ids.meters[0]}`, body: { name: "Mine now" } },
      { name: "gateways of a factory", path: () => `/v1/factories/${ids.factory}/gateways` },
      {
        name: "assign a CFE plan",
        method: "POST",
        path: () => `/v1/factories/${ids.factory}/tariffs/cfe`,
        body: { tariff: "cfe-gdmth", contractedDemandKw: 500, supplyVoltage: "medium", effectiveFrom: "2026-01-01", prices: { source: "published" } },
      },
    ];

    it.each(foreignRoutes)("answers 404 to another organization: $name", async (route) => {
      const bySession = await asSession(otherCookie, route.path(), { method: route.method, body: route.body });
      const byToken = await asToken(p.otherApiToken, route.path(), { method: route.method, body: route.body });
      for (const response of [bySession, byToken]) {
        expect(response.status).toBe(404);
        expect((await json(response)).code).toMatch(/^(factory|device|meter)\.not_found$/);
      }
      // The owner still gets through, so the 404 is about the organization, not the route.
      if (route.method === undefined) expect((await asSession(adminCookie, route.path())).status).toBe(200);
    });

    it("leaves the owner's gateway working after another organization tried to rotate and revoke it", async () => {
      const response = await app.request("/v1/devices/heartbeat", {
        method: "POST",
        headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
        body: JSON.stringify({ backlog: 0, oldestUnsentSeconds: null, lastSuccess: { kinesis: null, http: null }, rejected: 0, clockOffsetMs: 3 }),
      });
      expect(response.status).toBe(200);
    });

    it("lists only the caller's factories, devices, overview and quarantine", async () => {
      for (const [who, request] of [
        ["session", (path: string) => asSession(otherCookie, path)],
        ["token", (path: string) => asToken(p.otherApiToken, path)],
      ] as const) {
        const factories = (await json(await request("/v1/factories"))).factories as { id: string }[];
        expect(
          factories.map((f) => f.id),
          who,
        ).toEqual([ids.otherFactory]);
        const devices = (await json(await request("/v1/devices"))).devices as { id: string }[];
        expect(devices.map((d) => d.id)).toEqual([ids.otherDevice]);
        const overview = (await json(await request("/v1/overview"))).factories as { id: string }[];
        expect(overview.map((f) => f.id)).toEqual([ids.otherFactory]);
        const items = (await json(await request("/v1/quarantine?all=true"))).items as { organizationId: string | null }[];
        expect(items.filter((item) => item.organizationId === ids.organization)).toEqual([]);
      }
      const own = (await json(await asSession(adminCookie, "/v1/quarantine?all=true"))).items as unknown[];
      expect(own.length).toBeGreaterThan(0);
    });

    it("returns no readings of another organization's meter", async () => {
      const path = `/v1/meters/${ids.meters[0]}/readings?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z`;
      expect((await json(await asSession(otherCookie, path))).readings).toEqual([]);
      expect((await json(await asSession(adminCookie, path))).readings).toHaveLength(12);
    });

    it("does not replay another organization's quarantine", async () => {
      const own = (await json(await asSession(adminCookie, "/v1/quarantine"))).items as { id: string }[];
      const response = await asSession(otherCookie, "/v1/quarantine/replay", { method: "POST", body: { ids: own.map((item) => item.id) } });
      expect(await json(response)).toMatchObject({ replayed: [], notFound: own.map((item) => item.id) });
    });

    it("refuses a factory whose body claims an organization, naming the field, and creates it nowhere", async () => {
      const response = await asSession(otherCookie, "/v1/factories", {
        method: "POST",
        body: { organizationId: ids.organization, name: "Planta Sneaky", timeZone: "America/Tijuana", tariffCode: "flat" },
      });
      // The organization is the session's, never the body's: a body naming one is refused, not quietly overridden.
      expect(response.status).toBe(400);
      expect(((await json(response)).errors as { path: string }[]).map((problem) => problem.path)).toEqual(["organizationId"]);
      const theirs = (await json(await asSession(otherCookie, "/v1/factories"))).factories as { name: string }[];
      expect(theirs.map((f) => f.name)).not.toContain("Planta Sneaky");
      const mine = (await json(await asSession(adminCookie, "/v1/factories"))).factories as { name: string }[];
      expect(mine.map((f) => f.name)).not.toContain("Planta Sneaky");
    });
  });

  describe("onboarding", () => {
    /** Creates a factory (GDMTH unless `body` names a tariff) as organization A's admin through the console's session: the answer's status and JSON body. */
    const createFactory = async (body: Record<string, unknown>) => {
      const response = await asSession(adminCookie, "/v1/factories", { method: "POST", body: { tariffCode: "cfe-gdmth", ...body } });
      return { status: response.status, body: await json(response) };
    };

    it("enrolls a gateway with a one-time code, then rotates and revokes its credentials", async () => {
      const created = await asSession(adminCookie, `/v1/factories/${ids.factory}/gateways`, { method: "POST", body: { name: "Gateway 2" } });
      expect(created.status).toBe(201);
      const { deviceId, code } = (await json(created)) as { deviceId: string; code: string };
      expect(code).toMatch(/^WF-(\w{4}-){3}\w{4}$/);
      const meter = await asSession(adminCookie, `/v1/factories/${ids.factory}/meters`, {
        method: "POST",
        body: { deviceId, name: "Press 4", line: "Stamping" },
      });
      expect(meter.status).toBe(201);

      const redeem = () =>
        app.request("/v1/enroll", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code: code.toLowerCase() }) });
      const first = await redeem();
      expect(first.status).toBe(200);
      const credentials = (await json(first)) as { token: string; privateKey: string; publicKey: string };
      expect(credentials.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect((await redeem()).status).toBe(401);

      const heartbeat = (token: string) =>
        app.request("/v1/devices/heartbeat", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ backlog: 2, oldestUnsentSeconds: 30, lastSuccess: { kinesis: null, http: null }, rejected: 0, clockOffsetMs: -12 }),
        });
      expect((await heartbeat(credentials.token)).status).toBe(200);

      const rotated = (await json(await asSession(adminCookie, `/v1/factories/${ids.factory}/gateways/${deviceId}/rotate`, { method: "POST" }))) as {
        token: string;
        publicKey: string;
      };
      expect(rotated.publicKey).not.toBe(credentials.publicKey);
      expect((await heartbeat(credentials.token)).status).toBe(401);
      expect((await heartbeat(rotated.token)).status).toBe(200);

      expect((await asSession(adminCookie, `/v1/factories/${ids.factory}/gateways/${deviceId}/revoke`, { method: "POST" })).status).toBe(200);
      expect((await heartbeat(rotated.token)).status).toBe(401);
      const devices = (await json(await asSession(adminCookie, "/v1/devices"))).devices as { id: string; revoked: boolean }[];
      expect(devices.find((d) => d.id === deviceId)?.revoked).toBe(true);
      expect((await asSession(adminCookie, `/v1/factories/${ids.factory}/gateways/${deviceId}/enrollment-code`, { method: "POST" })).status).toBe(409);
    });

    it("creates a CFE factory from its municipality: zone and division filled in, a wrong clock refused naming the right one", async () => {
      const factory = (clock: string) => ({
        name: "Planta Hermosillo",
        timeZone: clock,
        state: "Sonora",
        municipality: "Hermosillo",
        supplyVoltage: "medium",
        billingCycleDay: 12,
      });
      const wrong = await createFactory(factory("America/Mexico_City"));
      expect(wrong.status).toBe(400);
      expect(wrong.body).toMatchObject({
        code: "factory.inconsistent_place",
        errors: [{ path: "timeZone", message: "Hermosillo (Sonora) is on America/Hermosillo, not America/Mexico_City" }],
      });
      const right = await createFactory(factory("America/Hermosillo"));
      expect(right.status).toBe(201);
      expect(right.body).toMatchObject({ tariffZone: "central", tariffDivision: "Noroeste", supplyVoltage: "medium", billingCycleDay: 12 });
    });

    it("stores a CFE division and place in the catalogue's spelling whatever their case and accents", async () => {
      // "bajio" is CFE's "Bajío" (location/catalogue.ts); the price import keys rows by "bajío" (import/rows.ts).
      const created = await createFactory({ name: "Planta Querétaro", timeZone: "america/mexico_city", tariffDivision: "bajio" });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ timeZone: "America/Mexico_City", tariffZone: "central", tariffDivision: "Bajío" });
      // Monterrey, Nuevo León: Golfo Norte, central schedule, America/Monterrey (the catalogue).
      const monterrey = await createFactory({ name: "Planta MTY", timeZone: "america/monterrey", state: "nuevo leon", municipality: "MONTERREY" });
      expect(monterrey.status).toBe(201);
      expect(monterrey.body).toMatchObject({
        timeZone: "America/Monterrey",
        tariffDivision: "Golfo Norte",
        state: "Nuevo León",
        municipality: "Monterrey",
      });
    });

    it("refuses a tariff code, schedule zone or division that is none, naming each field and the allowed values", async () => {
      // Allowed: core Factory.tariffCodes, CFE's schedule zones (tariff/cfe.ts zones) and its 17 divisions (location/catalogue.ts).
      const divisions =
        "Baja California, Baja California Sur, Bajío, Centro Occidente, Centro Oriente, Centro Sur, Golfo Centro, Golfo Norte, Jalisco, Noroeste, Norte, Oriente, Peninsular, Sureste, Valle de México Centro, Valle de México Norte, Valle de México Sur";
      const created = await createFactory({
        name: "Planta X",
        timeZone: "America/Monterrey",
        tariffCode: "cfe-gdmtx",
        tariffZone: "norte",
        tariffDivision: "Noreste",
      });
      expect(created.status).toBe(400);
      expect(created.body).toMatchObject({
        code: "factory.invalid",
        errors: [
          { path: "tariffCode", message: "tariffCode must be one of cfe-gdmth, cfe-gdmto, cfe-gdbt, cfe-pdbt, cfe-dist, cfe-dit, tou, urdb, flat" },
          { path: "tariffZone", message: "tariffZone must be one of CFE's schedule zones: central, baja-california, baja-california-sur" },
          { path: "tariffDivision", message: `tariffDivision must be one of CFE's tariff divisions: ${divisions}` },
        ],
      });
      const patched = await asSession(adminCookie, `/v1/factories/${ids.factory}`, { method: "PATCH", body: { tariffDivision: "Noreste" } });
      expect(patched.status).toBe(400);
      expect(await json(patched)).toMatchObject({ code: "factory.invalid", errors: [{ path: "tariffDivision" }] });
      // Real names that disagree were refused before and still are: Bajío bills on the central schedule.
      const inconsistent = await createFactory({ name: "Planta Y", timeZone: "America/Mexico_City", tariffZone: "baja-california", tariffDivision: "Bajío" });
      expect(inconsistent.body).toMatchObject({
        code: "factory.inconsistent_place",
        errors: [{ path: "tariffZone", message: "the Bajío division bills on the central schedule, not baja-california" }],
      });
    });

    it("edits a factory's RPU: CFE's 12 digits kept, anything else refused with what it must be, null clears it", async () => {
      const patch = (rpu: string | null) => asSession(adminCookie, `/v1/factories/${ids.factory}`, { method: "PATCH", body: { rpu } });

      const short = await patch("12345");
      const letters = await patch("12345678901A");
      const right = await patch(" 123456789012 ");
      const afterRight = (await json(await asSession(adminCookie, `/v1/factories/${ids.factory}`))).rpu;
      const cleared = await patch(null);

      const message = "rpu is CFE's service number (RPU): the 12 digits printed on the bill, such as 123456789012";
      expect(short.status).toBe(400);
      expect(await json(short)).toMatchObject({ code: "factory.invalid", errors: [{ path: "rpu", message }] });
      expect(await json(letters)).toMatchObject({ errors: [{ path: "rpu", message }] });
      expect(right.status).toBe(200);
      expect(afterRight).toBe("123456789012");
      expect(await json(cleared)).toMatchObject({ rpu: null });
    });

    it("refuses a meter on a gateway of another factory", async () => {
      const response = await asSession(adminCookie, `/v1/factories/${ids.factory}/meters`, {
        method: "POST",
        body: { deviceId: ids.otherDevice, name: "m", line: "L" },
      });
      expect(response.status).toBe(400);
      expect(await json(response)).toMatchObject({ errors: [{ path: "deviceId" }] });
    });

    it("assigns a tariff version and lists it as the one in force", async () => {
      const definition = { kind: "flat", currency: "MXN", energyPrice: "2.5000" };
      const added = await asSession(adminCookie, `/v1/factories/${ids.factory}/tariffs`, {
        method: "POST",
        body: { effectiveFrom: "2026-02-01T00:00:00Z", definition },
      });
      expect(added.status).toBe(201);
      const { id } = (await json(added)) as { id: string };
      const list = (await json(await asSession(adminCookie, `/v1/factories/${ids.factory}/tariffs`))) as {
        currentId: string;
        versions: { id: string }[];
      };
      expect(list.currentId).toBe(id);
      expect(list.versions.map((v) => v.id)).toContain(id);
    });
  });

  describe("figures", () => {
    it("sums a factory's range into buckets, 15-minute demand with its peak, and per-meter totals", async () => {
      const response = await asSession(adminCookie, `/v1/factories/${ids.factory}/series?from=2026-03-10T18:00:00Z&to=2026-03-10T19:00:00Z&bucket=5m`);
      const series = (await response.json()) as Usage.Series;
      expect(series.buckets.t).toHaveLength(12);
      expect(series.buckets.kwh[0]).toBe(15);
      expect(series.buckets.kw[0]).toBe(180); // 15 kWh in 5 minutes
      // Windows of three intervals: the last holds meter 0's 19+20+21 and meter 1's 3×5 kWh.
      expect(series.demand.kw).toEqual([4 * (10 + 11 + 12 + 15), 4 * (13 + 14 + 15 + 15), 4 * (16 + 17 + 18 + 15), 4 * (19 + 20 + 21 + 15)]);
      expect(series.demand.kw.at(-1)).toBe(4 * (19 + 20 + 21 + 15));
      expect(series.demand.peak).toEqual({ t: Date.parse("2026-03-10T18:45:00Z") / 1000, kw: 300 });
      expect(series.totals.kwh).toBe(12 * 10 + 66 + 60);
      expect(series.totals.cost).toBe((246 * 2.1534).toFixed(2));
      expect(series.meters.map((m) => m.kwh)).toEqual([186, 60, 0, 0]); // the last is the meter onboarding added
      expect(series.totals.powerFactor).toBeCloseTo(246 / Math.hypot(246, 48), 4);
    });

    it("buckets by the factory's local hour and refuses a range longer than the console draws", async () => {
      const hourly = (await (
        await asSession(adminCookie, `/v1/factories/${ids.factory}/series?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&bucket=1h`)
      ).json()) as Usage.Series;
      expect(hourly.buckets).toMatchObject({ t: [Date.parse("2026-03-10T18:00:00Z") / 1000], kwh: [246], kw: [246] });
      expect(hourly.demand.peak?.kw).toBe(300);
      // 69 days of quarter-hours is more than the console draws (31 days at 5 minutes, 62 at 15; hours and days go to 400).
      const tooLong = await asSession(adminCookie, `/v1/factories/${ids.factory}/series?from=2026-01-01T00:00:00Z&to=2026-03-11T00:00:00Z&bucket=15m`);
      expect(tooLong.status).toBe(400);
      expect(await json(tooLong)).toMatchObject({
        code: "series.invalid_query",
        errors: [{ path: "to", message: "a range of 15m buckets spans at most 62 days: use bucket=1h for 69 days" }],
      });
    });

    it("draws a day as its average kW over the day's hours, its periods' kWh and its highest 15-minute demand", async () => {
      // 2026-03-10 in Mexico City (UTC−6): 246 kWh in one day → 10.25 kW on average; its peak window is still 300 kW.
      const daily = (await json(
        await asSession(adminCookie, `/v1/factories/${ids.factory}/series?from=2026-03-10T06:00:00Z&to=2026-03-11T06:00:00Z&bucket=1d`),
      )) as Usage.Series;
      const day = Date.parse("2026-03-10T06:00:00Z") / 1000;
      expect(daily.buckets).toMatchObject({ t: [day], end: [day + 86_400], kwh: [246], kw: [10.25], estimatedKw: [0] });
      // Each period's kWh of the day is the range's kWh of that period (here a single bucket).
      for (const { period, kwh } of daily.byPeriod) if (period !== null) expect(daily.buckets.periodKwh[period]?.[0]).toBeCloseTo(kwh, 3);
      expect(Object.keys(daily.buckets.periodKwh).sort()).toEqual(daily.byPeriod.flatMap(({ period }) => (period === null ? [] : [period])).sort());
      expect(daily.demand).toMatchObject({ t: [day], kw: [300], peak: { kw: 300 } });
    });

    it("refuses a range longer than its bucket allows and names the bucket to use", async () => {
      const usage = await asSession(adminCookie, `/v1/factories/${ids.factory}/usage?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=5m`);
      expect(usage.status).toBe(400);
      expect(await json(usage)).toMatchObject({
        code: "usage.invalid_query",
        errors: [{ path: "to", message: "a range of 5m buckets spans at most 31 days: use bucket=15m for 59 days" }],
      });
      const month = await asSession(adminCookie, `/v1/factories/${ids.factory}/usage?from=2026-03-01T06:00:00Z&to=2026-04-01T06:00:00Z&bucket=5m`);
      expect(month.status).toBe(200);
    });

    it("gives the overview today's and the billing period's figures, the statement's projection and the current demand", async () => {
      const [plant] = await Dashboard.overview(ids.organization, new Date("2026-03-10T19:00:00Z"));
      expect(plant).toMatchObject({
        id: ids.factory,
        meters: 4,
        today: { kwh: 246, cost: (246 * 2.1534).toFixed(2) },
        month: { label: "2026-03", period: { start: "2026-03-01", end: "2026-04-01" }, kwh: 246, priced: true, cost: "615.00", energyCost: "615.00" },
        demand: { kw: 300, windowStart: "2026-03-10T18:45:00.000Z" },
        lastReadingEnd: "2026-03-10T19:00:00.000Z",
      });
      // Today's cost is the readings' as stored (2.1534 when they were priced); the period's is the bill's, on the tariff in
      // force (the 2.5000 version assigned above, from February): 246 kWh × 2.5 = 615.00. Projection (Statement): March is
      // 744 hours (2026-03-01T06:00Z to 2026-04-01T06:00Z), 229 have passed; 246 × 744/229 = 799.231441 kWh × 2.5 = 1,998.08.
      expect(plant?.month.projectedCost).toBe("1998.08");
    });

    it("says how much of a range's, the month's and a closed bill's energy was estimated from a gap reading", async () => {
      // A half-hour gap reading of 6 kWh for meter 1: spread flat over 6 slots of 1 kWh, all estimated.
      const gap = { meterId: ids.meters[1], start: "2026-03-10T20:00:00Z", seconds: 1800, kwh: 6, gap: true };
      const ingest = await app.request("/v1/ingest", {
        method: "POST",
        headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
        body: JSON.stringify({ readings: [gap] }),
      });
      expect((await json(ingest)).accepted).toBe(1);
      await consumer(await drainToEvent(p.log));

      // 18:00–21:00: 246 kWh measured, 6 estimated; 6 / 252 = 0.0238. Missing: 4 meters × 36 slots − (24 + 6) stored = 114.
      const series = (await json(
        await asSession(adminCookie, `/v1/factories/${ids.factory}/series?from=2026-03-10T18:00:00Z&to=2026-03-10T21:00:00Z&bucket=5m`),
      )) as Usage.Series;
      expect(series.totals).toMatchObject({ kwh: 252, measuredKwh: 246, estimatedKwh: 6, estimatedShare: 0.0238, missingSlots: 114 });
      expect(series.buckets.estimatedKwh[series.buckets.t.indexOf(Date.parse("2026-03-10T20:00:00Z") / 1000)]).toBe(1);
      expect(series.buckets.estimatedKwh[0]).toBe(0);

      // The month so far: the 246 kWh measured above and the 6 kWh estimated.
      const [plant] = await Dashboard.overview(ids.organization, new Date("2026-03-10T21:00:00Z"));
      expect(plant?.month).toMatchObject({ kwh: 252, estimatedKwh: 6 });

      // March closed: its bill carries the same 6 kWh estimated, and the console's bills list shows it.
      await Close.factoryMonth({ factoryId: ids.factory, month: "2026-03" });
      const { bills } = (await json(await asSession(adminCookie, `/v1/factories/${ids.factory}/bills`))) as {
        bills: { month: string; source: string; estimatedKwh: string | null }[];
      };
      const march = bills.find((bill) => bill.month === "2026-03" && bill.source === "wattflow");
      expect(Number(march?.estimatedKwh)).toBe(6);
    });
  });
});
