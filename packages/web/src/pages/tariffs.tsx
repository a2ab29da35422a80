/** A factory's tariff versions and prices; admins assign a definition or import a URDB rate. */
import { useTranslation } from "react-i18next";
import { api, ok, type Tariffs as TariffList } from "../api";
import { dayOf, fromLocal, monthName, periodName, unitPrice as price, tariffName } from "../format";
import { PageHeading } from "../heading";
import { useLoad } from "../hooks";
import { useFormOutcome } from "../problem";
import { LoadError } from "../states";
import { DataTable } from "../table";
import { ZoneNote } from "../zone";
import { CfePlanForm } from "./cfe-plan";
import { useFactoryPicker } from "./picker";

type Version = TariffList["versions"][number];

function Prices({ version, currency }: { version: Version; currency: string }) {
  const { t } = useTranslation("tariffs");
  const d = version.definition;
  if (d.kind === "flat")
    return (
      <p>
        {t("flatPrice")} <strong>{price(d.energyPrice, d.currency)}</strong> {t("perKwh", { currency: d.currency })}
      </p>
    );
  if (d.kind === "tou") {
    const latest = d.prices.at(-1);
    return (
      <div>
        <p>
          {d.name ?? t("timeOfUse")} · {t("seasons", { count: d.seasons.length })} · {t("priceSets", { count: d.prices.length })}
          {latest?.month ? `, ${t("latest", { month: monthName(latest.month) })}` : ""} · {t("currency", { currency: d.currency })}
        </p>
        <DataTable
          scroll="table-scroll"
          compact
          rows={[
            ...Object.entries(latest?.energy ?? {}).map(([period, tiers]) => ({
              key: period,
              name: periodName(period),
              prices: tiers.map((tier) => `${price(tier.price, d.currency)}${tier.upTo ? ` ${t("upTo", { kwh: tier.upTo })}` : ""}`).join(" · "),
            })),
            ...(latest?.demand ?? []).map((charge) => ({
              key: `demand-${charge.code}`,
              name: t("demandCharge", { code: charge.code }),
              prices: t("perKw", { prices: charge.tiers.map((tier) => price(tier.price, d.currency)).join(" · ") }),
            })),
          ]}
          rowKey={(row) => row.key}
          columns={[
            { header: t("period"), cell: (row) => row.name },
            { header: t("energyPerKwh"), num: true, cell: (row) => row.prices },
          ]}
        />
      </div>
    );
  }
  // The newest six months first; each month of a tariff has the same columns, whichever its kind.
  const recent: (typeof d.prices)[number][] = d.prices.slice(-6).reverse();
  return (
    <div>
      <p>
        {tariffName(d.kind, d.zone)} · {t("monthsOfPrices", { count: d.prices.length })}
      </p>
      <DataTable
        scroll="table-scroll"
        compact
        rows={recent}
        rowKey={(month) => month.month ?? ""}
        columns={[
          { header: t("month"), cell: (month) => monthName(month.month, "short") },
          { header: t("fixed"), num: true, cell: (month) => price(month.fixed, currency) },
          {
            header: t("energy"),
            num: true,
            cell: (month) =>
              typeof month.energy === "string"
                ? price(month.energy, currency)
                : `${t("periodInitial.base")} ${price(month.energy.base, currency)} · ${t("periodInitial.intermedia")} ${price(month.energy.intermedia, currency)} · ${t("periodInitial.punta")} ${price(month.energy.punta, currency)}`,
          },
          // PDBT has no per-kW charge; DIST and DIT a distribution one only when CFE prints it.
          { header: t("distribution"), num: true, cell: (month) => ("distribution" in month ? price(month.distribution ?? undefined, currency) : "—") },
          { header: t("capacity"), num: true, cell: (month) => ("capacity" in month ? price(month.capacity, currency) : "—") },
        ]}
      />
      <p className="muted small">{t("pricesNote", { currency })}</p>
    </div>
  );
}

