/**
 * Gateway health: last seen, backlog, route, rejected readings, clock offset; stale gateways flagged; credentials for
 * admins. Each gateway's details open under its row: its Modbus buses' counters, the cloud configuration it runs and
 * the last one it refused, its clock and its disk, as its last heartbeat reported them.
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, api, type Devices as DeviceList, ok } from "../api";
import { ago, num, when } from "../format";
import { PageHeading } from "../heading";
import { useLoad, useToggleSet } from "../hooks";
import { i18n } from "../i18n";
import { LoadError } from "../states";
import { DataTable } from "../table";
import { ZoneNote } from "../zone";
import { OneTimeSecret } from "./secret";

/** A span of seconds in the largest whole unit ("3 min", "2 h", "1 día"), for how old the oldest unsent reading is. */
function duration(seconds: number): string {
  const [unit, size] = seconds < 5400 ? (["minutes", 60] as const) : seconds < 172_800 ? (["hours", 3600] as const) : (["days", 86_400] as const);
  return i18n.t(`duration.${unit}`, { ns: "devices", count: Math.max(Math.round(seconds / size), 1) });
}

/** Three missed 5-minute rounds: the gateway or its network is down. */
const staleAfterMs = 15 * 60_000;

type Device = DeviceList["devices"][number];

/** The route of the gateway's last delivery: a key of `routes` in the page's words. */
function route(device: Device): "unknown" | "none" | "kinesis" | "http" {
  const success = device.heartbeat?.lastSuccess;
  if (!success) return "unknown";
  const kinesis = success.kinesis ? Date.parse(success.kinesis) : 0;
  const http = success.http ? Date.parse(success.http) : 0;
  if (!kinesis && !http) return "none";
  return kinesis >= http ? "kinesis" : "http";
}

/** The gateway's state (a key of `status` in the page's words) and its colour. */
function status(device: Device, now: number): { state: "revoked" | "never" | "stale" | "online"; tone: "ok" | "warn" | "bad" | "off" } {
  if (device.revoked) return { state: "revoked", tone: "off" };
  if (!device.lastSeenAt) return { state: "never", tone: "warn" };
  if (now - Date.parse(device.lastSeenAt) > staleAfterMs) return { state: "stale", tone: "bad" };
  return { state: "online", tone: "ok" };
}

