/** Alerts to act on: acknowledge (someone is on it) and resolve (dealt with), with who did it and when. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { type Alerts as AlertList, api, ok } from "../api";
import { when } from "../format";
import { useLoad } from "../hooks";
import { ProblemBox, type Shown, shown } from "../problem";

type Alert = AlertList["alerts"][number];
type Status = "open" | "acknowledged" | "resolved" | "unresolved";

const pill = { open: "bad", acknowledged: "warn", resolved: "ok" } as const;

/** The organization's alerts of a status, newest first; with `canHandle`, buttons to acknowledge and resolve. */
export function AlertTable({ status, canHandle, limit, onChange }: { status?: Status; canHandle: boolean; limit?: number; onChange?(): void }) {
  const { t } = useTranslation("alerts");
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const alerts = useLoad(() => ok(api.v1.alerts.$get({ query: { ...(status && { status }), ...(limit && { limit: String(limit) }) } })), [status, limit]);
  const [error, setError] = useState<Shown>();
  const factoryOf = (alert: Alert) => factories.data?.factories.find((factory) => factory.id === alert.factoryId);
  const act = async (alert: Alert, action: "acknowledge" | "resolve") => {
    setError(undefined);
    try {
      const param = { param: { id: alert.id } };
      await ok(action === "acknowledge" ? api.v1.alerts[":id"].acknowledge.$post(param) : api.v1.alerts[":id"].resolve.$post(param));
      alerts.reload();
      onChange?.();
    } catch (failure) {
      setError(shown(failure));
    }
  };
  const mark = (value: Alert["acknowledged"], timeZone?: string) => (value ? t("by", { name: value.name ?? value.by, when: when(value.at, timeZone) }) : "—");

  if (alerts.error) return <p className="error">{alerts.error.message}</p>;
  const list = alerts.data?.alerts ?? [];
  return (
    <div>
      <ProblemBox error={error} />
      {list.length === 0 ? (
        <p className="muted" data-testid="no-alerts">
          {t("none")}
        </p>
      ) : (
        <div className="scroll">
          <table className="data" data-testid="alerts-table">
            <thead>
              <tr>
                <th>{t("raised")}</th>
                <th>{t("factory")}</th>
                <th>{t("message")}</th>
                <th>{t("status")}</th>
                <th>{t("acknowledged")}</th>
                <th>{t("resolved")}</th>
                {canHandle && <th />}
              </tr>
            </thead>
            <tbody>
              {list.map((alert) => {
                const factory = factoryOf(alert);
                return (
                  <tr key={alert.id} data-testid="alert-row" data-status={alert.status}>
                    <td>{when(alert.raisedAt, factory?.timeZone)}</td>
                    <td>{factory?.name ?? alert.factoryId}</td>
                    <td>{alert.message}</td>
                    <td>
                      <span className={`pill ${pill[alert.status]}`}>{t(`statuses.${alert.status}`)}</span>
                    </td>
                    <td className="small">{mark(alert.acknowledged, factory?.timeZone)}</td>
                    <td className="small">{mark(alert.resolved, factory?.timeZone)}</td>
                    {canHandle && (
                      <td>
                        {alert.status === "open" && (
                          <button type="button" className="secondary" onClick={() => act(alert, "acknowledge")}>
                            {t("acknowledge")}
                          </button>
                        )}{" "}
                        {alert.status !== "resolved" && (
                          <button type="button" onClick={() => act(alert, "resolve")}>
                            {t("resolve")}
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** The alerts page: every alert, filtered by status (unresolved first). */
export function AlertsPage({ canHandle }: { canHandle: boolean }) {
  const { t } = useTranslation("alerts");
  const [status, setStatus] = useState<Status | "all">("unresolved");
  return (
    <section>
      <div className="heading">
        <h1>{t("title")}</h1>
        <label className="inline">
          {t("show")}{" "}
          <select value={status} onChange={(event) => setStatus(event.target.value as Status | "all")} aria-label={t("show")}>
            {(["unresolved", "open", "acknowledged", "resolved", "all"] as const).map((value) => (
              <option key={value} value={value}>
                {t(`filter.${value}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="card">
        <AlertTable status={status === "all" ? undefined : status} canHandle={canHandle} />
      </div>
    </section>
  );
}

/** The overview's card: the newest unresolved alerts with their buttons, and a link to all of them. */
export function OverviewAlerts({ canHandle, onChange }: { canHandle: boolean; onChange(): void }) {
  const { t } = useTranslation("alerts");
  return (
    <div className="card" data-testid="overview-alerts">
      <div className="card-title">
        <h2>{t("overviewTitle")}</h2>
        <a href="#/alerts">{t("seeAll")}</a>
      </div>
      <AlertTable status="unresolved" canHandle={canHandle} limit={10} onChange={onChange} />
    </div>
  );
}
