/** Upload a customer file (production, utility bill, price table), watch its workflow run, read its errors by line. */
import type { InferResponseType } from "hono/client";
import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, type Run as Execution, ok, type RunHistory } from "../api";
import { ago, num, when } from "../format";
import { useLoad } from "../hooks";
import { Options } from "../options";
import { ProblemBox, type Shown, shown } from "../problem";
import { DataTable } from "../table";
import { ZoneNote } from "../zone";
import { pill, RunList } from "./runs";

// The upload stays a plain fetch of the form (its files as multipart, which the route declares as OpenAPI, not zod); its answer is the route's.
type Started = InferResponseType<(typeof api.v1.imports)["$post"], 202>;
type HistoryEvent = RunHistory["events"][number];

const kinds = ["production", "bill", "prices"] as const;
// The client puts a path parameter in as given: an ARN is encoded here (its colons), and the API decodes it.
const runParam = (arn: string) => ({ id: encodeURIComponent(arn) });

/** The run's states so far, read from its history: entered, finished, the one running now. */
function progressOf(events: HistoryEvent[]) {
  const entered: string[] = [];
  const exited = new Set<string>();
  for (const event of events) {
    const details = Object.entries(event).find(([key]) => key.endsWith("EventDetails"))?.[1] as { name?: string } | undefined;
    if (!details?.name) continue;
    if (event.type.endsWith("StateEntered") && !entered.includes(details.name)) entered.push(details.name);
    if (event.type.endsWith("StateExited")) exited.add(details.name);
  }
  return { entered, exited, current: entered.filter((name) => !exited.has(name)).at(-1) };
}

/** A workflow run being watched; its times on `timeZone`'s clock. */
function Run({ arn, timeZone, onFinished }: { arn: string; timeZone?: string; onFinished(): void }) {
  const { t } = useTranslation("imports");
  const [execution, setExecution] = useState<Execution>();
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const [described, history] = await Promise.all([
          ok(api.v1.runs[":id"].$get({ param: runParam(arn) })),
          ok(api.v1.runs[":id"].history.$get({ param: runParam(arn), query: { maxResults: "1000" } })),
        ]);
        if (stopped) return;
        setExecution(described);
        setEvents(history.events);
        if (described.status === "RUNNING") timer = setTimeout(poll, 500);
        else onFinished();
      } catch (failure) {
        if (!stopped) setError(failure instanceof Error ? failure.message : String(failure));
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [arn, onFinished]);
  const progress = progressOf(events);
  if (error) return <p className="error">{error}</p>;
  if (!execution) return <p className="muted">{t("starting")}</p>;
  return (
    <div className="card run" data-testid="run" data-status={execution.status}>
      <div className="card-title">
        <h2>
          {t(`workflows.${execution.workflow}`, { defaultValue: execution.workflow })}{" "}
          <span className={`pill ${pill(execution.status)}`}>{t(`runStatus.${execution.status}`, { defaultValue: execution.status })}</span>
        </h2>
        <span className="muted small">
          {t("started", { at: when(execution.startDate, timeZone) })}
          {execution.stopDate ? ` · ${t("took", { seconds: num((Date.parse(execution.stopDate) - Date.parse(execution.startDate)) / 1000, 1) })}` : ""}
        </span>
      </div>
      <ol className="steps">
        {progress.entered.map((name) => (
          <li key={name} className={progress.exited.has(name) ? "done" : name === progress.current ? "current" : ""}>
            {t(`steps.${name}`, { defaultValue: name })}
          </li>
        ))}
      </ol>
      {execution.status !== "RUNNING" && execution.status !== "SUCCEEDED" && (
        <p className="error">
          {execution.error}: {execution.cause}
        </p>
      )}
    </div>
  );
}

