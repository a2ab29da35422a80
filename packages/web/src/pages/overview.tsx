/** Every factory at a glance: today, the month so far and where it is heading, demand against contract, power factor. */
import { useTranslation } from "react-i18next";
import { api, ok } from "../api";
import { date, lastDayOf, money, num, percent, when } from "../format";
import { PageHeading } from "../heading";
import { useLoad } from "../hooks";
import { LoadError } from "../states";
import { ZoneNote } from "../zone";
import { alertText, OverviewAlerts } from "./alerts";

export function OverviewPage({ canHandle }: { canHandle: boolean }) {
  const { t } = useTranslation("overview");
  const { t: tAlerts } = useTranslation("alerts");
  const overview = useLoad(() => ok(api.v1.overview.$get()), []);
  const alerts = useLoad(() => ok(api.v1.alerts.$get({ query: { status: "unresolved" } })), []);
  if (overview.error) return <LoadError error={overview.error} />;
  if (!overview.data) return <p className="muted">{t("loading")}</p>;
  const { factories } = overview.data;
  return (
    <section>
      <PageHeading title={t("title")}>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            overview.reload();
            alerts.reload();
          }}
          disabled={overview.loading}
        >
          {t("refresh")}
        </button>
      </PageHeading>
      <ZoneNote zones={factories.map((factory) => factory.timeZone)} />
      {factories.length === 0 && (
        <p className="muted">
          {t("noFactories")} <a href="#/setup">{t("setOneUp")}</a>
        </p>
      )}
      <div className="cards">
        {factories.map((factory) => {
          const open = (alerts.data?.alerts ?? []).filter((alert) => alert.factoryId === factory.id);
          const load = factory.demand.kw !== null && factory.demand.contractedKw ? factory.demand.kw / factory.demand.contractedKw : null;
          return (
            <a key={factory.id} className="card factory-card" href={`#/factories/${factory.id}`} data-testid="factory-card">
              <h2>{factory.name}</h2>
              <p className="muted small">
                {t("meters", { count: factory.meters, n: num(factory.meters) })} ·{" "}
                <span data-testid="last-reading">{t("lastReading", { at: when(factory.lastReadingEnd, factory.timeZone) })}</span>
              </p>
              <dl className="figures">
                <div>
                  <dt>{t("today")}</dt>
                  <dd data-testid="today-kwh">{num(factory.today.kwh)} kWh</dd>
                  <dd className="sub">{factory.month.priced ? t("energyOnly", { amount: money(factory.today.cost, factory.currency) }) : t("notPriced")}</dd>
                </div>
                <div>
                  <dt>{t("monthToDate")}</dt>
                  <dd data-testid="month-cost">{factory.month.priced ? money(factory.month.cost, factory.currency) : t("notPriced")}</dd>
                  {factory.month.priced && (
                    <dd className="sub" data-testid="month-energy-cost">
                      {t("energyOnly", { amount: money(factory.month.energyCost, factory.currency) })}
                    </dd>
                  )}
                  <dd className="sub">{num(factory.month.kwh)} kWh</dd>
                  <dd className="sub">{t("billingPeriod", { start: date(factory.month.period.start), end: date(lastDayOf(factory.month.period.end)) })}</dd>
                  {factory.month.estimatedKwh > 0 && (
                    <dd className="sub" data-testid="month-estimated">
                      {t("estimated", { kwh: num(factory.month.estimatedKwh, 1) })}
                    </dd>
                  )}
                </div>
                <div>
                  <dt>{t("projection")}</dt>
                  <dd data-testid="month-projection">{factory.month.priced ? money(factory.month.projectedCost, factory.currency) : t("notPriced")}</dd>
                  {factory.month.priced && <dd className="sub">{t("energyOnly", { amount: money(factory.month.projectedEnergyCost, factory.currency) })}</dd>}
                  {factory.month.prices === "estimated" && <dd className="sub">{t("estimatedPrices")}</dd>}
                </div>
                <div>
                  <dt>{t("powerFactor")}</dt>
                  <dd className={factory.month.powerFactor !== null && factory.month.powerFactor < factory.month.powerFactorThreshold ? "bad" : ""}>
                    {percent(factory.month.powerFactor)}
                  </dd>
                </div>
              </dl>
              <div className="demand">
                <div className="demand-label">
                  <span>{t("demand")}</span>
                  <span>{t("demandOfContracted", { kw: num(factory.demand.kw), contracted: num(factory.demand.contractedKw) })}</span>
                </div>
                <div className="meter-bar">
                  <div className={load !== null && load > 1 ? "fill over" : "fill"} style={{ width: `${Math.min((load ?? 0) * 100, 100)}%` }} />
                </div>
              </div>
              <div className="alerts" data-testid="open-alerts">
                {alerts.error ? (
                  <span className="muted small">{t("alertsUnavailable", { message: alerts.error.message })}</span>
                ) : (
                  <>
                    <span className={open.length > 0 ? "pill bad" : "pill ok"}>{t("openAlerts", { count: open.length })}</span>
                    {open.slice(0, 3).map((alert) => (
                      <div key={alert.id} className="small" data-testid="open-alert">
                        {when(alert.at, factory.timeZone)} · {alertText(tAlerts, alert, factory)}
                      </div>
                    ))}
                  </>
                )}
              </div>
            </a>
          );
        })}
      </div>
      <OverviewAlerts canHandle={canHandle} onChange={alerts.reload} />
    </section>
  );
}
