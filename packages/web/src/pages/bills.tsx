/** The month's itemized bill (from the monthly close) beside the utility's, line by line, with the differences. */
import { api, ok } from "../api";
import { money, num, when } from "../format";
import { useLoad } from "../hooks";
import { useFactoryPicker } from "./picker";

/** The page's words, in one place for translation (issue 16). */
const text = { estimated: (kwh: string) => `includes ${kwh} kWh estimated (spread from gap readings), not measured` } as const;

export function Bills({ factoryId }: { factoryId?: string }) {
  const { selected, picker } = useFactoryPicker("bills", factoryId);
  const bills = useLoad(async () => (selected ? ok(api.v1.factories[":id"].bills.$get({ param: { id: selected.id } })) : undefined), [selected?.id]);
  const months = [...new Set(bills.data?.bills.map((bill) => bill.month))];
  return (
    <section>
      <div className="heading">
        <h1>Bills</h1>
        {picker}
      </div>
      {bills.error && <p className="error">{bills.error.message}</p>}
      {bills.data && months.length === 0 && (
        <p className="muted">
          No bills yet: the monthly close computes each month's bill after it ends; import the utility's bill on the <a href="#/imports">Imports</a> page to
          reconcile.
        </p>
      )}
      {months.map((month) => {
        const ours = bills.data?.bills.find((bill) => bill.month === month && bill.source === "wattflow");
        const theirs = bills.data?.bills.find((bill) => bill.month === month && bill.source === "utility");
        const currency = ours?.currency ?? theirs?.currency ?? "";
        return (
          <div className="card" key={month} data-testid="bill">
            <div className="card-title">
              <h2>{month}</h2>
              {(ours ?? theirs)?.periodStart && (
                <span className="muted small">
                  {(ours ?? theirs)?.periodStart} → {(ours ?? theirs)?.periodEnd}
                </span>
              )}
              <span className="muted small">
                {ours
                  ? `${ours.status}${ours.closedAt ? ` ${when(ours.closedAt)}` : ""}${ours.reopenedAt ? ` · reopened ${when(ours.reopenedAt)} (late readings)` : ""}`
                  : "not closed yet"}
                {theirs ? " · utility bill imported" : ""}
              </span>
            </div>
            {ours?.estimatedKwh && Number(ours.estimatedKwh) > 0 && (
              <p className="muted small" data-testid="bill-estimated">
                {text.estimated(num(Number(ours.estimatedKwh), 1))}
              </p>
            )}
            <table className="data">
              <thead>
                <tr>
                  <th>Line</th>
                  <th className="num">Quantity</th>
                  <th className="num">Unit price</th>
                  <th className="num">Wattflow</th>
                  <th className="num">Utility</th>
                  <th className="num">Difference</th>
                </tr>
              </thead>
              <tbody>
                {(ours?.lines ?? theirs?.lines ?? []).map((line) => (
                  <tr key={line.code}>
                    <td title={line.name.en}>{line.name.es}</td>
                    <td className="num">
                      {line.quantity} {line.unit}
                    </td>
                    <td className="num">{line.unitPrice}</td>
                    <td className="num">{ours ? money(line.amount, currency) : "—"}</td>
                    <td className="num">{money(ours ? line.utilityAmount : line.amount, currency)}</td>
                    <td className={`num ${line.difference && Number(line.difference) !== 0 ? "bad" : ""}`}>{money(line.difference, currency)}</td>
                  </tr>
                ))}
              </tbody>
              {/* Bills closed before their lines carried the subtotal, IVA and total show them here. */}
              {!(ours?.lines ?? theirs?.lines ?? []).some((line) => line.code === "total") && (
                <tfoot>
                  {(["subtotal", "pfAdjustment", "iva", "total"] as const).map((key) => (
                    <tr key={key}>
                      <th colSpan={3}>{{ subtotal: "Subtotal", pfAdjustment: "Power factor adjustment", iva: "IVA", total: "Total" }[key]}</th>
                      <td className="num">{money(ours?.[key], currency)}</td>
                      <td className="num">{money(theirs?.[key], currency)}</td>
                      <td className="num">{ours && theirs ? money((Number(ours[key]) - Number(theirs[key])).toFixed(2), currency) : "—"}</td>
                    </tr>
                  ))}
                </tfoot>
              )}
            </table>
          </div>
        );
      })}
    </section>
  );
}