export function Imports() {
  const { t } = useTranslation("imports");
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const runs = useLoad(() => ok(api.v1.imports.$get()), []);
  const [watching, setWatching] = useState<{ arn: string; factoryId?: string }>();
  const zones = new Map(factories.data?.factories.map((factory) => [factory.id, factory.timeZone]));
  // A price table belongs to no factory: its times are on the organization's first factory's clock.
  const zoneOf = (factoryId: string | null | undefined) => (factoryId && zones.get(factoryId)) || factories.data?.factories[0]?.timeZone;
  const [error, setError] = useState<Shown>();

  const upload = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    const form = new FormData(event.currentTarget);
    if (form.get("kind") === "prices") form.delete("factory");
    const factoryId = form.get("factory");
    try {
      const started = await ok<Started>(
        fetch(api.v1.imports.$url().pathname, { method: "POST", body: form, credentials: "same-origin", headers: { "x-wattflow-csrf": "1" } }),
      );
      setWatching({ arn: started.executionArn, factoryId: typeof factoryId === "string" ? factoryId : undefined });
      runs.reload();
    } catch (failure) {
      setError(shown(failure));
    }
  };

  return (
    <section>
      <h1>{t("title")}</h1>
      <ZoneNote zones={factories.data?.factories.map((factory) => factory.timeZone) ?? []} />
      <div className="grid-2">
        <form className="card form" onSubmit={upload} aria-label={t("upload.title")}>
          <h2>{t("upload.title")}</h2>
          <label>
            {t("upload.kind")}
            <select name="kind" defaultValue="production">
              <Options values={kinds} label={(kind) => t(`kinds.${kind}`)} />
            </select>
          </label>
          <label>
            {t("factory")}
            <select name="factory">
              <Options values={factories.data?.factories ?? []} value={(factory) => factory.id} label={(factory) => factory.name} />
            </select>
          </label>
          <label>
            {t("upload.file")} <input name="file" type="file" accept=".csv,.xlsx" required />
          </label>
          <ProblemBox error={error} />
          {/* Until the factories are listed the form would send no factory, which the API refuses when there are several. */}
          <button type="submit" disabled={!factories.data}>
            {t("upload.submit")}
          </button>
        </form>
        {watching ? <Run arn={watching.arn} timeZone={zoneOf(watching.factoryId)} onFinished={runs.reload} /> : <p className="muted">{t("upload.hint")}</p>}
      </div>
      <RunList reloadKey={runs.data} timeZone={[...zones.values()][0]} />
      <div className="card">
        <h2>{t("recent")}</h2>
        <DataTable
          scroll="table-scroll"
          testId="imports-table"
          rows={runs.data?.imports ?? []}
          rowKey={(run) => run.id}
          rowProps={(run) => ({ "data-status": run.status })}
          emptyRow={runs.data && t("noImports")}
          columns={[
            { header: t("file"), cell: (run) => run.fileName },
            { header: t("kind"), cell: (run) => t(`kinds.${run.kind}`, { defaultValue: run.kind }) },
            {
              header: t("status"),
              cell: (run) => (
                <span className={`pill ${run.status === "loaded" ? "ok" : run.status === "failed" ? "bad" : "warn"}`}>
                  {t(`importStatus.${run.status}`, { defaultValue: run.status })}
                </span>
              ),
            },
            { header: t("rows"), num: true, cell: (run) => num(run.rows) },
            { header: t("inserted"), num: true, cell: (run) => num(run.inserted) },
            { header: t("updated"), num: true, cell: (run) => num(run.updated) },
            {
              header: t("errors"),
              cell: (run) => (
                <>
                  {(run.errors ?? []).slice(0, 5).map((problem) => (
                    <div key={`${problem.line}-${problem.column ?? ""}`} className="small">
                      {t("errorAt", { line: problem.line })}
                      {problem.column ? ` (${problem.column})` : ""}: {problem.message}
                    </div>
                  ))}
                  {(run.errors?.length ?? 0) > 5 && <div className="muted small">{t("more", { count: (run.errors?.length ?? 0) - 5 })}</div>}
                </>
              ),
            },
            { header: t("when"), title: (run) => when(String(run.createdAt), zoneOf(run.factoryId)), cell: (run) => ago(String(run.createdAt)) },
          ]}
        />
      </div>
    </section>
  );
}
