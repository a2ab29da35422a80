import { monitorEventLoopDelay } from "node:perf_hooks";
import { constants, crc32, createDeflateRaw, deflateRawSync } from "node:zlib";
import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import { importLimits } from "../src/config";
import { ParseError, parse } from "../src/import/parse";
import { check } from "../src/import/rows";

type Member = { name: string; compressed: Buffer; crc: number; size: number };

/** A ZIP (stored directory, deflated members) as Excel writes one, from members already deflated. */
function zip(members: Member[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const member of members) {
    const name = Buffer.from(member.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(member.crc, 14);
    local.writeUInt32LE(member.compressed.length, 18);
    local.writeUInt32LE(member.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(member.crc, 16);
    central.writeUInt32LE(member.compressed.length, 20);
    central.writeUInt32LE(member.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, member.compressed);
    centrals.push(central, name);
    offset += local.length + name.length + member.compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const member = (name: string, text: string): Member => {
  const data = Buffer.from(text);
  return { name, compressed: deflateRawSync(data), crc: crc32(data), size: data.length };
};

/** `megabytes` MiB of spaces inside a sheet, deflated as it is made (never held whole). */
async function bombSheet(megabytes: number): Promise<Member> {
  const deflate = createDeflateRaw({ level: constants.Z_BEST_COMPRESSION });
  const out: Buffer[] = [];
  deflate.on("data", (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => deflate.on("end", resolve));
  const block = Buffer.alloc(1024 * 1024, 0x20);
  let crc = 0;
  for (let index = 0; index < megabytes; index++) {
    crc = crc32(block, crc);
    if (!deflate.write(block)) await new Promise((resolve) => deflate.once("drain", resolve));
  }
  deflate.end();
  await done;
  return { name: "xl/worksheets/sheet1.xml", compressed: Buffer.concat(out), crc, size: megabytes * 1024 * 1024 };
}

const workbookParts = [
  member("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
  member("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'),
];

describe("XLSX limits, checked before inflating", () => {
  it("refuses a 400 MB zip bomb from its central directory, quickly and in little memory", async () => {
    const bomb = zip([...workbookParts, await bombSheet(400)]);
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
    const sheet = member(
      "xl/worksheets/sheet1.xml",
      `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:D2000000"/><sheetData/></worksheet>`,
    );
    await expect(parse("xlsx", zip([...workbookParts, sheet]))).rejects.toThrow(
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
