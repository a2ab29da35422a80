import { monitorEventLoopDelay } from "node:perf_hooks";
import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import { importLimits } from "../src/config";
import { ParseError, parse } from "../src/import/parse";
import { check } from "../src/import/rows";
import { Testing } from "../src/testing";

describe("XLSX limits, checked before inflating", () => {
  it("refuses a 400 MB zip bomb from its central directory, quickly and in little memory", async () => {
    const bomb = await Testing.xlsxBomb(400);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();

    const refused = await parse("xlsx", bomb).catch((error: unknown) => error);

    const ms = performance.now() - started;
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    console.log(`zip bomb: ${bomb.length} bytes declaring 419430400 inflated; refused in ${ms.toFixed(1)} ms, RSS +${(rssGrowth / 1048576).toFixed(1)} MiB`);
    expect(refused).toBeInstanceOf(ParseError);
    expect((refused as ParseError).message).toMatch(/^the workbook inflates to 41943\d{4} bytes, over the limit of 268435456/);
    // Loose bounds for a busy 2-core machine: inflating it took seconds and 0.8 GB before.
    expect(ms).toBeLessThan(500);
    expect(rssGrowth).toBeLessThan(50 * 1024 * 1024);
  });

  it("refuses a sheet whose dimension spans more rows than the cap, reading only its first bytes", async () => {
    const sheet = {
      name: "xl/worksheets/sheet1.xml",
      content: `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:D2000000"/><sheetData/></worksheet>`,
    };
    await expect(parse("xlsx", await Testing.zip([...Testing.emptyWorkbook, sheet]))).rejects.toThrow(
      `xl/worksheets/sheet1.xml spans 2000000 rows, over the limit of ${importLimits.xlsxRows}`,
    );
  });

  it("refuses a file that is not a ZIP with line 1", async () => {
    await expect(parse("xlsx", Buffer.from("PK not really"))).rejects.toMatchObject({ line: 1, message: expect.stringContaining("not a readable XLSX") });
  });

  it("reads a zone-less Excel date-time as the factory's wall clock: 2026-10-06 03:00 in Monterrey is 6 October", async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet("Production");
    sheet.addRow(["date", "line", "units"]);
    // Excel keeps 2026-10-06 03:00 as a serial with no zone; exceljs hands it over as those UTC fields.
    sheet.addRow([new Date(Date.UTC(2026, 9, 6, 3, 0)), "A", 5]);
    sheet.getCell("A2").numFmt = "yyyy-mm-dd hh:mm";
    const table = await parse("xlsx", new Uint8Array(await workbook.xlsx.writeBuffer()));

    expect(table.rows[0]?.cells[0]).toBe("2026-10-06T03:00:00");
    // 03:00 at UTC-6 is 09:00Z: still 6 October in Monterrey (read as UTC it was 5 October).
    const checked = check("production", table, { timeZone: "America/Monterrey", lines: ["A"], now: new Date("2026-11-30T00:00:00Z") });
    expect(checked).toEqual({ ok: true, rows: { kind: "production", rows: [{ date: "2026-10-06", line: "A", shift: "", units: "5" }] } });
  });
});

describe("parsing a large file leaves the event loop free", () => {
  it("parses 1 M CSV rows with the event loop never stalled past a loose bound", async () => {
    const lines = ["date,line,shift,units"];
    for (let index = 0; index < 1_000_000; index++) lines.push(`2026-0${(index % 9) + 1}-1${index % 10},L${index % 7},${index % 3000},${index % 500}`);
    const bytes = new TextEncoder().encode(lines.join("\n"));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();

    const table = await parse("csv", bytes);

    delay.disable();
    const maxMs = delay.max / 1e6;
    console.log(
      `CSV ${(bytes.length / 1e6).toFixed(1)} MB, ${table.rows.length} rows parsed in ${(performance.now() - started).toFixed(0)} ms; event-loop delay max ${maxMs.toFixed(0)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms`,
    );
    expect(table.rows).toHaveLength(1_000_000);
    // The parser yields every 20 ms; 1 s (the /health bound) leaves room for GC pauses on a busy machine.
    expect(maxMs).toBeLessThan(1000);
  });
});
