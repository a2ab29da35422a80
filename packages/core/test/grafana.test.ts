import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Grafana } from "../src/grafana";
import { fluxProblems } from "./flux-check";

const grafanaDir = fileURLToPath(new URL("../../../grafana/", import.meta.url));

function committed(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? committed(join(dir, entry.name)) : [relative(grafanaDir, join(dir, entry.name))],
  );
}

/**
 * What Grafana does before a Flux query runs: replaces `${name:json}` with the variable's value as
 * JSON and provides the `v` record. flux-lsp refuses to see `v` defined in the script (a runtime
 * name), so the check defines the same record as `grafana` and points the query at it.
 */
function asGrafanaSendsIt(query: string): string {
  const values: Record<string, string> = { factory: "fac_01", meter: 'mtr "quoted"', tz: "America/Mexico_City" };
  const interpolated = query
    .replace(/\$\{(\w+):json\}/g, (_match, name: string) => JSON.stringify(values[name] ?? ""))
    .replace(/\bv\.(timeRangeStart|timeRangeStop|windowPeriod|defaultBucket)\b/g, "grafana.$1");
  const record = 'grafana = {timeRangeStart: 2026-03-01T06:00:00Z, timeRangeStop: 2026-04-01T06:00:00Z, windowPeriod: 5m, defaultBucket: "readings"}';
  // Imports come first in a Flux file.
  const lines = interpolated.split("\n");
  const body = lines.findIndex((line) => line.trim() !== "" && !line.startsWith("import "));
  return [...lines.slice(0, body), record, ...lines.slice(body)].join("\n");
}

describe("Grafana provisioning", () => {
  it("the files under grafana/ are exactly what the generator makes (run `npx wattflow flux grafana` after changing it)", () => {
    const expected = Grafana.files();

    expect(committed(grafanaDir).sort()).toEqual(expected.map((file) => file.path).sort());
    for (const file of expected) expect({ path: file.path, content: readFileSync(join(grafanaDir, file.path), "utf8") }).toEqual(file);
  });

  it("has the four dashboards on the Flux datasource", () => {
    const dashboards = Grafana.dashboards().map(([name, model]) => [
      name,
      model.uid,
      model.panels.every((panel) => panel.datasource.uid === Grafana.datasourceUid),
    ]);

    expect(dashboards).toEqual([
      ["factory-overview.json", "wattflow-factory-overview", true],
      ["meter-detail.json", "wattflow-meter-detail", true],
      ["demand.json", "wattflow-demand", true],
      ["power-factor.json", "wattflow-power-factor", true],
    ]);
  });

  it("every panel and variable query passes Flux's semantic check as Grafana sends it", async () => {
    const queries = Grafana.queries();
    expect(queries.length).toBeGreaterThanOrEqual(14);

    for (const { where, query } of queries) expect({ where, problems: await fluxProblems(asGrafanaSendsIt(query)) }).toEqual({ where, problems: [] });
  });
});
