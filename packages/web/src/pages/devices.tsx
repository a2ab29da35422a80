/** Gateway health: last seen, backlog, route, rejected readings, clock offset; stale gateways flagged; credentials for admins. */
import { useState } from "react";
import { ApiError, api, type Devices as DeviceList, ok } from "../api";
import { ago, num, when } from "../format";
import { useLoad } from "../hooks";
import { OneTimeSecret } from "./secret";

/** Three missed 5-minute rounds: the gateway or its network is down. */
const staleAfterMs = 15 * 60_000;

type Device = DeviceList["devices"][number];

function route(device: Device): string {
  const success = device.heartbeat?.lastSuccess;
  if (!success) return "—";
  const kinesis = success.kinesis ? Date.parse(success.kinesis) : 0;
  const http = success.http ? Date.parse(success.http) : 0;
  if (!kinesis && !http) return "none yet";
  return kinesis >= http ? "Kinesis" : "HTTP (fallback)";
}

function status(device: Device, now: number): { label: string; tone: "ok" | "warn" | "bad" | "off" } {
  if (device.revoked) return { label: "revoked", tone: "off" };
  if (!device.lastSeenAt) return { label: "never seen", tone: "warn" };
  if (now - Date.parse(device.lastSeenAt) > staleAfterMs) return { label: "stale", tone: "bad" };
  return { label: "online", tone: "ok" };
}

export function Devices({ admin }: { admin: boolean }) {
  const devices = useLoad(() => ok(api.v1.devices.$get()), []);
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const [secret, setSecret] = useState<{ title: string; values: Record<string, string | null> }>();
  const [error, setError] = useState<string>();
  const now = Date.now();
  const names = new Map(factories.data?.factories.map((f) => [f.id, f.name]));

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
  const stale = list.filter((d) => status(d, now).label === "stale").length;
  return (
    <section>
      <div className="heading">
        <h1>Devices</h1>
        <button type="button" className="secondary" onClick={devices.reload}>
          Refresh
        </button>
      </div>
      <p className="muted">
        {list.length} gateways{stale > 0 ? ` · ${stale} stale (no contact for more than ${staleAfterMs / 60_000} min)` : ""}
      </p>
      {error && <p className="error">{error}</p>}
      {secret && <OneTimeSecret title={secret.title} values={secret.values} onClose={() => setSecret(undefined)} />}
      <table className="data" data-testid="devices-table">
        <thead>
          <tr>
            <th>Gateway</th>
            <th>Factory</th>
            <th>Status</th>
            <th>Last seen</th>
            <th className="num">Backlog</th>
            <th>Route</th>
            <th className="num">Rejected</th>
            <th className="num">Clock offset</th>
            <th>Signing key</th>
            {admin && <th />}
          </tr>
        </thead>
        <tbody>
          {list.map((device) => {
            const state = status(device, now);
            return (
              <tr key={device.id} className={state.tone === "bad" ? "row-bad" : ""}>
                <td>
                  {device.name}
                  <div className="muted small mono">{device.id}</div>
                </td>
                <td>{names.get(device.factoryId) ?? device.factoryId}</td>
                <td>
                  <span className={`pill ${state.tone}`}>{state.label}</span>
                </td>
                <td title={when(device.lastSeenAt)}>{ago(device.lastSeenAt, now)}</td>
                <td className="num">
                  {num(device.heartbeat?.backlog)}
                  {device.heartbeat?.oldestUnsentSeconds ? (
                    <div className="muted small">
                      oldest {ago(new Date(now - device.heartbeat.oldestUnsentSeconds * 1000).toISOString(), now).replace(" ago", "")}
                    </div>
                  ) : null}
                </td>
                <td>{route(device)}</td>
                <td className="num">{num(device.heartbeat?.rejected)}</td>
                <td className="num">
                  {device.heartbeat?.clockOffsetMs === null || device.heartbeat === null ? "—" : `${num(device.heartbeat.clockOffsetMs)} ms`}
                </td>
                <td>{device.keyEnrolled ? "enrolled" : "none"}</td>
                {admin && (
                  <td className="actions">
                    {!device.revoked && (
                      <>
                        <button
                          type="button"
                          className="link"
                          onClick={() =>
                            act(`Enrollment code for ${device.name}`, async () => {
                              const code = await ok(
                                api.v1.factories[":id"].gateways[":gatewayId"]["enrollment-code"].$post({
                                  param: { id: device.factoryId, gatewayId: device.id },
                                }),
                              );
                              return { code: code.code, expires: when(code.expiresAt) };
                            })
                          }
                        >
                          New code
                        </button>
                        <button
                          type="button"
                          className="link"
                          onClick={() =>
                            confirm(`Rotate ${device.name}'s token and signing key? The current ones stop working now.`) &&
                            act(`New credentials for ${device.name}`, async () => {
                              const rotated = await ok(
                                api.v1.factories[":id"].gateways[":gatewayId"].rotate.$post({ param: { id: device.factoryId, gatewayId: device.id } }),
                              );
                              return { token: rotated.token, "private key": rotated.privateKey };
                            })
                          }
                        >
                          Rotate
                        </button>
                        <button
                          type="button"
                          className="link danger"
                          onClick={() =>
                            confirm(`Revoke ${device.name}? It can no longer send readings.`) &&
                            act("", async () => {
                              await ok(api.v1.factories[":id"].gateways[":gatewayId"].revoke.$post({ param: { id: device.factoryId, gatewayId: device.id } }));
                              return undefined;
                            })
                          }
                        >
                          Revoke
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
    </section>
  );
}
