/**
 * Customer files as rows of text cells with their line numbers (the header is line 1): CSV
 * (RFC 4180: quotes, doubled quotes, CRLF, a BOM) and XLSX through exceljs (its first worksheet).
 */
import { Readable } from "node:stream";
import { importLimits } from "../config";
import { WattflowError } from "../util/error";
import { pacer } from "../util/pace";
import * as Zip from "./zip";

export type Table = { header: string[]; rows: { line: number; cells: string[] }[] };

export class ParseError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "import.unparseable";
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = "ParseError";
  }
}

export type Format = "csv" | "xlsx";

/** The format by file name, else by content (XLSX is a ZIP: "PK"). */
export function formatOf(fileName: string, bytes: Uint8Array): Format {
  if (/\.xlsx$/i.test(fileName)) return "xlsx";
  if (/\.(csv|txt)$/i.test(fileName)) return "csv";
  return bytes[0] === 0x50 && bytes[1] === 0x4b ? "xlsx" : "csv";
}

/**
 * The file as a table. Long files are read in slices that give the event loop a turn every
 * `importLimits.yieldEveryMs`, so the API keeps answering (/health within 1 s) while a 100 MB file
 * is parsed. XLSX files are checked before they are inflated (`checkXlsx`).
 * Throws ParseError naming the line (1 for a whole-file problem).
 */
export async function parse(format: Format, bytes: Uint8Array): Promise<Table> {
  return format === "xlsx" ? parseXlsx(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) : parseCsvYielding(Buffer.from(bytes).toString("utf8"));
}

/** CSV text → header and rows. Blank lines are skipped but still counted, so line numbers match an editor's. */
export function parseCsv(text: string): Table {
  const reader = csv(text);
  for (let step = reader.next(); ; step = reader.next()) if (step.done) return step.value;
}

async function parseCsvYielding(text: string): Promise<Table> {
  const pace = pacer();
  const reader = csv(text);
  for (let step = reader.next(); ; step = reader.next()) {
    if (step.done) return step.value;
    await pace();
  }
}

/** The CSV state machine; it pauses (yields) every 64 Ki characters so a caller can let others run. */
function* csv(text: string): Generator<void, Table> {
  const rows: { line: number; cells: string[] }[] = [];
  let header: string[] | undefined;
  let cells: string[] = [];
  let cell = "";
  let line = 1;
  let rowLine = 1;
  let quoted = false;
  let index = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    cells.push(cell);
    cell = "";
    const blank = cells.length === 1 && cells[0] === "";
    if (!blank) {
      if (header) rows.push({ line: rowLine, cells });
      else header = cells.map((name) => name.trim().toLowerCase());
    }
    cells = [];
  };
  for (; index < text.length; index++) {
    if ((index & 0xffff) === 0) yield;
    const char = text[index] as string;
    if (quoted) {
      if (char === '"') {
        if (text[index + 1] === '"') {
          cell += '"';
          index++;
        } else quoted = false;
      } else {
        if (char === "\n") line++;
        cell += char;
      }
      continue;
    }
    if (char === '"' && cell.length === 0) quoted = true;
    else if (char === ",") {
      cells.push(cell);
      cell = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[index + 1] === "\n") index++;
      endRow();
      line++;
      rowLine = line;
    } else cell += char;
  }
  if (quoted) throw new ParseError("a quoted field is not closed before the end of the file", rowLine);
  if (cell.length > 0 || cells.length > 0) endRow();
  if (!header) throw new ParseError("the file is empty: it needs a header line", 1);
  return { header, rows };
}

/**
 * Refuses a workbook before it is inflated: more than `importLimits.xlsxInflatedBytes` declared in the
 * ZIP's central directory (a zip bomb), or a worksheet whose `<dimension>` spans more than
 * `importLimits.xlsxRows` rows. Reads only the directory and the first few KB of each sheet.
 */
