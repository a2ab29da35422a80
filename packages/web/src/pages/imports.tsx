/** Upload a customer file (production, utility bill, price table), watch its workflow run, read its errors by line. */
import { type FormEvent, useEffect, useState } from "react";
import { api, ok } from "../api";
import { ago, when } from "../format";
import { useLoad } from "../hooks";
import { ProblemBox, type Shown, shown } from "../problem";
import { RunList } from "./runs";

type Started = { executionArn: string; imports: { id: string; fileName: string }[] };
type Execution = { executionArn: string; workflow: string; status: string; startDate: string; stopDate?: string; error?: string; cause?: string };
type HistoryEvent = { id: number; timestamp: string; type: string; [details: string]: unknown };

const kinds = { production: "Production (units per line and day)", bill: "Utility bill", prices: "CFE price table" } as const;
const runPath = (arn: string) => `/v1/runs/${encodeURIComponent(arn)}`;

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

function Run({ arn, onFinished }: { arn: string; onFinished(): void }) {
  const [execution, setExecution] = useState<Execution>();
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const [described, history] = await Promise.all([
          ok<Execution>(fetch(runPath(arn), { credentials: "same-origin" })),
          ok<{ events: HistoryEvent[] }>(fetch(`${runPath(arn)}/history?maxResults=1000`, { credentials: "same-origin" })),
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
  if (!execution) return <p className="muted">Starting…</p>;
  return (
    <div className="card run" data-testid="run" data-status={execution.status}>
      <div className="card-title">
        <h2>
          {execution.workflow}{" "}
          <span className={`pill ${execution.status === "SUCCEEDED" ? "ok" : execution.status === "RUNNING" ? "warn" : "bad"}`}>{execution.status}</span>
        </h2>
        <span className="muted small">
          started {when(execution.startDate)}
          {execution.stopDate ? ` · took ${((Date.parse(execution.stopDate) - Date.parse(execution.startDate)) / 1000).toFixed(1)} s` : ""}
        </span>
      </div>
      <ol className="steps">
        {progress.entered.map((name) => (
          <li key={name} className={progress.exited.has(name) ? "done" : name === progress.current ? "current" : ""}>
            {name}
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
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const runs = useLoad(() => ok(api.v1.imports.$get()), []);
  const [watching, setWatching] = useState<string>();
  const [error, setError] = useState<Shown>();

  const upload = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    const form = new FormData(event.currentTarget);
    if (form.get("kind") === "prices") form.delete("factory");
    try {
      const started = await ok<Started>(
        fetch(api.v1.imports.$url().pathname, { method: "POST", body: form, credentials: "same-origin", headers: { "x-wattflow-csrf": "1" } }),
      );
      setWatching(started.executionArn);
      runs.reload();
    } catch (failure) {
      setError(shown(failure));
    }
  };

  return (
    <section>
      <h1>Imports and runs</h1>
      <div className="grid-2">
        <form className="card form" onSubmit={upload} aria-label="Upload a file">
          <h2>Upload a file</h2>
          <label>
            Kind
            <select name="kind" defaultValue="production">
              {Object.entries(kinds).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Factory
            <select name="factory">
              {factories.data?.factories.map((factory) => (
                <option key={factory.id} value={factory.id}>
                  {factory.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            File (CSV or XLSX) <input name="file" type="file" accept=".csv,.xlsx" required />
          </label>
          <ProblemBox error={error} />
          <button type="submit">Upload and import</button>
        </form>
        {watching ? <Run arn={watching} onFinished={runs.reload} /> : <p className="muted">Upload a file to watch its import run here.</p>}
      </div>
      <RunList reloadKey={runs.data} />
      <div className="card">
        <h2>Recent imports</h2>
        <table className="data" data-testid="imports-table">
          <thead>
            <tr>
              <th>File</th>
              <th>Kind</th>
              <th>Status</th>
              <th className="num">Rows</th>
              <th className="num">Inserted</th>
              <th className="num">Updated</th>
              <th>Errors</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {(runs.data?.imports ?? []).map((run) => (
              <tr key={run.id} data-status={run.status}>
                <td>{run.fileName}</td>
                <td>{run.kind}</td>
                <td>
                  <span className={`pill ${run.status === "loaded" ? "ok" : run.status === "failed" ? "bad" : "warn"}`}>{run.status}</span>
                </td>
                <td className="num">{run.rows ?? "—"}</td>
                <td className="num">{run.inserted ?? "—"}</td>
                <td className="num">{run.updated ?? "—"}</td>
                <td>
                  {(run.errors ?? []).slice(0, 5).map((problem) => (
                    <div key={`${problem.line}-${problem.column ?? ""}`} className="small">
                      line {problem.line}
                      {problem.column ? ` (${problem.column})` : ""}: {problem.message}
                    </div>
                  ))}
                  {(run.errors?.length ?? 0) > 5 && <div className="muted small">and {(run.errors?.length ?? 0) - 5} more</div>}
                </td>
                <td title={when(String(run.createdAt))}>{ago(String(run.createdAt))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
