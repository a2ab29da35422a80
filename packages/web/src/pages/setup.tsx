/** Onboarding for admins: factories, their gateways (with a one-time enrollment code) and meters. */
import { type FormEvent, useState } from "react";
import { api, ok } from "../api";
import { useLoad } from "../hooks";
import { ProblemBox, type Shown, shown } from "../problem";
import { OneTimeSecret } from "./secret";
import { SetupLists } from "./setup-lists";

const field = (form: FormData, name: string) => String(form.get(name) ?? "").trim();
const optional = (form: FormData, name: string) => field(form, name) || undefined;

export function Setup({ admin }: { admin: boolean }) {
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const devices = useLoad(() => ok(api.v1.devices.$get()), []);
  const [error, setError] = useState<Shown>();
  const [notice, setNotice] = useState<string>();
  const [code, setCode] = useState<{ title: string; values: Record<string, string> }>();

  const submit = (run: (form: FormData) => Promise<string | undefined>) => async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    setError(undefined);
    setNotice(undefined);
    try {
      const message = await run(new FormData(element));
      element.reset();
      setNotice(message);
      factories.reload();
      devices.reload();
    } catch (failure) {
      setError(shown(failure));
    }
  };

  if (!admin) return <p className="muted">Only an organization admin can set up factories, gateways and meters.</p>;
  const list = factories.data?.factories ?? [];
  return (
    <section>
      <h1>Setup</h1>
      <ProblemBox error={error} />
      {notice && <p className="notice">{notice}</p>}
      {code && <OneTimeSecret title={code.title} values={code.values} onClose={() => setCode(undefined)} />}
      <SetupLists reloadKey={factories.data} />
      <div className="grid-2">
        <form
          className="card form"
          aria-label="New factory"
          onSubmit={submit(async (form) => {
            const created = await ok(
              api.v1.factories.$post({
                json: {
                  name: field(form, "name"),
                  timeZone: field(form, "timeZone"),
                  tariffCode: field(form, "tariffCode"),
                  tariffZone: optional(form, "tariffZone"),
                  tariffDivision: optional(form, "tariffDivision"),
                  contractedDemandKw: form.get("contractedDemandKw") ? Number(form.get("contractedDemandKw")) : undefined,
                  currency: field(form, "currency") || "MXN",
                },
              }),
            );
            return `Factory ${created.name} created.`;
          })}
        >
          <h2>New factory</h2>
          <label>
            Name <input name="name" required />
          </label>
          <label>
            Time zone <input name="timeZone" defaultValue="America/Mexico_City" required />
          </label>
          <label>
            Tariff
            <select name="tariffCode" defaultValue="cfe-gdmth">
              <option value="cfe-gdmth">CFE GDMTH</option>
              <option value="cfe-gdmto">CFE GDMTO</option>
              <option value="urdb">URDB rate</option>
              <option value="flat">Flat price</option>
            </select>
          </label>
          <div className="row">
            <label>
              Zone
              <select name="tariffZone" defaultValue="central">
                <option value="central">central</option>
                <option value="baja-california">baja-california</option>
                <option value="baja-california-sur">baja-california-sur</option>
              </select>
            </label>
            <label>
              Division <input name="tariffDivision" placeholder="e.g. noreste" />
            </label>
          </div>
          <div className="row">
            <label>
              Contracted demand (kW) <input name="contractedDemandKw" type="number" min="1" step="any" />
            </label>
            <label>
              Currency <input name="currency" defaultValue="MXN" maxLength={3} />
            </label>
          </div>
          <button type="submit">Create factory</button>
        </form>
        <div>
          <form
            className="card form"
            aria-label="New gateway"
            onSubmit={submit(async (form) => {
              const created = await ok(
                api.v1.factories[":id"].gateways.$post({ param: { id: field(form, "factoryId") }, json: { name: field(form, "name") } }),
              );
              setCode({
                title: `Enrollment code for ${created.name}`,
                values: { code: created.code, gateway: created.deviceId, expires: new Date(created.expiresAt).toLocaleString() },
              });
              return `Gateway ${created.name} registered: enroll it with the code below.`;
            })}
          >
            <h2>New gateway</h2>
            <label>
              Factory
              <select name="factoryId" required>
                {list.map((factory) => (
                  <option key={factory.id} value={factory.id}>
                    {factory.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Name <input name="name" required placeholder="Gateway 2" />
            </label>
            <button type="submit" disabled={list.length === 0}>
              Register and get enrollment code
            </button>
          </form>
          <form
            className="card form"
            aria-label="New meter"
            onSubmit={submit(async (form) => {
              const [factoryId = "", deviceId = ""] = field(form, "gateway").split("/");
              const created = await ok(
                api.v1.factories[":id"].meters.$post({
                  param: { id: factoryId },
                  json: {
                    deviceId,
                    name: field(form, "name"),
                    line: field(form, "line"),
                    multiplier: Number(form.get("multiplier") || 1),
                    role: field(form, "role") === "billing" ? "billing" : "sub",
                    parentId: field(form, "parentId") || null,
                  },
                }),
              );
              return `Meter ${created.name} added (${created.id}).`;
            })}
          >
            <h2>New meter</h2>
            <label>
              Gateway
              <select name="gateway" required>
                {(devices.data?.devices ?? [])
                  .filter((device) => !device.revoked)
                  .map((device) => (
                    <option key={device.id} value={`${device.factoryId}/${device.id}`}>
                      {list.find((f) => f.id === device.factoryId)?.name ?? device.factoryId} · {device.name}
                    </option>
                  ))}
              </select>
            </label>
            <div className="row">
              <label>
                Name <input name="name" required placeholder="Compressor 3" />
              </label>
              <label>
                Line <input name="line" required placeholder="Compressors" />
              </label>
            </div>
            <label>
              CT × VT multiplier <input name="multiplier" type="number" min="0" step="any" defaultValue="1" />
            </label>
            <div className="row">
              <label>
                Role
                <select name="role" defaultValue="sub">
                  <option value="sub">Sub-meter (allocates the bill)</option>
                  <option value="billing">Billing meter (the utility's point of supply)</option>
                </select>
              </label>
              <label>
                Upstream meter <input name="parentId" placeholder="mtr_… (empty: directly under the supply)" />
              </label>
            </div>
            <button type="submit">Add meter</button>
          </form>
        </div>
      </div>
    </section>
  );
}
