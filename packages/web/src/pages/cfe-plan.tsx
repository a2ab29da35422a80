/**
 * A CFE plan as a form: tariff, division (the factory's municipality's, another only where the catalogue bills it
 * there), contracted demand, supply voltage, the date it is in force from (sent as a date), and prices: CFE's
 * published months or months typed in. Problems come back per field (`prices.months.1.fixed` beside that cell).
 */
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, type Factories, type Locations, ok } from "../api";
import { ContractFields } from "../contract-fields";
import { Field, FieldError, FieldForm, FormError } from "../fields";
import { date } from "../format";
import { useLoad } from "../hooks";
import { Options } from "../options";
import { divisionsFor } from "./setup-lists";

type Factory = Factories["factories"][number];
const tariffs = ["cfe-gdmth", "cfe-gdmto", "cfe-gdbt", "cfe-pdbt", "cfe-dist", "cfe-dit"] as const;
type Tariff = (typeof tariffs)[number];

/** The price columns of a tariff's month (Tariff.GdmthPrices, GdmtoPrices, PdbtPrices, HighVoltagePrices). */
function columnsOf(tariff: Tariff): string[] {
  if (tariff === "cfe-pdbt") return ["fixed", "energy"];
  if (tariff === "cfe-gdmto" || tariff === "cfe-gdbt") return ["fixed", "distribution", "capacity", "energy"];
  return ["fixed", "distribution", "capacity", "base", "intermedia", "punta"];
}
const periods = new Set(["base", "intermedia", "punta"]);

/** A typed-in month as the API takes it: energy per period for the hourly tariffs, one energy price otherwise. */
function monthOf(tariff: Tariff, row: Record<string, string>) {
  const month: Record<string, unknown> = { month: row.month };
  for (const column of columnsOf(tariff)) if (!periods.has(column) && row[column] !== "") month[column] = row[column];
  if (columnsOf(tariff).includes("base")) month.energy = { base: row.base ?? "", intermedia: row.intermedia ?? "", punta: row.punta ?? "" };
  return month;
}
const pathOf = (index: number, column: string) => `prices.months.${index}.${periods.has(column) ? `energy.${column}` : column}`;

/** Today's date on the factory's clock (a plan in force "from today" means the factory's today, not UTC's). */
const today = (timeZone: string) => new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());

