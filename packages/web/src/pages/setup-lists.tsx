/**
 * Setup's lists with edit: factories (name, place → division and clock from the location catalogue, contracted
 * demand, supply voltage, billing cycle day), a factory's meters (name, line, parent, role, multiplier) and gateways.
 * A refused save shows each problem beside its field, as the API names it.
 */
import { type FormEvent, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, type Factories, type Locations, type Meters, ok } from "../api";
import { FieldError, type FieldErrors, FormError, fieldErrors } from "../fields";
import { num, when } from "../format";
import { useLoad } from "../hooks";

type Factory = Factories["factories"][number];
type Meter = Meters["meters"][number];
type Municipality = Locations["municipalities"][number];

const text = (form: FormData, name: string) => String(form.get(name) ?? "").trim();
const numberOrNull = (form: FormData, name: string) => (text(form, name) === "" ? null : Number(text(form, name)));
const placeKey = (state: string | null, municipality: string | null) => (state && municipality ? `${state}|${municipality}` : "");

const factoryFields = ["name", "rpu", "state", "municipality", "tariffDivision", "timeZone", "contractedDemandKw", "supplyVoltage", "billingCycleDay"] as const;

/** The division a place is billed in, as the catalogue allows: its only one, or a choice among the ones CFE splits it into. */
export function divisionsFor(locations: Locations | undefined, place: string): readonly string[] {
  if (!locations) return [];
  if (!place) return locations.divisions;
  const [state, municipality] = place.split("|");
  return locations.municipalities.find((entry) => entry.state === state && entry.municipality === municipality)?.divisions ?? locations.divisions;
}