export function Tariffs({ factoryId, admin }: { factoryId?: string; admin: boolean }) {
  const { t } = useTranslation("tariffs");
  const { selected, picker } = useFactoryPicker("tariffs", factoryId);
  const tariffs = useLoad(async () => (selected ? ok(api.v1.factories[":id"].tariffs.$get({ param: { id: selected.id } })) : undefined), [selected?.id]);
  const { submit, done, outcome } = useFormOutcome(tariffs.reload);
  // The wall time typed is the factory's, wherever the browser is.
  const effective = (form: FormData) => fromLocal(String(form.get("effectiveFrom")), selected?.timeZone ?? "UTC").toISOString();

  return (
    <section>
      <PageHeading title={t("title")}>{picker}</PageHeading>
      {outcome}
      <LoadError error={tariffs.error} />
      {tariffs.data && (
        <div className="card">
          <h2>
            {tariffs.data.factory.name}: {tariffName(tariffs.data.factory.tariffCode, tariffs.data.factory.tariffZone)}
          </h2>
          <ZoneNote zones={[tariffs.data.factory.timeZone]} />
          {tariffs.data.versions.length === 0 && <p className="muted">{t("noTariff")}</p>}
          {tariffs.data.versions.map((version) => (
            <div key={version.id} className={`version ${version.id === tariffs.data?.currentId ? "current" : ""}`} data-testid="tariff-version">
              <h3>
                <span data-testid="tariff-from">{t("from", { date: dayOf(version.effectiveFrom, tariffs.data?.factory.timeZone ?? "UTC") })}</span>{" "}
                {version.id === tariffs.data?.currentId && <span className="pill ok">{t("inForce")}</span>}
              </h3>
              <Prices version={version} currency={tariffs.data?.factory.currency ?? ""} />
            </div>
          ))}
        </div>
      )}
      {admin && selected && <CfePlanForm key={selected.id} factory={selected} onSaved={done} />}
      {admin && selected && (
        <details className="advanced">
          <summary>{t("plan.advanced")}</summary>
          <div className="grid-2">
            <form
              className="card form"
              aria-label={t("assign.title")}
              onSubmit={submit(async (form) => {
                const definition = JSON.parse(String(form.get("definition")));
                await ok(api.v1.factories[":id"].tariffs.$post({ param: { id: selected.id }, json: { effectiveFrom: effective(form), definition } }));
                return t("assign.done");
              })}
            >
              <h2>{t("assign.title")}</h2>
              <label>
                {t("effectiveFrom")} <input name="effectiveFrom" type="datetime-local" required />
              </label>
              <label>
                {t("assign.definition")}
                <textarea
                  name="definition"
                  rows={6}
                  required
                  defaultValue={JSON.stringify({ kind: "flat", currency: selected.currency, energyPrice: "2.1534" }, null, 2)}
                />
              </label>
              <button type="submit">{t("assign.submit")}</button>
            </form>
            <form
              className="card form"
              aria-label={t("urdb.title")}
              onSubmit={submit(async (form) => {
                const file = form.get("file");
                const text = file instanceof File && file.size > 0 ? await file.text() : String(form.get("rate") ?? "");
                const parsed = JSON.parse(text) as { items?: unknown[] };
                // URDB's API answers { items: [rate] }; a saved rate is the object itself.
                const rate = Array.isArray(parsed.items) ? parsed.items[0] : parsed;
                const result = await ok(
                  api.v1.factories[":id"].tariffs.urdb.$post({ param: { id: selected.id }, json: { effectiveFrom: effective(form), rate } }),
                );
                return result.warnings.length > 0 ? t("urdb.doneWithWarnings", { warnings: result.warnings.join("; ") }) : t("urdb.done");
              })}
            >
              <h2>{t("urdb.title")}</h2>
              <label>
                {t("effectiveFrom")} <input name="effectiveFrom" type="datetime-local" required />
              </label>
              <label>
                {t("urdb.file")} <input name="file" type="file" accept="application/json,.json" />
              </label>
              <label>
                {t("urdb.paste")}
                <textarea name="rate" rows={4} />
              </label>
              <button type="submit">{t("urdb.submit")}</button>
            </form>
          </div>
        </details>
      )}
    </section>
  );
}
