/**
 * The month's itemized bill (from the monthly close) beside the utility's, line by line, with the differences. Every
 * amount is the API's decimal text as stored; the one figure computed here (a difference of two stored totals) is
 * exact, to the cent as the bill rounds (core Cents), never float arithmetic.
 */
import { Cents } from "@wattflow/core/util/cents";
import Decimal from "decimal.js";
import { useTranslation } from "react-i18next";
import { api, type Bills as BillList, ok } from "../api";
import { date, lastDayOf, money, monthName, num, quantity, unitPrice, when } from "../format";
import { PageHeading } from "../heading";
import { useLoad } from "../hooks";
import { currentLanguage, i18n } from "../i18n";
import { LoadError } from "../states";
import { DataTable } from "../table";
import { ZoneNote } from "../zone";
import { useFactoryPicker } from "./picker";

type Line = BillList["bills"][number]["lines"][number];

/** Lines that sum others (their quantity is 1 and their price their amount): nothing to show per unit. */
const sums = new Set(["subtotal", "total"]);

/**
 * A line's quantity as CFE prints it: kWh and kW as numbers with their unit, "1 mes" for a monthly charge, and for a
 * charge on an amount (IVA, the power-factor charge, a surcharge) that amount in money; "—" for the summing lines.
 */
function lineQuantity(line: Line, currency: string): string {
  if (line.quantity === null) return "—";
  if (line.unit === currency) return sums.has(line.code) ? "—" : money(line.quantity, currency);
  if (line.unit === "month") return i18n.t("units.month", { ns: "bills", count: Number(line.quantity), n: quantity(line.quantity) });
  return `${quantity(line.quantity)} ${line.unit ?? ""}`.trim();
}

/** A line's unit price: money per kWh, kW or month; for a charge on an amount its rate as a percentage ("16 %"). */
function linePrice(line: Line, currency: string): string {
  if (line.unitPrice === null || sums.has(line.code)) return "—";
  // The rate × 100 in decimals: 0.0115 × 100 in floats is 1.1500000000000001, which would print "1.150 %".
  if (line.unit === currency) return `${quantity(new Decimal(line.unitPrice).times(100).toFixed())} %`;
  return unitPrice(line.unitPrice, currency);
}

/** The bill's PDF (GET /v1/factories/:id/bills/:billId.pdf): the session cookie goes with a plain link. */
const pdfHref = (factoryId: string, billId: string) => `/v1/factories/${encodeURIComponent(factoryId)}/bills/${encodeURIComponent(billId)}.pdf`;

export function Bills({ factoryId }: { factoryId?: string }) {
  const { t } = useTranslation("bills");
  const { selected, picker } = useFactoryPicker("bills", factoryId);
  const bills = useLoad(async () => (selected ? ok(api.v1.factories[":id"].bills.$get({ param: { id: selected.id } })) : undefined), [selected?.id]);
  const months = [...new Set(bills.data?.bills.map((bill) => bill.month))];
  const zone = selected?.timeZone;
  // The API names each line as CFE prints it (Spanish) and in English: show the console's language, the other on hover.
  const [shown, other] = currentLanguage() === "en" ? (["en", "es"] as const) : (["es", "en"] as const);
  return (
    <section>
      <PageHeading title={t("title")}>{picker}</PageHeading>
      {months.length > 0 && <ZoneNote zones={[zone]} />}
      <LoadError error={bills.error} />
      {bills.data && months.length === 0 && (
        <p className="muted">
          {t("none")} <a href="#/imports">{t("importsLink")}</a>
        </p>
      )}
      {months.map((month) => {
        const ours = bills.data?.bills.find((bill) => bill.month === month && bill.source === "wattflow");
        const theirs = bills.data?.bills.find((bill) => bill.month === month && bill.source === "utility");
        const currency = ours?.currency ?? theirs?.currency ?? "";
        const period = ours ?? theirs;
        const lines = ours?.lines ?? theirs?.lines ?? [];
        return (
          <div className="card" key={month} data-testid="bill" data-month={month}>
            <div className="card-title">
              <h2>{monthName(month)}</h2>
              {period?.periodStart && (
                <span className="muted small" data-testid="bill-period">
                  {t("period", { from: date(period.periodStart), to: date(lastDayOf(period.periodEnd)) })}
                </span>
              )}
              <span className="muted small" data-testid="bill-status">
                {ours ? t(`status.${ours.status}`) : t("notClosed")}
                {ours?.closedAt ? ` ${when(ours.closedAt, zone)}` : ""}
                {ours?.reopenedAt ? ` · ${t("reopened", { at: when(ours.reopenedAt, zone) })}` : ""}
                {theirs ? ` · ${t("utilityImported")}` : ""}
              </span>
              {selected && ours && (
                <a className="small" href={pdfHref(selected.id, ours.id)} download data-testid="bill-pdf">
                  PDF
                </a>
              )}
              {selected && theirs && (
                <a className="small" href={pdfHref(selected.id, theirs.id)} download>
                  {t("utilityPdf")}
                </a>
              )}
            </div>
            {ours?.coverageLow && ours.coverage !== null && (
              <p className="warning small" role="status" data-testid="bill-coverage">
                {t("coverageLow", { percent: num(Number(ours.coverage) * 100, 1), readings: num(ours.readings ?? 0) })}
              </p>
            )}
            {ours?.estimatedKwh && Number(ours.estimatedKwh) > 0 && (
              <p className="muted small" data-testid="bill-estimated">
                {t("estimated", { kwh: num(Number(ours.estimatedKwh), 1) })}
              </p>
            )}
            <DataTable
              scroll="table-scroll"
              className="bill-lines"
              rows={lines}
              rowKey={(line) => line.code}
              columns={[
                { header: t("line"), title: (line) => line.name[other], cell: (line) => line.name[shown] },
                { header: t("quantity"), num: true, wideOnly: true, cell: (line) => lineQuantity(line, currency) },
                { header: t("unitPrice"), num: true, wideOnly: true, cell: (line) => linePrice(line, currency) },
                // Only the columns this month has: Wattflow's bill, the utility's, and their difference when both exist.
                !!ours && { header: "Wattflow", num: true, cell: (line) => money(line.amount, currency) },
                !!theirs && { header: t("utility"), num: true, cell: (line) => money(ours ? line.utilityAmount : line.amount, currency) },
                !!ours &&
                  !!theirs && {
                    header: t("difference"),
                    num: true,
                    className: (line) => (line.difference && Number(line.difference) !== 0 ? "bad" : undefined),
                    cell: (line) => money(line.difference, currency),
                  },
              ]}
              // Bills closed before their lines carried the subtotal, IVA and total show them here.
              footer={
                !lines.some((line) => line.code === "total") &&
                (["subtotal", "pfAdjustment", "iva", "total"] as const).map((key) => (
                  <tr key={key}>
                    <th>{t(`totals.${key}`)}</th>
                    <td className="wide-only" />
                    <td className="wide-only" />
                    {ours && <td className="num">{money(ours[key], currency)}</td>}
                    {theirs && <td className="num">{money(theirs[key], currency)}</td>}
                    {ours && theirs && (
                      <td className="num" data-testid={`bill-total-difference-${key}`}>
                        {money(Cents.difference(ours[key], theirs[key]), currency)}
                      </td>
                    )}
                  </tr>
                ))
              }
            />
          </div>
        );
      })}
    </section>
  );
}