function FactoryEdit({ factory, locations, onSaved, onCancel }: { factory: Factory; locations?: Locations; onSaved(): void; onCancel(): void }) {
  const { t } = useTranslation("setup");
  const [errors, setErrors] = useState<FieldErrors>();
  const [place, setPlace] = useState(placeKey(factory.state, factory.municipality));
  const divisionId = useId();
  const entry: Municipality | undefined = locations?.municipalities.find((item) => placeKey(item.state, item.municipality) === place);
  const divisions = divisionsFor(locations, place);
  const byState = new Map<string, Municipality[]>();
  for (const item of locations?.municipalities ?? []) byState.set(item.state, [...(byState.get(item.state) ?? []), item]);

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setErrors(undefined);
    const [state = null, municipality = null] = place ? place.split("|") : [];
    const moved = place !== placeKey(factory.state, factory.municipality);
    try {
      await ok(
        api.v1.factories[":id"].$patch({
          param: { id: factory.id },
          json: {
            name: text(form, "name"),
            // CFE's 12-digit service number; an empty field clears it.
            rpu: text(form, "rpu") || null,
            ...(moved && { state, municipality }),
            ...(text(form, "tariffDivision") && { tariffDivision: text(form, "tariffDivision") }),
            contractedDemandKw: numberOrNull(form, "contractedDemandKw"),
            supplyVoltage: (text(form, "supplyVoltage") || null) as "medium" | "high" | null,
            billingCycleDay: numberOrNull(form, "billingCycleDay"),
          },
        }),
      );
      onSaved();
    } catch (failure) {
      setErrors(fieldErrors(failure, factoryFields));
    }
  };

  return (
    <form className="form" aria-label={t("edit.factoryForm", { name: factory.name })} onSubmit={save} noValidate>
      <FormError errors={errors} />
      <label>
        {t("edit.name")} <input name="name" defaultValue={factory.name} />
        <FieldError errors={errors} path="name" />
      </label>
      <label>
        {t("edit.rpu")} <input name="rpu" defaultValue={factory.rpu ?? ""} inputMode="numeric" maxLength={12} />
        <FieldError errors={errors} path="rpu" />
      </label>
      <label>
        {t("edit.municipality")}
        <select name="place" value={place} onChange={(event) => setPlace(event.target.value)}>
          <option value="">{t("edit.noMunicipality")}</option>
          {[...byState.entries()].map(([state, items]) => (
            <optgroup key={state} label={state}>
              {items.map((item) => (
                <option key={item.municipality} value={placeKey(item.state, item.municipality)}>
                  {item.municipality} ({item.state})
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        <FieldError errors={errors} path="municipality" />
        <FieldError errors={errors} path="state" />
      </label>
      <div className="row">
        <label htmlFor={divisionId}>
          {t("edit.division")}
          {divisions.length === 1 ? (
            <input id={divisionId} name="tariffDivision" value={divisions[0]} readOnly aria-readonly="true" />
          ) : (
            <select
              id={divisionId}
              name="tariffDivision"
              key={place}
              defaultValue={place === placeKey(factory.state, factory.municipality) ? (factory.tariffDivision ?? "") : ""}
            >
              <option value="">{t("edit.divisionFromPlace")}</option>
              {divisions.map((division) => (
                <option key={division} value={division}>
                  {division}
                </option>
              ))}
            </select>
          )}
          <FieldError errors={errors} path="tariffDivision" />
        </label>
        <label>
          {t("edit.clock")}
          <input value={entry?.timeZone ?? factory.timeZone} readOnly aria-readonly="true" data-testid="factory-clock" />
          <FieldError errors={errors} path="timeZone" />
        </label>
      </div>
      <div className="row">
        <label>
          {t("edit.contractedDemand")} <input name="contractedDemandKw" type="number" step="any" defaultValue={factory.contractedDemandKw ?? ""} />
          <FieldError errors={errors} path="contractedDemandKw" />
        </label>
        <label>
          {t("edit.supplyVoltage")}
          <select name="supplyVoltage" defaultValue={factory.supplyVoltage ?? ""}>
            <option value="">—</option>
            <option value="medium">{t("edit.voltage.medium")}</option>
            <option value="high">{t("edit.voltage.high")}</option>
          </select>
          <FieldError errors={errors} path="supplyVoltage" />
        </label>
        <label>
          {t("edit.billingCycleDay")} <input name="billingCycleDay" type="number" defaultValue={factory.billingCycleDay ?? ""} />
          <FieldError errors={errors} path="billingCycleDay" />
        </label>
      </div>
      <div className="row">
        <button type="submit">{t("edit.save")}</button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t("edit.cancel")}
        </button>
      </div>
    </form>
  );
}

const meterFields = ["name", "line", "multiplier", "role", "parentId"] as const;

function MeterEdit({ factoryId, meter, meters, onSaved, onCancel }: { factoryId: string; meter: Meter; meters: Meter[]; onSaved(): void; onCancel(): void }) {
  const { t } = useTranslation("setup");
  const [errors, setErrors] = useState<FieldErrors>();
  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setErrors(undefined);
    try {
      await ok(
        api.v1.factories[":id"].meters[":meterId"].$patch({
          param: { id: factoryId, meterId: meter.id },
          json: {
            name: text(form, "name"),
            line: text(form, "line"),
            multiplier: Number(text(form, "multiplier")),
            role: text(form, "role") === "billing" ? "billing" : "sub",
            parentId: text(form, "parentId") || null,
          },
        }),
      );
      onSaved();
    } catch (failure) {
      setErrors(fieldErrors(failure, meterFields));
    }
  };
  return (
    <form className="form" aria-label={t("edit.meterForm", { name: meter.name })} onSubmit={save} noValidate>
      <FormError errors={errors} />
      <div className="row">
        <label>
          {t("edit.name")} <input name="name" defaultValue={meter.name} />
          <FieldError errors={errors} path="name" />
        </label>
        <label>
          {t("edit.line")} <input name="line" defaultValue={meter.line} />
          <FieldError errors={errors} path="line" />
        </label>
        <label>
          {t("edit.multiplier")} <input name="multiplier" type="number" step="any" defaultValue={meter.multiplier} />
          <FieldError errors={errors} path="multiplier" />
        </label>
      </div>
      <div className="row">
        <label>
          {t("edit.role")}
          <select name="role" defaultValue={meter.role}>
            <option value="sub">{t("edit.roles.sub")}</option>
            <option value="billing">{t("edit.roles.billing")}</option>
          </select>
          <FieldError errors={errors} path="role" />
        </label>
        <label>
          {t("edit.parent")}
          <select name="parentId" defaultValue={meter.parentId ?? ""}>
            <option value="">{t("edit.noParent")}</option>
            {meters
              .filter((other) => other.id !== meter.id)
              .map((other) => (
                <option key={other.id} value={other.id}>
                  {other.name} · {other.line}
                </option>
              ))}
          </select>
          <FieldError errors={errors} path="parentId" />
        </label>
      </div>
      <div className="row">
        <button type="submit">{t("edit.save")}</button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t("edit.cancel")}
        </button>
      </div>
    </form>
  );
}

function GatewayEdit({
  factoryId,
  gateway,
  onSaved,
  onCancel,
}: {
  factoryId: string;
  gateway: { id: string; name: string };
  onSaved(): void;
  onCancel(): void;
}) {
  const { t } = useTranslation("setup");
  const [errors, setErrors] = useState<FieldErrors>();
  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setErrors(undefined);
    try {
      await ok(
        api.v1.factories[":id"].gateways[":gatewayId"].$patch({
          param: { id: factoryId, gatewayId: gateway.id },
          json: { name: text(new FormData(event.currentTarget), "name") },
        }),
      );
      onSaved();
    } catch (failure) {
      setErrors(fieldErrors(failure, ["name"]));
    }
  };
  return (
    <form className="form" aria-label={t("edit.gatewayForm", { name: gateway.name })} onSubmit={save} noValidate>
      <FormError errors={errors} />
      <label>
        {t("edit.name")} <input name="name" defaultValue={gateway.name} />
        <FieldError errors={errors} path="name" />
      </label>
      <div className="row">
        <button type="submit">{t("edit.save")}</button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t("edit.cancel")}
        </button>
      </div>
    </form>
  );
}

