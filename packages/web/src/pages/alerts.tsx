/** Alerts to act on: acknowledge (someone is on it) and resolve (dealt with), with who did it and when. */

import type { TFunction } from "i18next";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { type Alerts as AlertList, api, ok } from "../api";
import { coded, type ParamFormats } from "../coded";
import { date, money, num, percent, quantity, when } from "../format";
import { PageHeading } from "../heading";
import { useLoad } from "../hooks";
import { Options } from "../options";
import { ProblemBox, type Shown, shown } from "../problem";
import { LoadError } from "../states";
import { DataTable } from "../table";

type Alert = AlertList["alerts"][number];
type Status = "open" | "acknowledged" | "resolved" | "unresolved";

const pill = { open: "bad", acknowledged: "warn", resolved: "ok" } as const;

/**
 * How each parameter of an alert's code reads (core alert/rules.ts `Params`): kW with one decimal, shares as
 * percentages, power factors as fractions, instants on the factory's clock, days as dates, money in its currency.
 */
const paramFormats: ParamFormats<{ timeZone?: string; currency?: string }> = {
  demandKw: (value) => num(Number(value), 1),
  peakKw: (value) => num(Number(value), 1),
  contractedKw: (value) => quantity(String(value)),
  share: (value) => percent(Number(value), 1),
  pf: (value) => num(Number(value), 3),
  threshold: (value) => num(Number(value), 2),
  cfeThreshold: (value) => num(Number(value), 2),
  minutes: (value) => num(Number(value), 0),
  since: (value, place) => when(String(value), place.timeZone),
  day: (value) => date(String(value)),
  cost: (value, place) => money(String(value), place.currency),
  norm: (value, place) => money(String(value), place.currency),
};

/** An alert in the console's language from its code and parameters; the stored English message for alerts raised before codes. */
export function alertText(t: TFunction<"alerts">, alert: Alert, place: { timeZone?: string; currency?: string }): string {
  return coded(t, "findings", alert, paramFormats, place, alert.message);
}

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
          {
            header: t("message"),
            cell: (alert) => (
              <span data-testid="alert-text">{alertText(t, alert, { timeZone: factoryOf(alert)?.timeZone, currency: factoryOf(alert)?.currency })}</span>
            ),
          },
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
