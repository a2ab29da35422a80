import { Auth } from "@wattflow/core/auth";
import { Quarantine } from "@wattflow/core/quarantine";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/api/app";
import { loggable } from "../src/api/errors";
import { ids, type Pipeline, pipeline, usePipeline } from "./support";

type Problem = { code: string; message: string; errors: { path: string; message: string }[] };

function send(method: string, path: string, token: string, body?: unknown) {
  return app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe("roles: every route that changes something checks the caller's role", () => {
  let p: Pipeline;
  const token: Record<"viewer" | "operator" | "admin", string> = { viewer: "", operator: "", admin: "" };
  beforeAll(async () => {
    p = await pipeline();
    for (const role of ["viewer", "operator", "admin"] as const)
      token[role] = (await Auth.createToken({ organizationId: ids.organization, name: role, role })).token;
  });
  afterAll(async () => {
    await p.close();
  });

  const rule = { factoryId: ids.factory, kind: "gateway_silent", threshold: 15 };

  it("lets only an admin create and delete alert rules: a viewer and an operator get 403 naming the role needed", async () => {
    for (const role of ["viewer", "operator"] as const) {
      const refused = await send("POST", "/v1/alerts/rules", token[role], rule);
      expect(refused.status).toBe(403);
      expect((await refused.json()) as Problem).toEqual({
        code: "auth.role_required",
        message: `POST /v1/alerts/rules needs the role admin; this token or user is ${role}`,
        errors: [{ path: "(authorization)", message: `role ${role} may not do this` }],
      });
    }
    const created = await send("POST", "/v1/alerts/rules", token.admin, rule);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    for (const role of ["viewer", "operator"] as const) expect((await send("DELETE", `/v1/alerts/rules/${id}`, token[role])).status).toBe(403);
    // Still there: the refused deletes changed nothing.
    expect(((await (await send("GET", "/v1/alerts/rules", token.viewer)).json()) as { rules: { id: string }[] }).rules.map((r) => r.id)).toEqual([id]);
    expect((await send("DELETE", `/v1/alerts/rules/${id}`, token.admin)).status).toBe(204);
  });

  it("refuses a webhook rule that targets a loopback or metadata address, by the channel's path", async () => {
    for (const url of ["http://127.0.0.1:5432/", "http://169.254.169.254/latest/meta-data/"]) {
      const response = await send("POST", "/v1/alerts/rules", token.admin, { ...rule, channels: [{ type: "webhook", url }] });
      expect(response.status).toBe(400);
      expect(((await response.json()) as Problem).errors.map((error) => error.path)).toEqual(["channels.0.url"]);
    }
  });

  it("refuses a power-factor or demand threshold given as a percentage, by its path, with the fraction it meant", async () => {
    const pf = await send("POST", "/v1/alerts/rules", token.admin, { factoryId: ids.factory, kind: "power_factor_low", threshold: 90 });
    expect(pf.status).toBe(400);
    expect(((await pf.json()) as Problem).errors).toEqual([
      { path: "threshold", message: "threshold of power_factor_low is a fraction (0.9 = 90 %), at most 1; got 90 (0.9?)" },
    ]);
    const demand = await send("POST", "/v1/alerts/rules", token.admin, { factoryId: ids.factory, kind: "demand_near_peak", threshold: 95 });
    expect(((await demand.json()) as Problem).errors.map((error) => error.path)).toEqual(["threshold"]);
    // A power factor of exactly 1 is a threshold (every reactive kVArh alerts); nothing was stored by the refusals.
    const one = await send("POST", "/v1/alerts/rules", token.admin, { factoryId: ids.factory, kind: "power_factor_low", threshold: 1 });
    expect(one.status).toBe(201);
    expect((await send("DELETE", `/v1/alerts/rules/${((await one.json()) as { id: string }).id}`, token.admin)).status).toBe(204);
  });

  it("answers 404 for another organization's factory in a run or an alert evaluation, as every factory route does", async () => {
    const run = await send("POST", "/v1/runs", token.admin, { workflow: "MonthlyClose", month: "2026-02", factoryIds: [ids.otherFactory] });
    expect(run.status).toBe(404);
    expect(((await run.json()) as Problem).code).toBe("factory.not_found");
    const evaluation = await send("POST", "/v1/alerts/evaluate", token.admin, { factoryId: ids.otherFactory });
    expect(evaluation.status).toBe(404);
  });

  it("refuses a factory name longer than 200 characters by its path (it is printed on bills and PDFs)", async () => {
    const response = await send("PATCH", `/v1/factories/${ids.factory}`, token.admin, { name: "x".repeat(201) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Problem).errors).toEqual([{ path: "name", message: "name must be at most 200 characters" }]);
  });

  it("lets a viewer start nothing: alert evaluation, runs, imports, replay and setup answer 403", async () => {
    const attempts: [string, string, unknown][] = [
      ["POST", "/v1/alerts/evaluate", { factoryId: ids.factory }],
      ["POST", "/v1/runs", { workflow: "MonthlyClose", month: "2026-10" }],
      ["POST", "/v1/imports?kind=production", undefined],
      ["POST", "/v1/quarantine/replay", { ids: [] }],
      ["POST", "/v1/factories", { name: "Nope", timeZone: "America/Monterrey", tariffCode: "flat" }],
    ];
    for (const [method, path, body] of attempts) {
      const response = await send(method, path, token.viewer, body);
      expect([path, response.status]).toEqual([path, 403]);
      expect(((await response.json()) as Problem).code).toBe("auth.role_required");
    }
  });

  it("lets an operator evaluate alerts but not replay quarantine (admin only)", async () => {
    expect((await send("POST", "/v1/alerts/evaluate", token.operator, { factoryId: ids.factory })).status).toBe(200);
    expect((await send("POST", "/v1/quarantine/replay", token.operator, { ids: [] })).status).toBe(403);
    expect((await send("POST", "/v1/quarantine/replay", token.admin, { ids: [] })).status).toBe(200);
  });
});

describe("quarantine tenancy: an organization's rows to its operators and admins, unclaimed rows to the platform only", () => {
  let p: Pipeline;
  const tokens: Record<string, string> = {};
  const rowIds: Record<"mine" | "theirs" | "unclaimed", string> = { mine: "", theirs: "", unclaimed: "" };

  beforeAll(async () => {
    p = await pipeline();
    const make = async (name: string, organizationId: string, role: Auth.Role, platform = false) =>
      (tokens[name] = (await Auth.createToken({ organizationId, name, role, platform })).token);
    await make("operatorA", ids.organization, "operator");
    await make("adminA", ids.organization, "admin");
    await make("viewerA", ids.organization, "viewer");
    await make("operatorB", ids.otherOrganization, "operator");
    await make("platform", ids.organization, "admin", true);
    const entry = (reason: string, organizationId: string | null) => ({
      source: "consumer" as const,
      reason,
      errors: [{ path: "(record)", message: reason }],
      data: new TextEncoder().encode(`{"reason":"${reason}"}`),
      organizationId,
      partitionKey: reason,
    });
    await Quarantine.add([entry("mine", ids.organization), entry("theirs", ids.otherOrganization), entry("unclaimed", null)]);
    const rows = (await p.database.db.execute(sql`select id, reason from quarantine`)) as unknown as { rows: { id: string; reason: "mine" }[] };
    for (const row of rows.rows) rowIds[row.reason] = row.id;
  });
  afterAll(async () => {
    await p.close();
  });

  const listed = async (name: string) =>
    ((await (await send("GET", "/v1/quarantine", tokens[name] as string)).json()) as { items: { reason: string }[] }).items.map((item) => item.reason).sort();

  it("shows an operator or admin only its organization's rows, never another's or unclaimed ones", async () => {
    expect(await listed("operatorA")).toEqual(["mine"]);
    expect(await listed("adminA")).toEqual(["mine"]);
    expect(await listed("operatorB")).toEqual(["theirs"]);
  });

  it("shows unclaimed rows to a platform token only (with its own organization's), not other organizations'", async () => {
    expect(await listed("platform")).toEqual(["mine", "unclaimed"]);
  });

  it("refuses the quarantine list to a viewer", async () => {
    const response = await send("GET", "/v1/quarantine", tokens.viewerA as string);
    expect(response.status).toBe(403);
  });

  it("replays only what the admin may see: another organization's and unclaimed ids are not found", async () => {
    const response = await send("POST", "/v1/quarantine/replay", tokens.adminA as string, { ids: [rowIds.mine, rowIds.theirs, rowIds.unclaimed] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ replayed: [rowIds.mine], notFound: [rowIds.theirs, rowIds.unclaimed] });
    const platform = await send("POST", "/v1/quarantine/replay", tokens.platform as string, { ids: [rowIds.unclaimed] });
    expect(await platform.json()).toEqual({ replayed: [rowIds.unclaimed], notFound: [] });
  });
});

describe("API answers: not cached, not sniffed, and logged without their query string", () => {
  const p = usePipeline();

  it("sends Cache-Control: no-store and X-Content-Type-Options: nosniff on 200, 401, 404 and /health", async () => {
    const answers = [
      await send("GET", "/v1/factories", p.apiToken),
      await send("GET", "/v1/factories", "wfa_unknown"),
      await send("GET", "/v1/nothing-here", p.apiToken),
      await app.request("/health"),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 401, 404, 200]);
    for (const answer of answers) {
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("logs a 500 with its method and path only, not the query string", async () => {
    // Prepare: the readings table gone, so the readings query fails inside the database driver.
    await p.database.db.execute(sql`drop table reading cascade`);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const marker = "2026-03-07T06:00:00Z";
    const response = await send("GET", `/v1/meters/${ids.meters[0]}/readings?from=${marker}&to=2026-03-08T06:00:00Z`, p.apiToken);
    const logged = errors.mock.calls.map((call) => call.join(" ")).join("\n");
    errors.mockRestore();
    expect(response.status).toBe(500);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(logged).toContain(`GET /v1/meters/${ids.meters[0]}/readings failed`);
    expect(logged).not.toContain("?from=");
    expect(logged).not.toContain("2026-03-07");
  });
});

describe("loggable: what an error message may carry into the log", () => {
  it("cuts a driver's params list and replaces every query value the message quotes", () => {
    // A real Postgres rejects year 0000 quoting the value it was given (the case issue 11 saw in the log).
    const message = 'date/time field value out of range: "0000-01-01T00:00:00Z"';
    expect(loggable(message, ["0000-01-01T00:00:00Z", "1h"])).toBe('date/time field value out of range: "(query value)"');
    expect(loggable("Failed query: select 1 where a = $1\nparams: secret-value,other", [])).toBe("Failed query: select 1 where a = $1 params: (not logged)");
  });
});
