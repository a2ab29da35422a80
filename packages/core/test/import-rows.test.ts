import { describe, expect, it } from "vitest";
import { parseCsv } from "../src/import/parse";
import { check } from "../src/import/rows";

/** The files are checked on this day: the readings window reaches back 5 years from it. */
const now = new Date("2026-11-30T00:00:00Z");

describe("CSV parsing", () => {
  it("keeps each row's line in the file: header is line 1, blank lines counted, quoted newlines inside one row", () => {
    const table = parseCsv('\ufeffDate,Line,Units\r\n2026-03-01,"Line, A",5\r\n\r\n2026-03-02,"multi\nline",6\n"quoted ""x""",b,7');

    expect(table.header).toEqual(["date", "line", "units"]);
    expect(table.rows).toEqual([
      { line: 2, cells: ["2026-03-01", "Line, A", "5"] },
      { line: 4, cells: ["2026-03-02", "multi\nline", "6"] },
      { line: 6, cells: ['quoted "x"', "b", "7"] },
    ]);
  });

  it("refuses a quote left open, naming the row where it started", () => {
    expect(() => parseCsv('date,line,units\n2026-03-01,"open,5\n')).toThrow(expect.objectContaining({ line: 2 }));
  });
});

describe("row checks", () => {
  /** A production file of line A at a factory on Monterrey's clock. */
  const monterrey = { lines: ["A"], timeZone: "America/Monterrey", now };

  it("names missing and unknown columns on line 1", () => {
    const result = check("production", parseCsv("date,lines,units\n2026-03-01,A,1\n"), { lines: ["A"], now });
    expect(result).toEqual({
      ok: false,
      errors: [
        { line: 1, message: "missing column(s) line; a production file has date, line, units, shift" },
        { line: 1, message: "unknown column(s) lines; a production file has date, line, units, shift" },
      ],
    });
  });

  it("turns an instant in the date column into the factory's local date", () => {
    const result = check("production", parseCsv("date,line,units\n2026-03-02T03:00:00Z,A,1\n"), { lines: ["A"], timeZone: "America/Mexico_City", now });
    expect(result).toEqual({ ok: true, rows: { kind: "production", rows: [{ date: "2026-03-01", line: "A", shift: "", units: "1" }] } });
  });

  it("reads a zone-less date-time as the factory's wall clock: 03:00 in Monterrey stays on its day", () => {
    // 2026-10-06 03:00 at UTC-6 is 09:00Z; read as UTC it would be 21:00 on 5 October local.
    const result = check("production", parseCsv("date,line,units\n2026-10-06 03:00,A,1\n2026-10-06T23:30:00,A,2\n"), monterrey);
    expect(result).toMatchObject({ ok: false, errors: [{ line: 3, message: "duplicate of line 2" }] });
    const single = check("production", parseCsv("date,line,units\n2026-10-06 03:00,A,1\n"), monterrey);
    expect(single).toEqual({ ok: true, rows: { kind: "production", rows: [{ date: "2026-10-06", line: "A", shift: "", units: "1" }] } });
  });

  it("refuses impossible dates and dates outside the readings window row by row, keeping the good rows' lines out of the errors", () => {
    const result = check("production", parseCsv("date,line,units\n2026-04-31,A,1\n2026-05-01,A,2\n1900-01-01,A,3\n2026-02-29T10:00,A,4\n"), monterrey);
    expect(result).toEqual({
      ok: false,
      errors: [
        { line: 2, column: "date", message: 'date "2026-04-31": 2026-04-31 is not a date: April 2026 has 30 days' },
        { line: 4, column: "date", message: 'date "1900-01-01": 1900-01-01 is outside the accepted range 2021-11-29T00:00:00Z to 2026-12-01T00:10:00Z' },
        { line: 5, column: "date", message: 'date "2026-02-29T10:00": 2026-02-29 is not a date: February 2026 has 28 days' },
      ],
    });
  });

  it("refuses bill months that do not exist or lie outside the window", () => {
    const result = check("bill", parseCsv("month,code,amount\n0000-01,energy,1\n2026-13,energy,1\n2026-11,energy,1\n"), { now });
    expect(result).toMatchObject({
      ok: false,
      errors: [
        { line: 2, column: "month", message: expect.stringContaining("outside") },
        { line: 3, column: "month", message: 'month "2026-13": month 13 does not exist (01 to 12)' },
      ],
    });
  });

  it("converts a bill's MWh to kWh exactly, the unit price with it", () => {
    const result = check("bill", parseCsv("month,code,quantity,unit,unit_price,amount\n2026-02,energy,12.3456,MWh,1726.2,21311.00\n"), { now });
    expect(result).toMatchObject({ ok: true, rows: { rows: [{ quantity: "12345.6", unit: "kWh", unitPrice: "1.7262", amount: "21311.00" }] } });
  });

  it("keeps a bill's reading dates and refuses a period that ends before it starts, differs within the month or spans several", () => {
    const header = "month,code,amount,period_start,period_end";
    const good = check("bill", parseCsv(`${header}\n2026-03,energy-base,10,2026-02-28,2026-03-31\n2026-03,iva,1.6,2026-02-28,2026-03-31\n`), { now });
    expect(good).toMatchObject({ ok: true, rows: { rows: [{ periodStart: "2026-02-28", periodEnd: "2026-03-31" }, { periodStart: "2026-02-28" }] } });
    const bad = check(
      "bill",
      // Line 5: 28 Feb → 30 Jun is 122 days, four billing periods (Config.cfeBilling.maxPeriodDays: 62).
      parseCsv(
        `${header}\n2026-03,fixed,1,2026-03-31,2026-02-28\n2026-04,fixed,1,2026-03-31,2026-04-30\n2026-04,iva,1,2026-03-30,2026-04-30\n2026-06,fixed,1,2026-02-28,2026-06-30\n`,
      ),
      { now },
    );
    expect(bad).toEqual({
      ok: false,
      errors: [
        { line: 2, column: "period_end", message: "period_end 2026-02-28 must be after period_start 2026-03-31" },
        { line: 4, column: "period_start", message: "the billing period differs from line 3's (2026-03-31 → 2026-04-30) for the same month" },
        { line: 5, column: "period_end", message: "the period 2026-02-28 → 2026-06-30 is longer than one billing period (at most 62 days)" },
      ],
    });
  });

  it("keys price tables by CFE's division spelling whatever the file's case, accents or dashes", () => {
    // "Bajío" and "Valle de México Norte" are CFE's names (accents included); "golfo-centro" and "BAJIO" are spellings of
    // "Golfo Centro" and "Bajío". Factories store CFE's spelling, and a price import finds them by it lower-cased.
    const result = check(
      "prices",
      parseCsv(
        "month,division,fixed,distribution,capacity,base,intermedia,punta\n2026-06,Bajío,1,2,3,1,2,3\n2026-06,golfo-centro,1,2,3,1,2,3\n2026-07,BAJIO,1,2,3,1,2,3\n2026-06,Valle de México Norte,1,2,3,1,2,3\n",
      ),
      { now },
    );
    expect(result.ok && result.rows.kind === "prices" && result.rows.rows.map((row) => `${row.division} ${row.month}`)).toEqual([
      "bajío 2026-06",
      "golfo centro 2026-06",
      "bajío 2026-07",
      "valle de méxico norte 2026-06",
    ]);
  });

  it("refuses a division CFE does not have (a typo would load prices no factory is billed with), naming the line", () => {
    const result = check(
      "prices",
      parseCsv("month,division,tariff,fixed,distribution,capacity,base,intermedia,punta\n2026-06,Noroest,GDMTH,1,2,3,1.1,2.2,3.3\n"),
      { now },
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((error) => [error.line, error.column])).toEqual([[2, "division"]]);
    expect(!result.ok && result.errors[0]?.message).toContain('"Noroest" is not a CFE division');
  });

  it("asks GDMTH price tables for the three energy prices and GDMTO for one", () => {
    const result = check(
      "prices",
      parseCsv(
        "month,division,tariff,fixed,distribution,capacity,base,intermedia,punta,energy\n2026-06,Golfo Norte,GDMTH,1,2,3,1.1,2.2,,\n2026-06,Golfo Norte,GDMTO,1,2,3,,,,\n",
      ),
      { now },
    );
    expect(result).toEqual({
      ok: false,
      errors: [
        { line: 2, column: "punta", message: "punta is empty" },
        { line: 3, column: "energy", message: "energy is empty" },
      ],
    });
  });
});
