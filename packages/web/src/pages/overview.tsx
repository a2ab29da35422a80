/** Every factory at a glance: today, the month so far and where it is heading, demand against contract, power factor. */
import { api, ok } from "../api";
import { money, num, percent, when } from "../format";
import { useLoad } from "../hooks";
import { OverviewAlerts } from "./alerts";

/** The page's words, in one place for translation (issue 16). */
const text = { estimated: (kwh: string) => `${kwh} kWh estimated` } as const;

export function OverviewPage({ canHandle }: { canHandle: boolean }) {
  const overview = useLoad(() => ok(api.v1.overview.$get()), []);
  const alerts = useLoad(() => ok(api.v1.alerts.$get({ query: { status: "unresolved" } })), []);
  if (overview.error) return <p className="error">{overview.error.message}</p>;
  if (!overview.data) return <p className="muted">Loading…</p>;
  const { factories } = overview.data;
  return (
    <section>
      <div className="heading">
        <h1>Overview</h1>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            overview.reload();
            alerts.reload();
          }}
          disabled={overview.loading}
        >
          Refresh
        </button>
      </div>
      {factories.length === 0 && (
        <p className="muted">
          No factories yet. <a href="#/setup">Set one up</a>.
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
                {factory.meters} meters · {factory.timeZone} · last reading {when(factory.lastReadingEnd, factory.timeZone)}
              </p>
              <dl className="figures">
                <div>
                  <dt>Today</dt>
                  <dd data-testid="today-kwh">{num(factory.today.kwh)} kWh</dd>
                  <dd className="sub">{money(factory.today.cost, factory.currency)}</dd>
                </div>
                <div>
                  <dt>Month to date</dt>
                  <dd data-testid="month-cost">{money(factory.month.cost, factory.currency)}</dd>
                  <dd className="sub">{num(factory.month.kwh)} kWh</dd>
                  {factory.month.estimatedKwh > 0 && (
                    <dd className="sub" data-testid="month-estimated">
                      {text.estimated(num(factory.month.estimatedKwh, 1))}
                    </dd>
                  )}
                </div>
                <div>
                  <dt>Month-end projection</dt>
                  <dd>{money(factory.month.projectedCost, factory.currency)}</dd>
                </div>
                <div>
                  <dt>Power factor (month)</dt>
                  <dd className={factory.month.powerFactor !== null && factory.month.powerFactor < 0.9 ? "bad" : ""}>{percent(factory.month.powerFactor)}</dd>
                </div>
              </dl>
              <div className="demand">
                <div className="demand-label">
                  <span>15-min demand</span>
                  <span>
                    {num(factory.demand.kw)} / {num(factory.demand.contractedKw)} kW contracted
                  </span>
                </div>
                <div className="meter-bar">
                  <div className={load !== null && load > 1 ? "fill over" : "fill"} style={{ width: `${Math.min((load ?? 0) * 100, 100)}%` }} />
                </div>
              </div>
              <div className="alerts" data-testid="open-alerts">
                {alerts.error ? (
                  <span className="muted small">Alerts unavailable: {alerts.error.message}</span>
                ) : (
                  <>
                    <span className={open.length > 0 ? "pill bad" : "pill ok"}>
                      {open.length === 0 ? "no open alerts" : `${open.length} open alert${open.length === 1 ? "" : "s"}`}
                    </span>
                    {open.slice(0, 3).map((alert) => (
                      <div key={alert.id} className="small">
                        {when(alert.at, factory.timeZone)} · {alert.message}
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
