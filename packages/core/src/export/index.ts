/**
 * Exports for people outside the console: a stored bill as a PDF a finance team files (`billSheet`, `billPdf`), and
 * readings and usage as streamed CSV (`readingsCsv`, `usageCsv`). Every function is org-scoped.
 */

export { fileName as billFileName, pdf as billPdf, sheet as billSheet } from "./bill";
export { Bom, type CsvFile, meterFactory, ReadingsQuery, readingColumns, readingsCsv, UsageQuery, usageColumns, usageCsv } from "./csv";
export * as Format from "./format";
export * as Export from "./index";
