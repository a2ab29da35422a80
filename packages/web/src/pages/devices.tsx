/** Gateway health: last seen, backlog, route, rejected readings, clock offset; stale gateways flagged; credentials for admins. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, api, type Devices as DeviceList, ok } from "../api";
import { ago, num, when } from "../format";
import { useLoad } from "../hooks";
import { i18n } from "../i18n";
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

  if (devices.error) return <p className="error">{devices.error.message}</p>;
  const list = devices.data?.devices ?? [];
  const stale = list.filter((d) => status(d, now).state === "stale").length;
  return (
    <section>
      <div className="heading">
        <h1>{t("title")}</h1>
        <button type="button" className="secondary" onClick={devices.reload}>
          {t("refresh")}
        </button>
      </div>
      <p className="muted" data-testid="devices-count">
        {t("gateways", { count: list.length, n: num(list.length) })}
        {stale > 0 ? ` · ${t("stale", { count: stale, n: num(stale), minutes: staleAfterMs / 60_000 })}` : ""}
      </p>
      <ZoneNote zones={list.map((device) => zones.get(device.factoryId))} />
      {error && <p className="error">{error}</p>}
      {secret && <OneTimeSecret title={secret.title} values={secret.values} onClose={() => setSecret(undefined)} />}
      <div className="table-scroll">
        <table className="data" data-testid="devices-table">
          <thead>
            <tr>
              <th>{t("gateway")}</th>
              <th>{t("factory")}</th>
              <th>{t("statusHeader")}</th>
              <th>{t("lastSeen")}</th>
              <th className="num">{t("backlog")}</th>
              <th>{t("route")}</th>
              <th className="num">{t("rejected")}</th>
              <th className="num">{t("clockOffset")}</th>
              <th>{t("signingKey")}</th>
              {admin && <th />}
            </tr>
          </thead>
          <tbody>
            {list.map((device) => {
              const state = status(device, now);
              const zone = zones.get(device.factoryId);
              return (
                <tr key={device.id} className={state.tone === "bad" ? "row-bad" : ""}>
                  <td>
                    {device.name}
                    <div className="muted small mono">{device.id}</div>
                  </td>
                  <td>{names.get(device.factoryId) ?? device.factoryId}</td>
                  <td>
                    <span className={`pill ${state.tone}`} data-state={state.state}>
                      {t(`status.${state.state}`)}
                    </span>
                  </td>
                  <td title={device.lastSeenAt ? when(device.lastSeenAt, zone) : undefined}>{ago(device.lastSeenAt, now)}</td>
                  <td className="num">
                    {num(device.heartbeat?.backlog)}
                    {device.heartbeat?.oldestUnsentSeconds ? (
                      <div className="muted small">{t("oldest", { age: duration(device.heartbeat.oldestUnsentSeconds) })}</div>
                    ) : null}
                  </td>
                  <td>{t(`routes.${route(device)}`)}</td>
                  <td className="num">{num(device.heartbeat?.rejected)}</td>
                  <td className="num">
                    {device.heartbeat?.clockOffsetMs === null || device.heartbeat === null ? "—" : `${num(device.heartbeat.clockOffsetMs)} ms`}
                  </td>
                  <td>{device.keyEnrolled ? t("keyEnrolled") : t("keyNone")}</td>
                  {admin && (
                    <td className="actions">
                      {!device.revoked && (
                        <>
                          <button
                            type="button"
                            className="link"
                            onClick={() =>
                              act(t("codeTitle", { name: device.name }), async () => {
                                const code = await ok(
                                  api.v1.factories[":id"].gateways[":gatewayId"]["enrollment-code"].$post({
                                    param: { id: device.factoryId, gatewayId: device.id },
                                  }),
                                );
                                return { code: code.code, expires: `${when(code.expiresAt, zone)}` };
                              })
                            }
                          >
                            {t("newCode")}
                          </button>
                          <button
                            type="button"
                            className="link"
                            onClick={() =>
                              confirm(t("rotateConfirm", { name: device.name })) &&
                              act(t("rotatedTitle", { name: device.name }), async () => {
                                const rotated = await ok(
                                  api.v1.factories[":id"].gateways[":gatewayId"].rotate.$post({ param: { id: device.factoryId, gatewayId: device.id } }),
                                );
                                return { token: rotated.token, "private key": rotated.privateKey };
                              })
                            }
                          >
                            {t("rotate")}
                          </button>
                          <button
                            type="button"
                            className="link danger"
                            onClick={() =>
                              confirm(t("revokeConfirm", { name: device.name })) &&
                              act("", async () => {
                                await ok(
                                  api.v1.factories[":id"].gateways[":gatewayId"].revoke.$post({ param: { id: device.factoryId, gatewayId: device.id } }),
                                );
                                return undefined;
                              })
                            }
                          >
                            {t("revoke")}
                          </button>
                        </>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