export function Devices({ admin }: { admin: boolean }) {
  const { t } = useTranslation("devices");
  const devices = useLoad(() => ok(api.v1.devices.$get()), []);
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const [secret, setSecret] = useState<{ title: string; values: Record<string, string | null> }>();
  const [error, setError] = useState<string>();
  const [open, toggle] = useToggleSet();
  const now = Date.now();
  const names = new Map(factories.data?.factories.map((f) => [f.id, f.name]));
  const zones = new Map(factories.data?.factories.map((f) => [f.id, f.timeZone]));

  const act = async (title: string, run: () => Promise<Record<string, string | null> | undefined>) => {
    setError(undefined);
    try {
      const values = await run();
      if (values) setSecret({ title, values });
      devices.reload();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : String(failure));
    }
  };

  if (devices.error) return <LoadError error={devices.error} />;
  const list = devices.data?.devices ?? [];
  const stale = list.filter((d) => status(d, now).state === "stale").length;
  const gateway = (device: Device) => ({ param: { id: device.factoryId, gatewayId: device.id } });
  return (
    <section>
      <PageHeading title={t("title")}>
        <button type="button" className="secondary" onClick={devices.reload}>
          {t("refresh")}
        </button>
      </PageHeading>
      <p className="muted" data-testid="devices-count">
        {t("gateways", { count: list.length, n: num(list.length) })}
        {stale > 0 ? ` · ${t("stale", { count: stale, n: num(stale), minutes: staleAfterMs / 60_000 })}` : ""}
      </p>
      <ZoneNote zones={list.map((device) => zones.get(device.factoryId))} />
      {error && <p className="error">{error}</p>}
      {secret && <OneTimeSecret title={secret.title} values={secret.values} onClose={() => setSecret(undefined)} />}
      <DataTable
        scroll="table-scroll"
        testId="devices-table"
        rows={list}
        rowKey={(device) => device.id}
        rowProps={(device) => ({ className: status(device, now).tone === "bad" ? "row-bad" : "" })}
        detailRow={(device) => open.has(device.id) && <GatewayDetail device={device} timeZone={zones.get(device.factoryId)} />}
        columns={[
          {
            header: t("gateway"),
            cell: (device) => (
              <>
                {device.name}
                <div className="muted small mono">{device.id}</div>
                <button type="button" className="link" aria-expanded={open.has(device.id)} onClick={() => toggle(device.id)}>
                  {open.has(device.id) ? t("hideDetails") : t("details")}
                </button>
              </>
            ),
          },
          { header: t("factory"), cell: (device) => names.get(device.factoryId) ?? device.factoryId },
          {
            header: t("statusHeader"),
            cell: (device) => {
              const state = status(device, now);
              return (
                <span className={`pill ${state.tone}`} data-state={state.state}>
                  {t(`status.${state.state}`)}
                </span>
              );
            },
          },
          {
            header: t("lastSeen"),
            title: (device) => (device.lastSeenAt ? when(device.lastSeenAt, zones.get(device.factoryId)) : undefined),
            cell: (device) => ago(device.lastSeenAt, now),
          },
          {
            header: t("backlog"),
            num: true,
            cell: (device) => (
              <>
                {num(device.heartbeat?.backlog)}
                {device.heartbeat?.oldestUnsentSeconds ? (
                  <div className="muted small">{t("oldest", { age: duration(device.heartbeat.oldestUnsentSeconds) })}</div>
                ) : null}
              </>
            ),
          },
          { header: t("route"), cell: (device) => t(`routes.${route(device)}`) },
          { header: t("rejected"), num: true, cell: (device) => num(device.heartbeat?.rejected) },
          {
            header: t("clockOffset"),
            num: true,
            cell: (device) => (device.heartbeat?.clockOffsetMs === null || device.heartbeat === null ? "—" : `${num(device.heartbeat.clockOffsetMs)} ms`),
          },
          { header: t("signingKey"), cell: (device) => (device.keyEnrolled ? t("keyEnrolled") : t("keyNone")) },
          admin && {
            className: "actions",
            cell: (device) =>
              !device.revoked && (
                <>
                  <Action
                    label={t("newCode")}
                    run={() =>
                      act(t("codeTitle", { name: device.name }), async () => {
                        const code = await ok(api.v1.factories[":id"].gateways[":gatewayId"]["enrollment-code"].$post(gateway(device)));
                        return { code: code.code, expires: `${when(code.expiresAt, zones.get(device.factoryId))}` };
                      })
                    }
                  />
                  <Action
                    label={t("rotate")}
                    question={t("rotateConfirm", { name: device.name })}
                    run={() =>
                      act(t("rotatedTitle", { name: device.name }), async () => {
                        const rotated = await ok(api.v1.factories[":id"].gateways[":gatewayId"].rotate.$post(gateway(device)));
                        return { token: rotated.token, "private key": rotated.privateKey };
                      })
                    }
                  />
                  <Action
                    label={t("revoke")}
                    danger
                    question={t("revokeConfirm", { name: device.name })}
                    run={() =>
                      act("", async () => {
                        await ok(api.v1.factories[":id"].gateways[":gatewayId"].revoke.$post(gateway(device)));
                        return undefined;
                      })
                    }
                  />
                </>
              ),
          },
        ]}
      />
    </section>
  );
}

/** A gateway action as a link-style button; with a `question`, it runs only once the person confirms. */
function Action({ label, question, danger, run }: { label: string; question?: string; danger?: boolean; run(): void }) {
  return (
    <button type="button" className={danger ? "link danger" : "link"} onClick={() => (question === undefined || confirm(question)) && run()}>
      {label}
    </button>
  );
}

type Heartbeat = NonNullable<Device["heartbeat"]>;

