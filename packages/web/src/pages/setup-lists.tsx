/**
 * Setup's lists with edit: factories (name, place → division and clock from the location catalogue, contracted
 * demand, supply voltage, billing cycle day), a factory's meters (name, line, parent, role, multiplier) and gateways.
 * A refused save shows each problem beside its field, as the API names it.
 */
import { type ReactNode, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, type Factories, type Locations, type Meters, ok } from "../api";
import { ContractFields } from "../contract-fields";
import { Field, FieldForm, FormError } from "../fields";
import { num, when } from "../format";
import { useLoad } from "../hooks";
import { Options } from "../options";
import { DataTable, type DataTableProps } from "../table";

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

/** An edit row's form: the refusal above its fields, Save and Cancel under them. */
function EditForm({
  label,
  fields,
  onSave,
  onCancel,
  children,
}: {
  label: string;
  fields: readonly string[];
  onSave(form: FormData): Promise<void>;
  onCancel(): void;
  children: ReactNode;
}) {
  const { t } = useTranslation("setup");
  return (
    <FieldForm className="form" aria-label={label} fields={fields} onSave={onSave}>
      <FormError />
      {children}
      <div className="row">
        <button type="submit">{t("edit.save")}</button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t("edit.cancel")}
        </button>
      </div>
    </FieldForm>
  );
}

/** What an edit form is told: the save went through (reload the list), or the person cancelled. */
type Closing = { onSaved(): void; onCancel(): void };

/** A list whose rows each have an Edit button; the row being edited shows `form` in its place until saved or cancelled. */
function EditableTable<T extends { id: string; name: string }>({
  columns,
  form,
  onSaved,
  ...table
}: Omit<DataTableProps<T>, "rowKey" | "editRow"> & { form(row: T, closing: Closing): ReactNode; onSaved(): void }) {
  const { t } = useTranslation("setup");
  const [editing, setEditing] = useState<string>();
  const closing: Closing = {
    onCancel: () => setEditing(undefined),
    onSaved: () => {
      setEditing(undefined);
      onSaved();
    },
  };
  const edit = (row: T) => (
    <button type="button" className="link" onClick={() => setEditing(row.id)} aria-label={t("edit.editNamed", { name: row.name })}>
      {t("edit.edit")}
    </button>
  );
  return <DataTable {...table} columns={[...columns, { cell: edit }]} rowKey={(row) => row.id} editRow={(row) => row.id === editing && form(row, closing)} />;
}

function FactoryEdit({ factory, locations, onSaved, onCancel }: { factory: Factory; locations?: Locations } & Closing) {
  const { t } = useTranslation("setup");
  const [place, setPlace] = useState(placeKey(factory.state, factory.municipality));
  const divisionId = useId();
  const entry: Municipality | undefined = locations?.municipalities.find((item) => placeKey(item.state, item.municipality) === place);
  const divisions = divisionsFor(locations, place);
  const byState = new Map<string, Municipality[]>();
  for (const item of locations?.municipalities ?? []) byState.set(item.state, [...(byState.get(item.state) ?? []), item]);

  const save = async (form: FormData) => {
    const [state = null, municipality = null] = place ? place.split("|") : [];
    const moved = place !== placeKey(factory.state, factory.municipality);
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
  };

  return (
    <EditForm label={t("edit.factoryForm", { name: factory.name })} fields={factoryFields} onSave={save} onCancel={onCancel}>
      <Field label={t("edit.name")} path="name">
        <input name="name" defaultValue={factory.name} />
      </Field>
      <Field label={t("edit.rpu")} path="rpu">
        <input name="rpu" defaultValue={factory.rpu ?? ""} inputMode="numeric" maxLength={12} />
      </Field>
      <Field label={t("edit.municipality")} path={["municipality", "state"]}>
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
      </Field>
      <div className="row">
        <Field label={t("edit.division")} path="tariffDivision" htmlFor={divisionId}>
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
              <Options values={divisions} />
            </select>
          )}
        </Field>
        <Field label={t("edit.clock")} path="timeZone">
          <input value={entry?.timeZone ?? factory.timeZone} readOnly aria-readonly="true" data-testid="factory-clock" />
        </Field>
      </div>
      <div className="row">
        <ContractFields factory={factory} namespace="setup" prefix="edit" optionalVoltage />
        <Field label={t("edit.billingCycleDay")} path="billingCycleDay">
          <input name="billingCycleDay" type="number" defaultValue={factory.billingCycleDay ?? ""} />
        </Field>
      </div>
    </EditForm>
  );
}

const meterFields = ["name", "line", "multiplier", "role", "parentId"] as const;

function MeterEdit({ factoryId, meter, meters, onSaved, onCancel }: { factoryId: string; meter: Meter; meters: Meter[] } & Closing) {
  const { t } = useTranslation("setup");
  const save = async (form: FormData) => {
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
  };
  return (
    <EditForm label={t("edit.meterForm", { name: meter.name })} fields={meterFields} onSave={save} onCancel={onCancel}>
      <div className="row">
        <Field label={t("edit.name")} path="name">
          <input name="name" defaultValue={meter.name} />
        </Field>
        <Field label={t("edit.line")} path="line">
          <input name="line" defaultValue={meter.line} />
        </Field>
        <Field label={t("edit.multiplier")} path="multiplier">
          <input name="multiplier" type="number" step="any" defaultValue={meter.multiplier} />
        </Field>
      </div>
      <div className="row">
        <Field label={t("edit.role")} path="role">
          <select name="role" defaultValue={meter.role}>
            <option value="sub">{t("edit.roles.sub")}</option>
            <option value="billing">{t("edit.roles.billing")}</option>
          </select>
        </Field>
        <Field label={t("edit.parent")} path="parentId">
          <select name="parentId" defaultValue={meter.parentId ?? ""}>
            <option value="">{t("edit.noParent")}</option>
            <Options values={meters.filter((other) => other.id !== meter.id)} value={(other) => other.id} label={(other) => `${other.name} · ${other.line}`} />
          </select>
        </Field>
      </div>
    </EditForm>
  );
}

