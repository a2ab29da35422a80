/** Alerts to act on: acknowledge (someone is on it) and resolve (dealt with), with who did it and when. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { type Alerts as AlertList, api, ok } from "../api";
import { when } from "../format";
import { PageHeading } from "../heading";
import { useLoad } from "../hooks";
import { Options } from "../options";
import { ProblemBox, type Shown, shown } from "../problem";
import { LoadError } from "../states";
import { DataTable } from "../table";

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

  if (alerts.error) return <LoadError error={alerts.error} />;
  return (
    <div>
      <ProblemBox error={error} />
      <DataTable
        scroll="scroll"
        testId="alerts-table"
        rows={alerts.data?.alerts ?? []}
        rowKey={(alert) => alert.id}
        rowProps={(alert) => ({ "data-testid": "alert-row", "data-status": alert.status })}
        empty={
          <p className="muted" data-testid="no-alerts">
            {t("none")}
          </p>
        }
        columns={[
          { header: t("raised"), cell: (alert) => when(alert.raisedAt, factoryOf(alert)?.timeZone) },
          { header: t("factory"), cell: (alert) => factoryOf(alert)?.name ?? alert.factoryId },
          { header: t("message"), cell: (alert) => alert.message },
          { header: t("status"), cell: (alert) => <span className={`pill ${pill[alert.status]}`}>{t(`statuses.${alert.status}`)}</span> },
          { header: t("acknowledged"), className: "small", cell: (alert) => mark(alert.acknowledged, factoryOf(alert)?.timeZone) },
          { header: t("resolved"), className: "small", cell: (alert) => mark(alert.resolved, factoryOf(alert)?.timeZone) },
          canHandle && {
            cell: (alert) => (
              <>
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
              </>
            ),
          },
        ]}
      />
    </div>
  );
}

/** The alerts page: every alert, filtered by status (unresolved first). */
export function AlertsPage({ canHandle }: { canHandle: boolean }) {
  const { t } = useTranslation("alerts");
  const [status, setStatus] = useState<Status | "all">("unresolved");
  return (
    <section>
      <PageHeading title={t("title")}>
        <label className="inline">
          {t("show")}{" "}
          <select value={status} onChange={(event) => setStatus(event.target.value as Status | "all")} aria-label={t("show")}>
            <Options values={["unresolved", "open", "acknowledged", "resolved", "all"] as const} label={(value) => t(`filter.${value}`)} />
          </select>
        </label>
      </PageHeading>
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
