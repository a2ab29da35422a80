/**
 * The console's list markup (src/table.tsx) rendered to HTML as React renders it: which cells, classes and full-width
 * rows a DataTable writes. The expected markup is written out by hand from the `table.data` rules in src/style.css
 * (`.num` right-aligns a figure and its header; `tr.edit-row` marks a row's edit form; `.muted` an empty list's words).
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { DataTable, type DataTableProps } from "../src/table";

type Meter = { id: string; name: string; kwh: number };
const meters: Meter[] = [
  { id: "mtr_1", name: "Compresor 1", kwh: 120 },
  { id: "mtr_2", name: "Chiller 2", kwh: 80 },
];
const base: DataTableProps<Meter> = {
  rows: meters,
  rowKey: (meter) => meter.id,
  columns: [
    { header: "Medidor", cell: (meter) => meter.name },
    { header: "kWh", num: true, cell: (meter) => String(meter.kwh) },
  ],
};
const html = (props: Partial<DataTableProps<Meter>> = {}) => renderToStaticMarkup(createElement(DataTable<Meter>, { ...base, ...props }));

describe("DataTable", () => {
  it("writes a header per column and a row per item, figures right-aligned", () => {
    const markup = html({ testId: "meters-table", rowProps: (meter) => ({ "data-testid": "meter-row", "data-id": meter.id }) });

    expect(markup).toBe(
      '<table class="data" data-testid="meters-table"><thead><tr><th>Medidor</th><th class="num">kWh</th></tr></thead><tbody>' +
        '<tr data-testid="meter-row" data-id="mtr_1"><td>Compresor 1</td><td class="num">120</td></tr>' +
        '<tr data-testid="meter-row" data-id="mtr_2"><td>Chiller 2</td><td class="num">80</td></tr></tbody></table>',
    );
  });

  it("wraps the table in its scroll box and marks a compact table", () => {
    const markup = html({ scroll: "table-scroll", compact: true, className: "gaps" });

    expect(markup.startsWith('<div class="table-scroll"><table class="data compact gaps"><thead>')).toBe(true);
    expect(markup.endsWith("</table></div>")).toBe(true);
  });

  it("leaves out a column given as false, header and cells", () => {
    const admin = false;
    const markup = html({ columns: [...base.columns, admin && { cell: () => "Revocar" }] });

    expect(markup).not.toContain("Revocar");
    expect(markup.match(/<th[ >]/g)).toHaveLength(2);
  });

  it("shows the page's words instead of the table when the list is empty", () => {
    const markup = html({ rows: [], empty: createElement("p", { className: "muted" }, "Sin medidores") });

    expect(markup).toBe('<p class="muted">Sin medidores</p>');
  });

  it("shows an empty list's words as one muted row across every column, under the headers", () => {
    const markup = html({ rows: [], emptyRow: "Sin medidores" });

    expect(markup).toContain('</thead><tbody><tr><td colSpan="2" class="muted">Sin medidores</td></tr></tbody>');
  });

  it("puts the edit form in place of the row being edited, across the table's width", () => {
    const markup = html({ columns: [...base.columns, { cell: () => "Editar" }], editRow: (meter) => meter.id === "mtr_2" && "form" });

    // Three columns (name, kWh, the Edit button): the form spans all three.
    expect(markup).toContain('<tr class="edit-row"><td colSpan="3">form</td></tr>');
    expect(markup).toContain("<td>Compresor 1</td>");
    expect(markup).not.toContain("<td>Chiller 2</td>");
  });

  it("adds a detail row under its row, and a cell's class and title from the row", () => {
    const markup = html({
      columns: [
        { header: "Medidor", title: (meter) => meter.id, cell: (meter) => meter.name },
        { header: "kWh", num: true, className: (meter) => (meter.kwh > 100 ? "bad" : undefined), cell: (meter) => String(meter.kwh) },
      ],
      detailRow: (meter) => meter.id === "mtr_1" && "gaps",
    });

    expect(markup).toContain(
      '<tr><td title="mtr_1">Compresor 1</td><td class="num bad">120</td></tr><tr><td colSpan="2">gaps</td></tr><tr><td title="mtr_2">Chiller 2</td><td class="num">80</td></tr>',
    );
  });

  it("writes no header row when no column has a header", () => {
    const markup = html({ columns: [{ cell: (meter) => meter.name }] });

    expect(markup).toBe('<table class="data"><tbody><tr><td>Compresor 1</td></tr><tr><td>Chiller 2</td></tr></tbody></table>');
  });

  it("writes the footer rows under the body", () => {
    const markup = html({ footer: createElement("tr", null, createElement("th", { colSpan: 2 }, "Total")) });

    expect(markup.endsWith('</tbody><tfoot><tr><th colSpan="2">Total</th></tr></tfoot></table>')).toBe(true);
  });
});