/** The factory's meters and gateways, each with its edit form. */
function FactoryParts({ factory }: { factory: Factory }) {
  const { t } = useTranslation("setup");
  const meters = useLoad(() => ok(api.v1.factories[":id"].meters.$get({ param: { id: factory.id } })), [factory.id]);
  const gateways = useLoad(() => ok(api.v1.factories[":id"].gateways.$get({ param: { id: factory.id } })), [factory.id]);
  const [editing, setEditing] = useState<string>();
  const [editingGateway, setEditingGateway] = useState<string>();
  const list = meters.data?.meters ?? [];
  const nameOf = (id: string | null) => list.find((meter) => meter.id === id)?.name ?? "—";
  return (
    <div className="grid-2">
      <div className="card">
        <h2>{t("edit.meters", { factory: factory.name })}</h2>
        <table className="data" data-testid="meters-table">
          <thead>
            <tr>
              <th>{t("edit.name")}</th>
              <th>{t("edit.line")}</th>
              <th>{t("edit.parent")}</th>
              <th className="num">{t("edit.multiplier")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((meter) =>
              editing === meter.id ? (
                <tr key={meter.id} className="edit-row">
                  <td colSpan={5}>
                    <MeterEdit
                      factoryId={factory.id}
                      meter={meter}
                      meters={list}
                      onCancel={() => setEditing(undefined)}
                      onSaved={() => {
                        setEditing(undefined);
                        meters.reload();
                      }}
                    />
                  </td>
                </tr>
              ) : (
                <tr key={meter.id} data-testid="meter-row">
                  <td>
                    {meter.name} {meter.role === "billing" && <span className="pill ok">{t("edit.roles.billingShort")}</span>}
                  </td>
                  <td>{meter.line}</td>
                  <td>{nameOf(meter.parentId)}</td>
                  <td className="num">{num(meter.multiplier, meter.multiplier % 1 === 0 ? 0 : 2)}</td>
                  <td>
                    <button type="button" className="link" onClick={() => setEditing(meter.id)} aria-label={t("edit.editNamed", { name: meter.name })}>
                      {t("edit.edit")}
                    </button>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
      <div className="card">
        <h2>{t("edit.gateways", { factory: factory.name })}</h2>
        <table className="data" data-testid="gateways-table">
          <thead>
            <tr>
              <th>{t("edit.name")}</th>
              <th>{t("edit.lastSeen")}</th>
              <th>{t("edit.state")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(gateways.data?.gateways ?? []).map((gateway) =>
              editingGateway === gateway.id ? (
                <tr key={gateway.id} className="edit-row">
                  <td colSpan={4}>
                    <GatewayEdit
                      factoryId={factory.id}
                      gateway={gateway}
                      onCancel={() => setEditingGateway(undefined)}
                      onSaved={() => {
                        setEditingGateway(undefined);
                        gateways.reload();
                      }}
                    />
                  </td>
                </tr>
              ) : (
                <tr key={gateway.id} data-testid="gateway-row">
                  <td>{gateway.name}</td>
                  <td>{when(gateway.lastSeenAt, factory.timeZone)}</td>
                  <td>
                    <span className={`pill ${gateway.revoked ? "bad" : "ok"}`}>{t(gateway.revoked ? "edit.revoked" : "edit.active")}</span>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link"
                      onClick={() => setEditingGateway(gateway.id)}
                      aria-label={t("edit.editNamed", { name: gateway.name })}
                    >
                      {t("edit.edit")}
                    </button>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
        <p className="muted small">
          <a href="#/devices">{t("edit.credentials")}</a>
        </p>
      </div>
    </div>
  );
}

/** The organization's factories with an edit form each, and the chosen factory's meters and gateways. */
export function SetupLists({ reloadKey }: { reloadKey?: unknown }) {
  const { t } = useTranslation("setup");
  const factories = useLoad(() => ok(api.v1.factories.$get()), [reloadKey]);
  const locations = useLoad(() => ok(api.v1.locations.$get()), []);
  const [editing, setEditing] = useState<string>();
  const [chosen, setChosen] = useState<string>();
  const list = factories.data?.factories ?? [];
  const shown = list.find((factory) => factory.id === chosen) ?? list[0];
  return (
    <>
      <div className="card">
        <h2>{t("edit.factories")}</h2>
        <div className="scroll">
          <table className="data" data-testid="factories-table">
            <thead>
              <tr>
                <th>{t("edit.name")}</th>
                <th>{t("edit.municipality")}</th>
                <th>{t("edit.division")}</th>
                <th>{t("edit.clock")}</th>
                <th className="num">{t("edit.contractedDemand")}</th>
                <th>{t("edit.supplyVoltage")}</th>
                <th className="num">{t("edit.billingCycleDay")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((factory) =>
                editing === factory.id ? (
                  <tr key={factory.id} className="edit-row">
                    <td colSpan={8}>
                      <FactoryEdit
                        factory={factory}
                        locations={locations.data}
                        onCancel={() => setEditing(undefined)}
                        onSaved={() => {
                          setEditing(undefined);
                          factories.reload();
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={factory.id} data-testid="factory-row">
                    <td>
                      <button type="button" className="link" onClick={() => setChosen(factory.id)}>
                        {factory.name}
                      </button>
                    </td>
                    <td>{factory.municipality ? `${factory.municipality} (${factory.state})` : "—"}</td>
                    <td>{factory.tariffDivision ?? "—"}</td>
                    <td>{factory.timeZone}</td>
                    <td className="num">{factory.contractedDemandKw === null ? "—" : `${num(factory.contractedDemandKw)} kW`}</td>
                    <td>{factory.supplyVoltage ? t(`edit.voltage.${factory.supplyVoltage}`) : "—"}</td>
                    <td className="num">{factory.billingCycleDay ?? "—"}</td>
                    <td>
                      <button type="button" className="link" onClick={() => setEditing(factory.id)} aria-label={t("edit.editNamed", { name: factory.name })}>
                        {t("edit.edit")}
                      </button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      </div>
      {shown && <FactoryParts key={shown.id} factory={shown} />}
    </>
  );
}