export function checkXlsx(bytes: Buffer): void {
  let entries: Zip.Entry[];
  try {
    entries = Zip.entries(bytes);
  } catch (error) {
    if (error instanceof Zip.ZipError) throw new ParseError(`not a readable XLSX workbook (${error.message})`, 1);
    throw error;
  }
  const inflated = entries.reduce((sum, entry) => sum + entry.inflatedBytes, 0);
  if (inflated > importLimits.xlsxInflatedBytes)
    throw new ParseError(`the workbook inflates to ${inflated} bytes, over the limit of ${importLimits.xlsxInflatedBytes}; split it or save it as CSV`, 1);
  for (const entry of entries.filter((found) => /^xl\/worksheets\/[^/]+\.xml$/.test(found.name))) {
    let rows: number | undefined;
    try {
      rows = Zip.dimensionRows(Zip.head(bytes, entry));
    } catch (error) {
      // A broken local header (ZipError) or deflate data (zlib's Z_* codes) is a file problem, not ours.
      if (error instanceof Zip.ZipError || String((error as NodeJS.ErrnoException).code).startsWith("Z_"))
        throw new ParseError(`not a readable XLSX workbook (${(error as Error).message})`, 1);
      throw error;
    }
    if (rows !== undefined && rows > importLimits.xlsxRows)
      throw new ParseError(`${entry.name} spans ${rows} rows, over the limit of ${importLimits.xlsxRows}; split it or save it as CSV`, 1);
  }
}

type SheetReader = AsyncIterable<{ number: number; values: unknown }> & { name?: string };

/** The first worksheet through exceljs's streaming reader: rows as they are inflated, never the whole workbook in memory. */
async function parseXlsx(bytes: Buffer): Promise<Table> {
  checkXlsx(bytes);
  const { default: ExcelJS } = await import("exceljs");
  const pace = pacer();
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([bytes]), {
    sharedStrings: "cache",
    styles: "cache",
    hyperlinks: "ignore",
    worksheets: "emit",
    entries: "ignore",
  });
  let header: string[] | undefined;
  const rows: { line: number; cells: string[] }[] = [];
  let done = false;
  try {
    for await (const found of reader) {
      const sheet = found as unknown as SheetReader;
      // The first worksheet in the workbook's order; the others are read past.
      const firstName = (reader as unknown as { model?: { sheets?: { name: string }[] } }).model?.sheets?.[0]?.name;
      const wanted = !done && (firstName === undefined || sheet.name === firstName);
      for await (const row of sheet) {
        await pace();
        if (!wanted) continue;
        if (row.number > importLimits.xlsxRows) throw new ParseError(`the worksheet has more than ${importLimits.xlsxRows} rows`, row.number);
        const cells = (Array.isArray(row.values) ? row.values.slice(1) : []).map(cellText);
        if (cells.every((cell) => cell === "")) continue;
        if (!header) {
          if (row.number !== 1) throw new ParseError("the header must be on row 1", row.number);
          header = cells.map((name) => name.trim().toLowerCase());
        } else rows.push({ line: row.number, cells });
      }
      if (wanted) done = true;
    }
  } catch (error) {
    if (error instanceof ParseError) throw error;
    throw new ParseError(`not a readable XLSX workbook (${(error as Error).message})`, 1);
  }
  if (!header) throw new ParseError("the first worksheet is empty: it needs a header row", 1);
  return { header, rows };
}

/**
 * A cell as text, formulas by their result. Excel date-times carry no zone (exceljs hands them over
 * as UTC fields): written back without one, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, they are read as the
 * factory's wall-clock time, never as UTC.
 */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 19);
  }
  if (typeof value === "object") {
    const object = value as { result?: unknown; text?: unknown; richText?: { text: string }[] };
    if ("result" in object) return cellText(object.result);
    if (object.richText) return object.richText.map((part) => part.text).join("");
    if (typeof object.text === "string") return object.text;
    return "";
  }
  return String(value);
}