function GatewayEdit({ factoryId, gateway, onSaved, onCancel }: { factoryId: string; gateway: { id: string; name: string } } & Closing) {
  const { t } = useTranslation("setup");
  const save = async (form: FormData) => {
    await ok(
      api.v1.factories[":id"].gateways[":gatewayId"].$patch({
        param: { id: factoryId, gatewayId: gateway.id },
        json: { name: text(form, "name") },
      }),
    );
    onSaved();
  };
  return (
    <EditForm label={t("edit.gatewayForm", { name: gateway.name })} fields={["name"]} onSave={save} onCancel={onCancel}>
      <Field label={t("edit.name")} path="name">
        <input name="name" defaultValue={gateway.name} />
      </Field>
    </EditForm>
  );
}

/** The factory's meters and gateways, each with its edit form. */
function FactoryParts({ factory }: { factory: Factory }) {
  const { t } = useTranslation("setup");
  const meters = useLoad(() => ok(api.v1.factories[":id"].meters.$get({ param: { id: factory.id } })), [factory.id]);
  const gateways = useLoad(() => ok(api.v1.factories[":id"].gateways.$get({ param: { id: factory.id } })), [factory.id]);
  const list = meters.data?.meters ?? [];
  const nameOf = (id: string | null) => list.find((meter) => meter.id === id)?.name ?? "—";
  return (
    <div className="grid-2">
      <div className="card">
        <h2>{t("edit.meters", { factory: factory.name })}</h2>
        <EditableTable
          testId="meters-table"
          rows={list}
          rowProps={() => ({ "data-testid": "meter-row" })}
          onSaved={meters.reload}
          form={(meter, closing) => <MeterEdit factoryId={factory.id} meter={meter} meters={list} {...closing} />}
          columns={[
            {
              header: t("edit.name"),
              cell: (meter) => (
                <>
                  {meter.name} {meter.role === "billing" && <span className="pill ok">{t("edit.roles.billingShort")}</span>}
                </>
              ),
            },
            { header: t("edit.line"), cell: (meter) => meter.line },
            { header: t("edit.parent"), cell: (meter) => nameOf(meter.parentId) },
            { header: t("edit.multiplier"), num: true, cell: (meter) => num(meter.multiplier, meter.multiplier % 1 === 0 ? 0 : 2) },
          ]}
        />
      </div>
      <div className="card">
        <h2>{t("edit.gateways", { factory: factory.name })}</h2>
        <EditableTable
          testId="gateways-table"
          rows={gateways.data?.gateways ?? []}
          rowProps={() => ({ "data-testid": "gateway-row" })}
          onSaved={gateways.reload}
          form={(gateway, closing) => <GatewayEdit factoryId={factory.id} gateway={gateway} {...closing} />}
          columns={[
            { header: t("edit.name"), cell: (gateway) => gateway.name },
            { header: t("edit.lastSeen"), cell: (gateway) => when(gateway.lastSeenAt, factory.timeZone) },
            {
              header: t("edit.state"),
              cell: (gateway) => <span className={`pill ${gateway.revoked ? "bad" : "ok"}`}>{t(gateway.revoked ? "edit.revoked" : "edit.active")}</span>,
            },
          ]}
        />
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
  const [chosen, setChosen] = useState<string>();
  const list = factories.data?.factories ?? [];
  const shown = list.find((factory) => factory.id === chosen) ?? list[0];
  return (
    <>
      <div className="card">
        <h2>{t("edit.factories")}</h2>
        <EditableTable
          scroll="scroll"
          testId="factories-table"
          rows={list}
          rowProps={() => ({ "data-testid": "factory-row" })}
          onSaved={factories.reload}
          form={(factory, closing) => <FactoryEdit factory={factory} locations={locations.data} {...closing} />}
          columns={[
            {
              header: t("edit.name"),
              cell: (factory) => (
                <button type="button" className="link" onClick={() => setChosen(factory.id)}>
                  {factory.name}
                </button>
              ),
            },
            { header: t("edit.municipality"), cell: (factory) => (factory.municipality ? `${factory.municipality} (${factory.state})` : "—") },
            { header: t("edit.division"), cell: (factory) => factory.tariffDivision ?? "—" },
            { header: t("edit.clock"), cell: (factory) => factory.timeZone },
            {
              header: t("edit.contractedDemand"),
              num: true,
              cell: (factory) => (factory.contractedDemandKw === null ? "—" : `${num(factory.contractedDemandKw)} kW`),
            },
            { header: t("edit.supplyVoltage"), cell: (factory) => (factory.supplyVoltage ? t(`edit.voltage.${factory.supplyVoltage}`) : "—") },
            { header: t("edit.billingCycleDay"), num: true, cell: (factory) => factory.billingCycleDay ?? "—" },
          ]}
        />
      </div>
      {shown && <FactoryParts key={shown.id} factory={shown} />}
    </>
  );
}
