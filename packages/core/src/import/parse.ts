/**
 * Customer files as rows of text cells with their line numbers (the header is line 1): CSV
 * (RFC 4180: quotes, doubled quotes, CRLF, a BOM) and XLSX through exceljs (its first worksheet).
 */
export type Table = { header: string[]; rows: { line: number; cells: string[] }[] };

export class ParseError extends Error {
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

export async function parse(format: Format, bytes: Uint8Array): Promise<Table> {
  return format === "xlsx" ? parseXlsx(bytes) : parseCsv(Buffer.from(bytes).toString("utf8"));
}

/** CSV text → header and rows. Blank lines are skipped but still counted, so line numbers match an editor's. */
export function parseCsv(text: string): Table {
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

async function parseXlsx(bytes: Uint8Array): Promise<Table> {
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  } catch (error) {
    throw new ParseError(`not a readable XLSX workbook (${(error as Error).message})`, 1);
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new ParseError("the workbook has no worksheet", 1);
  let header: string[] | undefined;
  const rows: { line: number; cells: string[] }[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    const values = Array.isArray(row.values) ? row.values.slice(1) : [];
    const cells = values.map(cellText);
    if (!header) {
      if (number !== 1) throw new ParseError("the header must be on row 1", number);
      header = cells.map((name) => name.trim().toLowerCase());
    } else rows.push({ line: number, cells });
  });
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