/** Bytes in the largest binary unit ("1.5 GiB"); "—" when not reported. */
function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${num(size, unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** One labelled figure of a detail card. */
function Figure({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** What a gateway's last heartbeat said about its buses, configuration, clock and disk; "not reported" where it said nothing. */
function GatewayDetail({ device, timeZone }: { device: Device; timeZone: string | undefined }) {
  const { t } = useTranslation("devices");
  const beat: Heartbeat | null = device.heartbeat;
  if (!beat) return <p className="muted small">{t("detail.noHeartbeat")}</p>;
  const notReported = <span className="muted">{t("detail.notReported")}</span>;
  const { buses, config, clock, disk } = beat;
  return (
    <div className="gateway-detail" data-testid="gateway-detail">
      <section>
        <h3>{t("detail.buses")}</h3>
        {!buses || buses.length === 0
          ? notReported
          : buses.map((bus) => (
              <dl className="figures compact" key={bus.bus} data-testid="gateway-bus">
                <Figure label={t("detail.bus")}>
                  {bus.bus}
                  <div className="muted small mono">{bus.link}</div>
                </Figure>
                <Figure label={t("detail.answered")}>{t("detail.answeredOf", { answered: num(bus.answered), requests: num(bus.requests) })}</Figure>
                <Figure label={t("detail.timeouts")}>{num(bus.timeouts)}</Figure>
                <Figure label={t("detail.crcErrors")}>{num(bus.crcErrors)}</Figure>
                <Figure label={t("detail.exceptions")}>{num(bus.exceptions)}</Figure>
                <Figure label={t("detail.portErrors")}>{num(bus.portErrors)}</Figure>
                <Figure label={t("detail.retries")}>{num(bus.retries)}</Figure>
                <Figure label={t("detail.badFrames")}>{bus.badFrames === undefined ? "—" : num(bus.badFrames)}</Figure>
                <Figure label={t("detail.strayFrames")}>{bus.strayFrames === undefined ? "—" : num(bus.strayFrames)}</Figure>
                <Figure label={t("detail.lastCycle")}>{bus.lastCycleMs === null || bus.lastCycleMs === undefined ? "—" : `${num(bus.lastCycleMs)} ms`}</Figure>
                {bus.lastError && <Figure label={t("detail.lastError")}>{bus.lastError}</Figure>}
              </dl>
            ))}
      </section>
      <section>
        <h3>{t("detail.config")}</h3>
        {!config ? (
          notReported
        ) : (
          <>
            <dl className="figures compact">
              <Figure label={t("detail.source")}>{t(`detail.sources.${config.source}`)}</Figure>
              <Figure label={t("detail.version")}>{config.version ?? "—"}</Figure>
              <Figure label={t("detail.appliedAt")}>{when(config.appliedAt, timeZone)}</Figure>
              <Figure label={t("detail.checkedAt")}>{when(config.checkedAt, timeZone)}</Figure>
              {config.lastError && <Figure label={t("detail.lastError")}>{config.lastError}</Figure>}
            </dl>
            {config.refused ? (
              <div className="refused" data-testid="gateway-refused">
                <p className="bad small">{t("detail.refused", { version: config.refused.version, at: when(config.refused.at, timeZone) })}</p>
                <ul className="small">
                  {config.refused.problems.map((problem) => (
                    <li key={`${problem.path}/${problem.message}`}>
                      <span className="mono">{problem.path}</span>: {problem.message}
                    </li>
                  ))}
                </ul>
              </div>
            ) : (
              <p className="muted small">{t("detail.noneRefused")}</p>
            )}
          </>
        )}
      </section>
      <section>
        <h3>{t("detail.clock")}</h3>
        <dl className="figures compact">
          <Figure label={t("detail.offset")}>{beat.clockOffsetMs === null ? "—" : `${num(beat.clockOffsetMs)} ms`}</Figure>
          {clock ? (
            <>
              <Figure label={t("detail.clockState")}>
                <span className={clock.state === "trusted" ? "pill ok" : "pill bad"}>{t(`detail.clockStates.${clock.state}`)}</span>
              </Figure>
              <Figure label={t("detail.clockSource")}>{clock.source ? t(`detail.clockSources.${clock.source}`) : "—"}</Figure>
              {clock.untrustedSince && <Figure label={t("detail.untrustedSince")}>{when(clock.untrustedSince, timeZone)}</Figure>}
              {clock.reason && <Figure label={t("detail.reason")}>{clock.reason}</Figure>}
            </>
          ) : null}
        </dl>
      </section>
      <section>
        <h3>{t("detail.disk")}</h3>
        <dl className="figures compact">
          <Figure label={t("detail.outbox")}>
            {beat.diskBytes === undefined ? notReported : t("detail.outboxOf", { used: bytes(beat.diskBytes), cap: bytes(beat.diskCapBytes) })}
          </Figure>
          {disk ? (
            <>
              <Figure label={t("detail.diskState")}>
                <span className={disk.state === "ok" ? "pill ok" : "pill bad"}>{t(`detail.diskStates.${disk.state}`)}</span>
              </Figure>
              <Figure label={t("detail.free")}>{bytes(disk.freeBytes)}</Figure>
              {disk.since && <Figure label={t("detail.fullSince")}>{when(disk.since, timeZone)}</Figure>}
              {disk.pendingReadings !== undefined && <Figure label={t("detail.pending")}>{num(disk.pendingReadings)}</Figure>}
              {disk.error && <Figure label={t("detail.lastError")}>{disk.error}</Figure>}
            </>
          ) : null}
        </dl>
      </section>
    </div>
  );
}
