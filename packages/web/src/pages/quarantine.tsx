/**
 * Records the pipeline held back (GET /v1/quarantine, operators and admins): when, which gateway and meter (by the names
 * the organization gave them, from its devices and meters lists), why (the reason's code worded in the console's
 * language; each problem by its path in the system's own English words, labelled as such) and the beginning of the
 * record as plain text, never markup. Admins can put records back on the stream (POST /v1/quarantine/replay), one or
 * every one listed; the API offers no other action.
 */
import type { TFunction } from "i18next";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, ok, type Quarantined } from "../api";
import { coded, type ParamFormats } from "../coded";
import { num, when } from "../format";
import { PageHeading } from "../heading";
import { useLoad } from "../hooks";
import { ProblemBox, type Shown, shown } from "../problem";
import { LoadError } from "../states";
import { ZoneNote } from "../zone";

type Item = Quarantined["items"][number];

/**
 * What a card needs to name things: the organization's gateways and meters by id (undefined while their lists load),
 * and the clock of the record's factory.
 */
export type Place = { gateways?: ReadonlyMap<string, string>; meters?: ReadonlyMap<string, string>; timeZone?: string };

/** How each parameter of a reason's code reads (core quarantine `Params`): a gateway or meter by its name, else its id; an instant on the factory's clock. */
const paramFormats: ParamFormats<Place> = {
  deviceId: (value, place) => place.gateways?.get(String(value)) ?? String(value),
  meterId: (value, place) => place.meters?.get(String(value)) ?? String(value),
  start: (value, place) => when(String(value), place.timeZone),
};

/** Why a record was held back, in the console's language from its code; for a record kept before codes, its stored reason (worded when it is one of the known texts). */
export function reasonText(t: TFunction<"quarantine">, item: Item, place: Place): string {
  return coded(t, "codes", item, paramFormats, place, t(`reasons.${item.reason}`, { defaultValue: item.reason }));
}

/**
 * A gateway or meter the record names, as one of the card's facts: its name with the id beneath; an id the
 * organization's list does not hold, said to be not registered; the id alone while the list loads.
 */
function NamedFact(props: { label: string; testId: string; id: string | null; names?: ReadonlyMap<string, string>; notRegistered: string }) {
  const { t } = useTranslation("quarantine");
  const { id, names } = props;
  const name = id ? names?.get(id) : undefined;
  const detail = name ? id : names && props.notRegistered;
  return (
    <div>
      <dt>{props.label}</dt>
      <dd data-testid={props.testId}>
        {name ?? id ?? t("unknown")}
        {id && detail && <span className="quarantine-id">{detail}</span>}
      </dd>
    </div>
  );
}

/** Characters of a payload shown on the page; the API sends the record's first 2 KiB (Config.quarantineListPayloadBytes). */
const excerptChars = 600;

/** The record's beginning as text: UTF-8 as sent, else the API's base64 of its bytes (labelled as such). */
function excerpt(item: Item): { text: string; cut: boolean } {
  const cut = item.payload.length > excerptChars;
  return { text: cut ? item.payload.slice(0, excerptChars) : item.payload, cut: cut || item.payloadTruncated };
}

/** One quarantined record as a card: its facts, its problems, its payload; `onReplay` only for the roles that may. */
export function QuarantineCard({ item, place, onReplay }: { item: Item; place: Place; onReplay?(): void }) {
  const { t } = useTranslation("quarantine");
  const payload = excerpt(item);
  const { timeZone } = place;
  return (
    <article className="card quarantine-item" data-testid="quarantine-item" data-id={item.id} aria-label={t("recordLabel", { id: item.id })}>
      <div className="card-title">
        <h2 className="quarantine-reason">{reasonText(t, item, place)}</h2>
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
        <NamedFact label={t("device")} testId="quarantine-device" id={item.deviceId} names={place.gateways} notRegistered={t("gatewayNotRegistered")} />
        <NamedFact label={t("meter")} testId="quarantine-meter" id={item.meterId} names={place.meters} notRegistered={t("meterNotRegistered")} />
        <div>
          <dt>{t("source")}</dt>
          <dd>{t(`sources.${item.source}`, { defaultValue: item.source })}</dd>
        </div>
      </dl>
      {item.errors.length > 0 && <p className="muted small quarantine-problems-label">{t("problems")}</p>}
      {item.errors.length > 0 && (
        // The system's own words, in English: a screen reader reads them as English.
        <ul className="quarantine-problems small" data-testid="quarantine-problems" lang="en">
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
  // Every factory's meters, for their names: the lists the setup page reads.
  const meters = useLoad(
    async () =>
      factories.data &&
      (await Promise.all(factories.data.factories.map((factory) => ok(api.v1.factories[":id"].meters.$get({ param: { id: factory.id } }))))).flatMap(
        (list) => list.meters,
      ),
    [factories.data],
  );
  const [error, setError] = useState<Shown>();
  const [done, setDone] = useState<string>();
  const zones = new Map(factories.data?.factories.map((factory) => [factory.id, factory.timeZone]));
  const gateways = new Map(devices.data?.devices.map((device) => [device.id, device]));
  const gatewayNames = devices.data && new Map(devices.data.devices.map((device) => [device.id, device.name]));
  const meterNames = meters.data && new Map(meters.data.map((meter) => [meter.id, meter.name]));
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
      {list.map((item) => (
        <QuarantineCard
          key={item.id}
          item={item}
          place={{ gateways: gatewayNames, meters: meterNames, timeZone: zoneOf(item) }}
          onReplay={canReplay ? () => replay([item.id]) : undefined}
        />
      ))}
    </section>
  );
}
