/**
 * The console's one list markup: a `table.data` described by its columns, so each page says what a row shows and not
 * how a table is drawn. A row can be swapped for its edit form (Setup's lists) or followed by a detail row (a meter's
 * gaps); an empty list shows the page's own words.
 */
import type { HTMLAttributes, ReactNode } from "react";

/** A row's own attributes: a test id or `data-status` for tests, a class such as `row-bad` for a stale gateway. */
export type RowProps = HTMLAttributes<HTMLTableRowElement> & { [data: `data-${string}`]: string | undefined };

export type Column<T> = {
  /** The header's words; none for a column of buttons. */
  header?: ReactNode;
  /** Figures (kWh, kW, MXN, counts): right-aligned, header included. */
  num?: boolean;
  /** More classes of the body cell (`small`, `actions`, `bad` for a difference). */
  className?: string | ((row: T) => string | undefined);
  /**
   * Left out on a phone (class `wide-only`, hidden under 760 px): detail a narrow screen can do without, so the
   * figures that matter (a bill line's amount) stay on screen instead of behind a sideways scroll.
   */
  wideOnly?: boolean;
  /** The cell's tooltip, e.g. the exact time behind "hace 3 min". */
  title?: (row: T) => string | undefined;
  cell(row: T): ReactNode;
};

export type DataTableProps<T> = {
  /** `false` entries are left out, so a column can depend on the user's role: `admin && { … }`. */
  columns: readonly (Column<T> | false)[];
  rows: readonly T[];
  rowKey(row: T): string;
  rowProps?(row: T): RowProps;
  /** The box around the table: `scroll` for a long list (its own vertical scroll), `table-scroll` scrolls sideways on a phone. */
  scroll?: "scroll" | "table-scroll";
  /** `table.compact`: as wide as its figures, not the card. */
  compact?: boolean;
  className?: string;
  testId?: string;
  /** Shown instead of the table when there are no rows (a muted sentence with the page's words). */
  empty?: ReactNode;
  /** Shown as the table's only row when there are no rows, under the headers. */
  emptyRow?: ReactNode;
  /** A form that takes the row's place (class `edit-row`, the table's full width) while the row is being edited. */
  editRow?(row: T): ReactNode;
  /** A full-width row under the row, e.g. a meter's gaps once asked for. */
  detailRow?(row: T): ReactNode;
  /** Rows under the body (`<tfoot>`), for totals. */
  footer?: ReactNode;
};

const classes = (...names: (string | false | undefined)[]) => names.filter(Boolean).join(" ") || undefined;

function cellClass<T>(column: Column<T>, row: T): string | undefined {
  const extra = typeof column.className === "function" ? column.className(row) : column.className;
  return classes(column.num && "num", column.wideOnly && "wide-only", extra);
}

/**
 * A `table.data` of `rows`, one cell per column. Example:
 * `<DataTable testId="runs-table" scroll="scroll" rows={runs} rowKey={(run) => run.id} columns={[{ header: t("kind"), cell: (run) => run.kind }]} />`
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const { rows, rowKey, rowProps, editRow, detailRow, empty, emptyRow, footer } = props;
  if (rows.length === 0 && empty !== undefined) return <>{empty}</>;
  const columns = props.columns.filter((column): column is Column<T> => column !== false);
  const wide = columns.length;
  const table = (
    <table className={classes("data", props.compact && "compact", props.className)} data-testid={props.testId}>
      {columns.some((column) => column.header !== undefined) && (
        <thead>
          <tr>
            {columns.map((column, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a table's columns are fixed; their order is their identity
              <th key={index} className={classes(column.num && "num", column.wideOnly && "wide-only")}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
      )}
      <tbody>
        {rows.length === 0 && emptyRow !== undefined && (
          <tr>
            <td colSpan={wide} className="muted">
              {emptyRow}
            </td>
          </tr>
        )}
        {rows.map((row) => {
          const key = rowKey(row);
          const form = editRow?.(row);
          if (form) {
            return (
              <tr key={key} className="edit-row">
                <td colSpan={wide}>{form}</td>
              </tr>
            );
          }
          const detail = detailRow?.(row);
          return [
            <tr key={key} {...rowProps?.(row)}>
              {columns.map((column, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a table's columns are fixed; their order is their identity
                <td key={index} className={cellClass(column, row)} title={column.title?.(row)}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>,
            detail ? (
              <tr key={`${key}/detail`}>
                <td colSpan={wide}>{detail}</td>
              </tr>
            ) : null,
          ];
        })}
      </tbody>
      {footer && <tfoot>{footer}</tfoot>}
    </table>
  );
  return props.scroll ? <div className={props.scroll}>{table}</div> : table;
}
