/**
 * Records the pipeline held back (GET /v1/quarantine, operators and admins): when, which gateway and meter, why (each
 * problem by its path, in the API's words) and the beginning of the record as plain text, never markup. Admins can put
 * records back on the stream (POST /v1/quarantine/replay), one or every one listed; the API offers no other action.
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, ok, type Quarantined } from "../api";
import { num, when } from "../format";
import { PageHeading } from "../heading";
import { useLoad } from "../hooks";
import { ProblemBox, type Shown, shown } from "../problem";
import { LoadError } from "../states";
import { ZoneNote } from "../zone";

type Item = Quarantined["items"][number];

/** Characters of a payload shown on the page; the API sends the record's first 2 KiB (Config.quarantineListPayloadBytes). */
const excerptChars = 600;

/** The record's beginning as text: UTF-8 as sent, else the API's base64 of its bytes (labelled as such). */
function excerpt(item: Item): { text: string; cut: boolean } {
  const cut = item.payload.length > excerptChars;
  return { text: cut ? item.payload.slice(0, excerptChars) : item.payload, cut: cut || item.payloadTruncated };
}

/** One quarantined record as a card: its facts, its problems, its payload; `onReplay` only for the roles that may. */
function Record({ item, device, timeZone, onReplay }: { item: Item; device?: string; timeZone?: string; onReplay?(): void }) {
  const { t } = useTranslation("quarantine");
  const payload = excerpt(item);
  return (
    <article className="card quarantine-item" data-testid="quarantine-item" data-id={item.id} aria-label={t("recordLabel", { id: item.id })}>
      <div className="card-title">
        <h2 className="quarantine-reason">{t(`reasons.${item.reason}`, { defaultValue: item.reason })}</h2>
        {item.replayedAt ? (
          <span className="pill ok">{t("replayed", { at: when(item.replayedAt, timeZone) })}</span>
        ) : (
          onReplay && (
            <button type="button" className="secondary" onClick={onReplay}>
              {t("replay")}
            </button>
          )
        )}
      </div>
      <dl className="quarantine-facts">
        <div>
          <dt>{t("when")}</dt>
          <dd data-testid="quarantine-when">{when(item.createdAt, timeZone)}</dd>
        </div>
        <div>
          <dt>{t("device")}</dt>
          <dd title={item.deviceId ?? undefined}>{device ?? item.deviceId ?? t("unknown")}</dd>
        </div>
        <div>
          <dt>{t("meter")}</dt>
          <dd>{item.meterId ?? t("unknown")}</dd>
        </div>
        <div>
          <dt>{t("source")}</dt>
          <dd>{t(`sources.${item.source}`, { defaultValue: item.source })}</dd>
        </div>
      </dl>
      {item.errors.length > 0 && (
        <ul className="quarantine-problems small" data-testid="quarantine-problems">
          {item.errors.map((problem, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a record's problems are fixed; two may share a path
            <li key={index}>
              {problem.path ? <code>{problem.path}</code> : null}
              {problem.path ? ": " : ""}
              {problem.message}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">
        {t(item.payloadEncoding === "base64" ? "payloadBase64" : "payload", { bytes: num(item.payloadBytes) })}
        {payload.cut ? ` · ${t("excerpt")}` : ""}
      </p>
      {/* Text in a <pre>: React sets it as text, so a record's markup is shown, never run. */}
      <pre className="quarantine-payload" data-testid="quarantine-payload">
        {payload.text}
        {payload.cut ? "…" : ""}
      </pre>
    </article>
  );
}

/** The quarantine page: the organization's held-back records, newest first; `canReplay` (admins) adds the replay buttons. */
export function QuarantinePage({ canReplay }: { canReplay: boolean }) {
  const { t } = useTranslation("quarantine");
  const [all, setAll] = useState(false);
  const items = useLoad(() => ok(api.v1.quarantine.$get({ query: all ? { all: "true" } : {} })), [all]);
  const devices = useLoad(() => ok(api.v1.devices.$get()), []);
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const [error, setError] = useState<Shown>();
  const [done, setDone] = useState<string>();
  const zones = new Map(factories.data?.factories.map((factory) => [factory.id, factory.timeZone]));
  const gateways = new Map(devices.data?.devices.map((device) => [device.id, device]));
  // A record's times on its gateway's factory's clock; one no gateway of ours claims on the first factory's.
  const zoneOf = (item: Item) => {
    const factoryId = item.deviceId ? gateways.get(item.deviceId)?.factoryId : undefined;
    return (factoryId && zones.get(factoryId)) || factories.data?.factories[0]?.timeZone;
  };
  const list = items.data?.items ?? [];
  const waiting = list.filter((item) => !item.replayedAt);

  const replay = async (ids: string[]) => {
    setError(undefined);
    setDone(undefined);
    try {
      const answer = await ok(api.v1.quarantine.replay.$post({ json: { ids } }));
      setDone(t("replayDone", { count: answer.replayed.length, n: num(answer.replayed.length) }));
      items.reload();
    } catch (failure) {
      setError(shown(failure));
    }
  };

  return (
    <section>
      <PageHeading title={t("title")}>
        <div className="quarantine-tools">
          <label className="inline">
            <input type="checkbox" checked={all} onChange={(event) => setAll(event.target.checked)} /> {t("showReplayed")}
          </label>
          {/* With one record waiting, its own button is the one to press. */}
          {canReplay && waiting.length > 1 && (
            <button type="button" onClick={() => replay(waiting.map((item) => item.id))}>
              {t("replayAll", { count: waiting.length, n: num(waiting.length) })}
            </button>
          )}
        </div>
      </PageHeading>
      <p className="muted small">{t(canReplay ? "intro" : "introOperator")}</p>
      {list.length > 0 && <ZoneNote zones={list.map(zoneOf)} />}
      <LoadError error={items.error} />
      <ProblemBox error={error} />
      {done && (
        <p className="muted small" role="status" data-testid="quarantine-done">
          {done}
        </p>
      )}
      {items.data && list.length === 0 && (
        <p className="muted" data-testid="quarantine-none">
          {t(all ? "noneAtAll" : "none")}
        </p>
      )}
      {list.map((item) => {
        const device = item.deviceId ? gateways.get(item.deviceId)?.name : undefined;
        return <Record key={item.id} item={item} device={device} timeZone={zoneOf(item)} onReplay={canReplay ? () => replay([item.id]) : undefined} />;
      })}
    </section>
  );
}
