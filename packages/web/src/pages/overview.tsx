/** Every factory at a glance: today, the month so far and where it is heading, demand against contract, power factor. */
import { api, ok } from "../api";
import { money, num, percent, when } from "../format";
import { useLoad } from "../hooks";

/** The page's words, in one place for translation (issue 16). */
const text = {
  estimated: (kwh: string) => `${kwh} kWh estimated`,
  notPriced: "no tariff: not priced",
  energyOnly: (amount: string) => `energy only ${amount}`,
  period: (start: string, end: string) => `billing period ${start} – ${end}`,
  estimatedPrices: "estimated prices",
} as const;

/** The last day of a period whose end date is exclusive (CFE prints the day of the next reading; we show the last day billed). */
const lastDay = (end: string) => new Date(Date.parse(`${end}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** Alerts have no acknowledgement yet: those raised in the last day count as open. */
const openForMs = 24 * 3600_000;

export function OverviewPage() {
  const overview = useLoad(() => ok(api.v1.console.overview.$get()), []);
  const alerts = useLoad(() => ok(api.v1.alerts.$get()), []);
  const since = Date.now() - openForMs;
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
          const open = (alerts.data?.alerts ?? []).filter((alert) => alert.factoryId === factory.id && Date.parse(alert.raisedAt) >= since);
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
                  <dd className="sub">{factory.month.priced ? money(factory.today.cost, factory.currency) : text.notPriced}</dd>
                </div>
                <div>
                  <dt>Month to date</dt>
                  <dd data-testid="month-cost">{factory.month.priced ? money(factory.month.cost, factory.currency) : text.notPriced}</dd>
                  {factory.month.priced && (
                    <dd className="sub" data-testid="month-energy-cost">
                      {text.energyOnly(money(factory.month.energyCost, factory.currency))}
                    </dd>
                  )}
                  <dd className="sub">{num(factory.month.kwh)} kWh</dd>
                  <dd className="sub">{text.period(factory.month.period.start, lastDay(factory.month.period.end))}</dd>
                  {factory.month.estimatedKwh > 0 && (
                    <dd className="sub" data-testid="month-estimated">
                      {text.estimated(num(factory.month.estimatedKwh, 1))}
                    </dd>
                  )}
                </div>
                <div>
                  <dt>Month-end projection</dt>
                  <dd data-testid="month-projection">{factory.month.priced ? money(factory.month.projectedCost, factory.currency) : text.notPriced}</dd>
                  {factory.month.priced && <dd className="sub">{text.energyOnly(money(factory.month.projectedEnergyCost, factory.currency))}</dd>}
                  {factory.month.prices === "estimated" && <dd className="sub">{text.estimatedPrices}</dd>}
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
    </section>
  );
}
