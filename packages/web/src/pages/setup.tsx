/** Onboarding for admins: factories, their gateways (with a one-time enrollment code) and meters. */
import type { InferRequestType } from "hono/client";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, ok } from "../api";
import { tariffName, when } from "../format";
import { useLoad } from "../hooks";
import { Options } from "../options";
import { useFormOutcome } from "../problem";
import { OneTimeSecret } from "./secret";
import { SetupLists } from "./setup-lists";

/** What creating a factory takes (core Factory.create): tariff codes and zones are the API's enumerations. */
type NewFactory = InferRequestType<typeof api.v1.factories.$post>["json"];

const field = (form: FormData, name: string) => String(form.get(name) ?? "").trim();
const optional = (form: FormData, name: string) => field(form, name) || undefined;

export function Setup({ admin }: { admin: boolean }) {
  const { t } = useTranslation("setup");
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const devices = useLoad(() => ok(api.v1.devices.$get()), []);
  const [code, setCode] = useState<{ title: string; values: Record<string, string> }>();
  const { submit, outcome } = useFormOutcome(() => {
    factories.reload();
    devices.reload();
  });

  if (!admin) return <p className="muted">{t("adminOnly")}</p>;
  const list = factories.data?.factories ?? [];
  const zoneOf = (factoryId: string) => list.find((factory) => factory.id === factoryId)?.timeZone;
  return (
    <section>
      <h1>{t("title")}</h1>
      {outcome}
      {code && <OneTimeSecret title={code.title} values={code.values} onClose={() => setCode(undefined)} />}
      <SetupLists reloadKey={factories.data} />
      <div className="grid-2">
        <form
          className="card form"
          aria-label={t("factory.title")}
          onSubmit={submit(async (form) => {
            const created = await ok(
              api.v1.factories.$post({
                json: {
                  name: field(form, "name"),
                  timeZone: field(form, "timeZone"),
                  // The select's values are the API's own (a wrong one is refused with its allowed values).
                  tariffCode: field(form, "tariffCode") as NewFactory["tariffCode"],
                  tariffZone: optional(form, "tariffZone") as NewFactory["tariffZone"],
                  tariffDivision: optional(form, "tariffDivision"),
                  contractedDemandKw: form.get("contractedDemandKw") ? Number(form.get("contractedDemandKw")) : undefined,
                  currency: field(form, "currency") || "MXN",
                },
              }),
            );
            return t("factory.created", { name: created.name });
          })}
        >
          <h2>{t("factory.title")}</h2>
          <label>
            {t("name")} <input name="name" required />
          </label>
          <label>
            {t("factory.timeZone")} <input name="timeZone" defaultValue="America/Mexico_City" required />
          </label>
          <label>
            {t("factory.tariff")}
            <select name="tariffCode" defaultValue="cfe-gdmth">
              <Options values={["cfe-gdmth", "cfe-gdmto", "urdb", "flat"]} label={(code) => tariffName(code)} />
            </select>
          </label>
          <div className="row">
            <label>
              {t("factory.zone")}
              <select name="tariffZone" defaultValue="central">
                <Options values={["central", "baja-california", "baja-california-sur"]} label={(zone) => t(`tariffZone.${zone}`)} />
              </select>
            </label>
            <label>
              {t("factory.division")} <input name="tariffDivision" placeholder={t("factory.divisionExample")} />
            </label>
          </div>
          <div className="row">
            <label>
              {t("factory.contracted")} <input name="contractedDemandKw" type="number" min="1" step="any" />
            </label>
            <label>
              {t("factory.currency")} <input name="currency" defaultValue="MXN" maxLength={3} />
            </label>
          </div>
          <button type="submit">{t("factory.submit")}</button>
        </form>
        <div>
          <form
            className="card form"
            aria-label={t("gateway.title")}
            onSubmit={submit(async (form) => {
              const created = await ok(
                api.v1.factories[":id"].gateways.$post({ param: { id: field(form, "factoryId") }, json: { name: field(form, "name") } }),
              );
              setCode({
                title: t("gateway.codeTitle", { name: created.name }),
                values: { code: created.code, gateway: created.deviceId, expires: when(created.expiresAt, zoneOf(field(form, "factoryId"))) },
              });
              return t("gateway.created", { name: created.name });
            })}
          >
            <h2>{t("gateway.title")}</h2>
            <label>
              {t("factoryLabel")}
              <select name="factoryId" required>
                <Options values={list} value={(factory) => factory.id} label={(factory) => factory.name} />
              </select>
            </label>
            <label>
              {t("name")} <input name="name" required placeholder={t("gateway.example")} />
            </label>
            <button type="submit" disabled={list.length === 0}>
              {t("gateway.submit")}
            </button>
          </form>
          <form
            className="card form"
            aria-label={t("meter.title")}
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
              return t("meter.created", { name: created.name, id: created.id });
            })}
          >
            <h2>{t("meter.title")}</h2>
            <label>
              {t("meter.gateway")}
              <select name="gateway" required>
                <Options
                  values={(devices.data?.devices ?? []).filter((device) => !device.revoked)}
                  value={(device) => `${device.factoryId}/${device.id}`}
                  label={(device) => `${list.find((f) => f.id === device.factoryId)?.name ?? device.factoryId} · ${device.name}`}
                />
              </select>
            </label>
            <div className="row">
              <label>
                {t("name")} <input name="name" required placeholder={t("meter.nameExample")} />
              </label>
              <label>
                {t("meter.line")} <input name="line" required placeholder={t("meter.lineExample")} />
              </label>
            </div>
            <label>
              {t("meter.multiplier")} <input name="multiplier" type="number" min="0" step="any" defaultValue="1" />
            </label>
            <div className="row">
              <label>
                {t("meter.role")}
                <select name="role" defaultValue="sub">
                  <option value="sub">{t("meter.roles.sub")}</option>
                  <option value="billing">{t("meter.roles.billing")}</option>
                </select>
              </label>
              <label>
                {t("meter.parent")} <input name="parentId" placeholder={t("meter.parentHint")} />
              </label>
            </div>
            <button type="submit">{t("meter.submit")}</button>
          </form>
        </div>
      </div>
    </section>
  );
}