export function CfePlanForm({ factory, onSaved }: { factory: Factory; onSaved(message: string): void }) {
  const { t } = useTranslation("tariffs");
  const locations = useLoad(() => ok(api.v1.locations.$get()), []);
  const [tariff, setTariff] = useState<Tariff>(factory.tariffCode.startsWith("cfe-") ? (factory.tariffCode as Tariff) : "cfe-gdmth");
  const [source, setSource] = useState<"published" | "entered">("published");
  const [rows, setRows] = useState<Record<string, string>[]>([{ month: today(factory.timeZone).slice(0, 7) }]);
  const divisionId = useId();
  const place = factory.state && factory.municipality ? `${factory.state}|${factory.municipality}` : "";
  const divisions = divisionsFor(locations.data as Locations | undefined, place);
  const columns = columnsOf(tariff);
  const fields = ["tariff", "division", "tariffDivision", "contractedDemandKw", "supplyVoltage", "effectiveFrom", "prices.source", "prices.months"];
  for (const [index] of rows.entries()) for (const column of ["month", ...columns]) fields.push(pathOf(index, column));

  const save = async (form: FormData) => {
    const division = String(form.get("division") ?? "");
    const saved = await ok(
      api.v1.factories[":id"].tariffs.cfe.$post({
        param: { id: factory.id },
        json: {
          tariff,
          ...(division && division !== factory.tariffDivision && { division }),
          contractedDemandKw: Number(form.get("contractedDemandKw") || Number.NaN),
          supplyVoltage: String(form.get("supplyVoltage")) === "high" ? "high" : "medium",
          effectiveFrom: String(form.get("effectiveFrom") ?? ""),
          prices: source === "published" ? { source } : { source, months: rows.map((row) => monthOf(tariff, row)) },
        },
      }),
    );
    onSaved(
      t("plan.saved", {
        tariff: t(`plan.tariffs.${tariff}`),
        date: date(saved.effectiveDate),
        count: "prices" in saved.definition ? saved.definition.prices.length : 0,
      }),
    );
  };
  const setCell = (index: number, column: string, value: string) =>
    setRows((previous) => previous.map((row, i) => (i === index ? { ...row, [column]: value } : row)));

  return (
    <FieldForm className="card form" aria-label={t("plan.title")} fields={fields} onSave={save}>
      <h2>{t("plan.title")}</h2>
      <FormError />
      <div className="row">
        <Field label={t("plan.tariff")} path="tariff">
          <select name="tariff" value={tariff} onChange={(event) => setTariff(event.target.value as Tariff)}>
            <Options values={tariffs} label={(kind) => t(`plan.tariffs.${kind}`)} />
          </select>
        </Field>
        <Field label={t("plan.division")} path={["division", "tariffDivision"]} htmlFor={divisionId}>
          {divisions.length <= 1 ? (
            <input id={divisionId} name="division" value={divisions[0] ?? factory.tariffDivision ?? ""} readOnly aria-readonly="true" />
          ) : (
            <select id={divisionId} name="division" defaultValue={factory.tariffDivision ?? ""}>
              <Options values={divisions} />
            </select>
          )}
          <span className="muted small">
            {factory.municipality ? t("plan.divisionFrom", { municipality: `${factory.municipality} (${factory.state})` }) : t("plan.noMunicipality")}
          </span>
        </Field>
      </div>
      <div className="row">
        <ContractFields factory={factory} namespace="tariffs" prefix="plan" optionalVoltage={false} />
        <Field label={t("plan.effectiveFrom")} path="effectiveFrom">
          <input name="effectiveFrom" type="date" defaultValue={today(factory.timeZone)} />
        </Field>
      </div>
      <fieldset>
        <legend>{t("plan.prices")}</legend>
        <label className="choice">
          <input type="radio" name="source" value="published" checked={source === "published"} onChange={() => setSource("published")} /> {t("plan.published")}
        </label>{" "}
        <label className="choice">
          <input type="radio" name="source" value="entered" checked={source === "entered"} onChange={() => setSource("entered")} /> {t("plan.entered")}
        </label>
        <FieldError path="prices.source" />
        {source === "entered" && (
          <div className="scroll">
            <table className="data compact" data-testid="plan-months">
              <thead>
                <tr>
                  <th>{t("plan.month")}</th>
                  {columns.map((column) => (
                    <th key={column} className="num">
                      {t(`plan.columns.${column}`)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows are only appended, never reordered
                  <tr key={index}>
                    <td>
                      <input
                        type="month"
                        aria-label={t("plan.monthN", { n: index + 1 })}
                        value={row.month ?? ""}
                        onChange={(event) => setCell(index, "month", event.target.value)}
                      />
                      <FieldError path={pathOf(index, "month")} />
                    </td>
                    {columns.map((column) => (
                      <td key={column}>
                        <input
                          inputMode="decimal"
                          aria-label={t("plan.cell", { column: t(`plan.columns.${column}`), n: index + 1 })}
                          value={row[column] ?? ""}
                          onChange={(event) => setCell(index, column, event.target.value.trim())}
                        />
                        <FieldError path={pathOf(index, column)} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
            <button type="button" className="secondary" onClick={() => setRows((previous) => [...previous, { month: "" }])}>
              {t("plan.addMonth")}
            </button>
            <FieldError path="prices.months" />
          </div>
        )}
      </fieldset>
      <button type="submit">{t("plan.assign")}</button>
    </FieldForm>
  );
}
