/** Runs of every kind in one list: file imports, monthly closes and cost recomputes, with a failure's plain explanation. */
import { useTranslation } from "react-i18next";
import { api, ok, type Runs } from "../api";
import { num, when } from "../format";
import { useLoad } from "../hooks";
import { LoadError } from "../states";
import { DataTable } from "../table";

type Run = Runs["executions"][number];

/** A run's status as a pill's colour: done, still running, or failed (any other end). */
export const pill = (status: string) => (status === "SUCCEEDED" ? "ok" : status === "RUNNING" ? "warn" : "bad");

/** What a run did, in a few words: the files of an import, the months of a close or recompute, its summary's counts. */
function Result({ run }: { run: Run }) {
  const { t } = useTranslation("imports");
  const result = (run.result ?? {}) as { factories?: number; readings?: number; changed?: number; rows?: number; inserted?: number };
  const parts: string[] = [];
  if (run.months.length > 0) parts.push(t("runs.months", { months: run.months.join(", "), count: run.months.length }));
  for (const file of run.files) parts.push(t("runs.file", { name: file.fileName, count: file.errors }));
  if (run.status === "SUCCEEDED") {
    if (result.factories !== undefined) parts.push(t("runs.factories", { count: result.factories }));
    if (result.readings !== undefined) parts.push(t("runs.readings", { count: result.readings, value: num(result.readings) }));
    if (result.rows !== undefined) parts.push(t("runs.rows", { count: result.rows, value: num(result.rows) }));
  }
  return <span className="small">{parts.join(" · ") || "—"}</span>;
}

export function RunList({ reloadKey, timeZone }: { reloadKey?: unknown; timeZone?: string }) {
  const { t } = useTranslation("imports");
  const runs = useLoad(() => ok(api.v1.runs.$get({ query: { limit: "50" } })), [reloadKey]);
  if (runs.error) return <LoadError error={runs.error} />;
  return (
    <div className="card">
      <div className="card-title">
        <h2>{t("runs.title")}</h2>
        <button type="button" className="secondary" onClick={runs.reload} disabled={runs.loading}>
          {t("runs.refresh")}
        </button>
      </div>
      <DataTable
        scroll="scroll"
        testId="runs-table"
        rows={runs.data?.executions ?? []}
        rowKey={(run) => run.executionArn}
        rowProps={(run) => ({ "data-testid": "run-row", "data-kind": run.kind, "data-status": run.status })}
        empty={<p className="muted">{t("runs.none")}</p>}
        columns={[
          { header: t("runs.kind"), cell: (run) => t(`runs.kinds.${run.kind}`) },
          {
            header: t("runs.status"),
            cell: (run) => <span className={`pill ${pill(run.status)}`}>{t(`runs.statuses.${run.status}`, { defaultValue: run.status })}</span>,
          },
          { header: t("runs.started"), cell: (run) => when(run.startDate, timeZone) },
          {
            header: t("runs.duration"),
            num: true,
            cell: (run) => (run.durationMs === null ? "—" : t("runs.seconds", { value: num(run.durationMs / 1000, 1) })),
          },
          {
            header: t("runs.result"),
            cell: (run) => (
              <>
                <Result run={run} />
                {run.failure && (
                  <div className="small bad" data-testid="run-failure">
                    {run.failure.explanation}
                  </div>
                )}
              </>
            ),
          },
        ]}
      />
    </div>
  );
}
