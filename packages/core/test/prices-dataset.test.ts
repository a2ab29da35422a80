/**
 * scripts/prices-from-dataset.ts, run as a user runs it: a dataset file in the shape of EnergiaHollman/
 * tarifas-electricas-mx `data/tarifas.json` in, the bundled data file out. The records below are two of that
 * dataset's at commit de9442f9 (GDMTH Noroeste March 2026, GDMTH Bajío May 2026), so the output must be the rows
 * shipped for them; a bad record exits 2 naming it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { Published } from "../src/prices/published";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "wattflow-prices-dataset-"));
const commit = "de9442f911d892ba91452cc55536cebff011c588";
const page = "https://app.cfe.mx/Aplicaciones/CCFE/Tarifas/TarifasCRENegocio/Tarifas/GranDemandaMTH.aspx";

/** A dataset record as the scrape writes it: CFE's table (`conceptos`) and the dataset's summary of it (`cargos`). */
function record(region: string, month: number, consulted: string, captured: string, prices: [number, number, number, number, number, number]) {
  const [fijo, base, intermedia, punta, distribucion, capacidad] = prices;
  const concept = (cargo: string, int_horario: string, unidades: string, valor: number) => ({ cargo, int_horario, unidades, valor });
  const names = ["ENE", "FEB", "MAR", "ABR", "MAY", "JUN", "JUL", "AGO", "SEP", "OCT", "NOV", "DIC"];
  return {
    anio: 2026,
    cargos: { base, capacidad, distribucion, fijo, intermedia, punta },
    conceptos: [
      concept("Fijo", "-", "$/mes", fijo),
      concept("Variable (Energía)", "Base", "$/kWh", base),
      concept("Variable (Energía)", "Intermedia", "$/kWh", intermedia),
      concept("Variable (Energía)", "Punta", "$/kWh", punta),
      concept("Distribución", "-", "$/kW", distribucion),
      concept("Capacidad", "-", "$/kW", capacidad),
    ],
    fecha_captura: captured,
    fuente: page,
    mes: month,
    municipio_consultado: consulted,
    periodo_cfe: `${names[month - 1]}-26`,
    region,
    tarifa: "GDMTH",
  };
}

const noroesteMarch = record("NOROESTE", 3, "AHOME, SINALOA", "2026-09-21T23:38:08+00:00", [197.77, 0.9715, 1.5573, 1.7262, 90.85, 392.66]);
const bajioMay = record("BAJIO", 5, "AGUASCALIENTES, AGUASCALIENTES", "2026-09-21T23:34:26+00:00", [427.19, 1.0482, 1.8603, 2.1192, 97.88, 388.73]);

function generate(name: string, registros: Record<string, unknown>, args: string[] = ["--commit", commit]) {
  const input = join(dir, `${name}.json`);
  const out = join(dir, `${name}.out.json`);
  writeFileSync(input, JSON.stringify({ actualizado: "2026-09-21T23:42:13+00:00", fuente: page, registros }));
  const run = spawnSync(process.execPath, ["--import", "tsx", join(root, "scripts/prices-from-dataset.ts"), input, ...args, "--out", out], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: run.status, stderr: run.stderr, input, out };
}

describe("scripts/prices-from-dataset.ts", () => {
  test("two records of the dataset become the rows shipped for them, with version and dataset commit", () => {
    // Act
    const run = generate("two", { "GDMTH|NOROESTE|2026-03": noroesteMarch, "GDMTH|BAJIO|2026-05": bajioMay });

    // Assess
    expect(run.stderr).toContain("2 rows, version 2026-09-21");
    expect(run.code).toBe(0);
    const data = Published.Data.parse(JSON.parse(readFileSync(run.out, "utf8")));
    const shipped = [Published.of("cfe-gdmth", "Bajío").find((row) => row.month === "2026-05"), Published.of("cfe-gdmth", "Noroeste")[2]];
    expect(data.rows).toEqual(shipped);
    expect(data.rows[0]).toMatchObject({ division: "bajío", fixed: "427.19", energyBase: "1.0482", source: { captured: "2026-09-21T23:34:26Z" } });
    expect(data.datasets).toEqual(Published.datasets);
  });

  test("a record whose summary disagrees with its table exits 2 naming the record and charge", () => {
    // Prepare: the dataset's summary says punta 1.7263 where CFE's table says 1.7262.
    const bad = { ...noroesteMarch, cargos: { ...noroesteMarch.cargos, punta: 1.7263 } };

    // Act
    const run = generate("disagrees", { "GDMTH|NOROESTE|2026-03": bad });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `prices-from-dataset: ${run.input}: registros."GDMTH|NOROESTE|2026-03".cargos.punta: 1.7263 disagrees with the table's 1.7262`,
    );
  });

  test("a region CFE does not have, a table without capacity and a short commit each exit 2 saying what and where", () => {
    // Act
    const region = generate("region", { "GDMTH|NARNIA|2026-03": { ...noroesteMarch, region: "NARNIA" } });
    const capacity = generate("capacity", { "GDMTH|NOROESTE|2026-03": { ...noroesteMarch, conceptos: noroesteMarch.conceptos.slice(0, 5) } });
    const short = generate("short", { "GDMTH|NOROESTE|2026-03": noroesteMarch }, ["--commit", "de9442f9"]);

    // Assess
    expect([region.code, capacity.code, short.code]).toEqual([2, 2, 2]);
    expect(region.stderr).toContain('registros."GDMTH|NARNIA|2026-03".region: "NARNIA" is not a CFE division (Baja California, ');
    expect(capacity.stderr).toContain('registros."GDMTH|NOROESTE|2026-03".conceptos: the table has no "Capacidad" charge');
    expect(short.stderr).toContain("--commit is the dataset's full commit (40 hex digits)");
  });
});
