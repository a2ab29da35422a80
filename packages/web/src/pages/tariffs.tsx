/** A factory's tariff versions and prices; admins assign a definition or import a URDB rate. */
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, ok, type Tariffs as TariffList } from "../api";
import { fromLocal, when } from "../format";
import { useLoad } from "../hooks";
import { ProblemBox, type Shown, shown } from "../problem";
import { CfePlanForm } from "./cfe-plan";
import { useFactoryPicker } from "./picker";

type Version = TariffList["versions"][number];

function Prices({ version, currency }: { version: Version; currency: string }) {
  const d = version.definition;
  if (d.kind === "flat")
    return (
      <p>
        Flat energy price <strong>{d.energyPrice}</strong> {d.currency}/kWh
      </p>
    );
  if (d.kind === "tou") {
    const latest = d.prices.at(-1);
    return (
      <div>
        <p>
          {d.name ?? "Time of use"} · {d.seasons.length} season(s) · {d.prices.length} price set(s){latest?.month ? `, latest ${latest.month}` : ""} · currency{" "}
          {d.currency}
        </p>
        <table className="data compact">
          <thead>
            <tr>
              <th>Period</th>
              <th className="num">Energy price per kWh</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(latest?.energy ?? {}).map(([period, tiers]) => (
              <tr key={period}>
                <td>{period}</td>
                <td className="num">{tiers.map((tier) => `${tier.price}${tier.upTo ? ` up to ${tier.upTo} kWh` : ""}`).join(" · ")}</td>
              </tr>
            ))}
            {(latest?.demand ?? []).map((charge) => (
              <tr key={`demand-${charge.code}`}>
                <td>demand {charge.code}</td>
                <td className="num">{charge.tiers.map((tier) => tier.price).join(" · ")} per kW</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <div>
      <p>
        {d.kind.toUpperCase()} · zone {d.zone} · {d.prices.length} month(s) of prices
      </p>
      <table className="data compact">
        <thead>
          <tr>
            <th>Month</th>
            <th className="num">Fixed</th>
            <th className="num">Energy</th>
            <th className="num">Distribution /kW</th>
            <th className="num">Capacity /kW</th>
          </tr>
        </thead>
        <tbody>
          {d.prices
            .slice(-6)
            .reverse()
            .map((month) => (
              <tr key={month.month}>
                <td>{month.month}</td>
                <td className="num">{month.fixed}</td>
                <td className="num">
                  {typeof month.energy === "string" ? month.energy : `B ${month.energy.base} · I ${month.energy.intermedia} · P ${month.energy.punta}`}
                </td>
                {/* PDBT has no per-kW charge; DIST and DIT a distribution one only when CFE prints it. */}
                <td className="num">{"distribution" in month ? (month.distribution ?? "—") : "—"}</td>
                <td className="num">{"capacity" in month ? month.capacity : "—"}</td>
              </tr>
            ))}
        </tbody>
      </table>
      <p className="muted small">Prices in {currency}. CFE publishes prices monthly: import them as a price table on the Imports page.</p>
    </div>
  );
}

export function Tariffs({ factoryId, admin }: { factoryId?: string; admin: boolean }) {
  const { t } = useTranslation("tariffs");
  const { selected, picker } = useFactoryPicker("tariffs", factoryId);
  const tariffs = useLoad(async () => (selected ? ok(api.v1.factories[":id"].tariffs.$get({ param: { id: selected.id } })) : undefined), [selected?.id]);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<Shown>();

  const submit = (run: (form: FormData) => Promise<string>) => async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    setNotice(undefined);
    setError(undefined);
    try {
      setNotice(await run(new FormData(element)));
      element.reset();
      tariffs.reload();
    } catch (failure) {
      setError(shown(failure));
    }
  };
  // The wall time typed is the factory's, wherever the browser is.
  const effective = (form: FormData) => fromLocal(String(form.get("effectiveFrom")), selected?.timeZone ?? "UTC").toISOString();

  return (
    <section>
      <div className="heading">
        <h1>Tariffs</h1>
        {picker}
      </div>
      <ProblemBox error={error} />
      {notice && <p className="notice">{notice}</p>}
      {tariffs.error && <p className="error">{tariffs.error.message}</p>}
      {tariffs.data && (
        <div className="card">
          <h2>
            {tariffs.data.factory.name}: {tariffs.data.factory.tariffCode}
          </h2>
          {tariffs.data.versions.length === 0 && <p className="muted">No tariff assigned: readings are stored without a cost.</p>}
          {tariffs.data.versions.map((version) => (
            <div key={version.id} className={`version ${version.id === tariffs.data?.currentId ? "current" : ""}`} data-testid="tariff-version">
              <h3>
                From {when(version.effectiveFrom, tariffs.data?.factory.timeZone)}{" "}
                {version.id === tariffs.data?.currentId && <span className="pill ok">in force</span>}
              </h3>
              <Prices version={version} currency={tariffs.data?.factory.currency ?? ""} />
            </div>
          ))}
        </div>
      )}
      {admin && selected && (
        <CfePlanForm
          key={selected.id}
          factory={selected}
          onSaved={(message) => {
            setError(undefined);
            setNotice(message);
            tariffs.reload();
          }}
        />
      )}
      {admin && selected && (
        <details className="advanced">
          <summary>{t("plan.advanced")}</summary>
          <div className="grid-2">
            <form
              className="card form"
              aria-label="Assign a tariff"
              onSubmit={submit(async (form) => {
                const definition = JSON.parse(String(form.get("definition")));
                await ok(api.v1.factories[":id"].tariffs.$post({ param: { id: selected.id }, json: { effectiveFrom: effective(form), definition } }));
                return "Tariff assigned.";
              })}
            >
              <h2>Assign a tariff</h2>
              <label>
                Effective from (factory time) <input name="effectiveFrom" type="datetime-local" required />
              </label>
              <label>
                Definition (JSON)
                <textarea
                  name="definition"
                  rows={6}
                  required
                  defaultValue={JSON.stringify({ kind: "flat", currency: selected.currency, energyPrice: "2.1534" }, null, 2)}
                />
              </label>
              <button type="submit">Assign</button>
            </form>
            <form
              className="card form"
              aria-label="Import a URDB rate"
              onSubmit={submit(async (form) => {
                const file = form.get("file");
                const text = file instanceof File && file.size > 0 ? await file.text() : String(form.get("rate") ?? "");
                const parsed = JSON.parse(text) as { items?: unknown[] };
                // URDB's API answers { items: [rate] }; a saved rate is the object itself.
                const rate = Array.isArray(parsed.items) ? parsed.items[0] : parsed;
                const result = await ok(
                  api.v1.factories[":id"].tariffs.urdb.$post({ param: { id: selected.id }, json: { effectiveFrom: effective(form), rate } }),
                );
                return result.warnings.length > 0 ? `URDB rate imported, with warnings: ${result.warnings.join("; ")}` : "URDB rate imported.";
              })}
            >
              <h2>Import a URDB rate</h2>
              <label>
                Effective from (factory time) <input name="effectiveFrom" type="datetime-local" required />
              </label>
              <label>
                Rate file (JSON from OpenEI) <input name="file" type="file" accept="application/json,.json" />
              </label>
              <label>
                …or paste it
                <textarea name="rate" rows={4} />
              </label>
              <button type="submit">Import</button>
            </form>
          </div>
        </details>
      )}
    </section>
  );
}
