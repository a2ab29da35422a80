/**
 * Grafana provisioning generated from the Flux library (pure), so dashboards and the API never ask
 * different questions: the InfluxDB (Flux) datasource, the dashboard provider, and four dashboards —
 * factory overview, meter detail, demand, power factor. `wattflow flux grafana` writes them under
 * grafana/; a test checks the committed files are what this module generates.
 */
import { Flux } from "../flux";

export * as Grafana from "./index";

export const datasourceUid = "wattflow-influxdb";
const datasource = { type: "influxdb", uid: datasourceUid };

/** Zones of the plants we meter; the dashboard's `tz` variable picks the factory's. */
const timeZones = ["America/Mexico_City", "America/Monterrey", "America/Tijuana", "America/Hermosillo", "America/Cancun", "America/Chihuahua"];

type Panel = {
  title: string;
  type: "timeseries" | "barchart" | "table" | "stat";
  query: string;
  unit: string;
  width?: number;
  stacking?: boolean;
};

const g = Flux.grafana;
const factory = Flux.grafanaVariable("factory");
const meter = Flux.grafanaVariable("meter");
const tz = Flux.grafanaVariable("tz");
const range = { bucket: g.defaultBucket, from: g.timeRangeStart, to: g.timeRangeStop };

function variable(name: string, label: string, query: string) {
  return { name, label, type: "query", datasource, query, refresh: 2, sort: 1, includeAll: false, multi: false, current: {} };
}

const tzVariable = {
  name: "tz",
  label: "Time zone",
  type: "custom",
  query: timeZones.join(","),
  current: { text: timeZones[0], value: timeZones[0] },
  options: timeZones.map((zone, index) => ({ text: zone, value: zone, selected: index === 0 })),
};

const factoryVariable = variable("factory", "Factory", Flux.tagValues({ bucket: g.defaultBucket, tag: Flux.tags.factory }));
const meterVariable = variable("meter", "Meter", Flux.tagValues({ bucket: g.defaultBucket, tag: Flux.tags.meter, where: { [Flux.tags.factory]: factory } }));

function dashboard(uid: string, title: string, description: string, variables: unknown[], panels: Panel[]) {
  let x = 0;
  let y = 0;
  return {
    uid,
    title,
    description,
    tags: ["wattflow", "generated"],
    editable: false,
    schemaVersion: 39,
    version: 1,
    time: { from: "now-7d", to: "now" },
    timezone: "browser",
    refresh: "1m",
    templating: { list: variables },
    annotations: { list: [] },
    panels: panels.map((panel, index) => {
      const width = panel.width ?? 12;
      if (x + width > 24) {
        x = 0;
        y += 9;
      }
      const gridPos = { x, y, w: width, h: 9 };
      x += width;
      return {
        id: index + 1,
        type: panel.type,
        title: panel.title,
        datasource,
        gridPos,
        targets: [{ refId: "A", datasource, query: panel.query }],
        fieldConfig: {
          defaults: { unit: panel.unit, ...(panel.stacking ? { custom: { stacking: { mode: "normal", group: "A" } } } : {}) },
          overrides: [],
        },
        options: {},
      };
    }),
  };
}

/** Every dashboard as [file name, model]. */
export function dashboards(): [string, ReturnType<typeof dashboard>][] {
  const plant = { ...range, factoryId: factory };
  const one = { ...range, factoryId: factory, meterIds: meter };
  return [
    [
      "factory-overview.json",
      dashboard(
        "wattflow-factory-overview",
        "Wattflow · Factory overview",
        "Energy, cost by time-of-use period, demand and power factor of one factory.",
        [factoryVariable, tzVariable],
        [
          { title: "kWh per hour, per meter", type: "timeseries", query: Flux.energy({ ...plant, every: "1h" }), unit: "kwatth", stacking: true },
          { title: "Cost per TOU period per day (provisional)", type: "barchart", query: Flux.costByPeriod({ ...plant, timeZone: tz }), unit: "currencyMXN" },
          { title: "15-minute demand", type: "timeseries", query: Flux.demand15m(plant), unit: "kwatt" },
          { title: "Power factor per hour", type: "timeseries", query: Flux.powerFactor({ ...plant, every: "1h" }), unit: "percentunit" },
        ],
      ),
    ],
    [
      "meter-detail.json",
      dashboard(
        "wattflow-meter-detail",
        "Wattflow · Meter detail",
        "One meter: energy, power, voltage, current and power factor.",
        [factoryVariable, meterVariable],
        [
          { title: "kWh per window", type: "timeseries", query: Flux.energy({ ...one, every: g.windowPeriod }), unit: "kwatth" },
          { title: "Average kW", type: "timeseries", query: Flux.fieldMean({ ...one, field: Flux.fields.kwAvg, every: g.windowPeriod }), unit: "kwatt" },
          { title: "Voltage", type: "timeseries", query: Flux.fieldMean({ ...one, field: Flux.fields.voltage, every: g.windowPeriod }), unit: "volt" },
          { title: "Current", type: "timeseries", query: Flux.fieldMean({ ...one, field: Flux.fields.current, every: g.windowPeriod }), unit: "amp" },
          { title: "Power factor per hour", type: "timeseries", query: Flux.powerFactor({ ...one, every: "1h" }), unit: "percentunit", width: 24 },
        ],
      ),
    ],
    [
      "demand.json",
      dashboard(
        "wattflow-demand",
        "Wattflow · Demand",
        "15-minute demand of a factory and its highest windows: the peak sets the capacity charge.",
        [factoryVariable],
        [
          { title: "15-minute demand", type: "timeseries", query: Flux.demand15m(plant), unit: "kwatt", width: 24 },
          { title: "Highest 15-minute windows", type: "table", query: Flux.demandPeaks({ ...plant, top: 10 }), unit: "kwatt", width: 24 },
        ],
      ),
    ],
    [
      "power-factor.json",
      dashboard(
        "wattflow-power-factor",
        "Wattflow · Power factor",
        "Energy-weighted power factor: CFE surcharges under 0.90 and rewards above it.",
        [factoryVariable, tzVariable],
        [
          { title: "Power factor per hour", type: "timeseries", query: Flux.powerFactor({ ...plant, every: "1h" }), unit: "percentunit", width: 24 },
          {
            title: "Power factor per local day",
            type: "timeseries",
            query: Flux.powerFactor({ ...plant, every: "1d", timeZone: tz }),
            unit: "percentunit",
            width: 24,
          },
        ],
      ),
    ],
  ];
}

/** The provisioning files, relative to the grafana/ folder, with their exact content. */
export function files(): { path: string; content: string }[] {
  const datasourceYaml = `# Generated by \`wattflow flux grafana\` from packages/core/src/grafana; do not edit.
# Grafana reads INFLUX_URL, INFLUX_ORG, INFLUX_BUCKET and INFLUX_TOKEN from its environment.
apiVersion: 1
datasources:
  - name: Wattflow InfluxDB
    uid: ${datasourceUid}
    type: influxdb
    access: proxy
    url: $INFLUX_URL
    isDefault: true
    jsonData:
      version: Flux
      organization: $INFLUX_ORG
      defaultBucket: $INFLUX_BUCKET
    secureJsonData:
      token: $INFLUX_TOKEN
`;
  const providerYaml = `# Generated by \`wattflow flux grafana\` from packages/core/src/grafana; do not edit.
apiVersion: 1
providers:
  - name: Wattflow
    folder: Wattflow
    type: file
    disableDeletion: true
    allowUiUpdates: false
    options:
      # Mount grafana/dashboards here.
      path: /var/lib/grafana/dashboards/wattflow
`;
  return [
    { path: "provisioning/datasources/wattflow-influxdb.yaml", content: datasourceYaml },
    { path: "provisioning/dashboards/wattflow.yaml", content: providerYaml },
    ...dashboards().map(([name, model]) => ({ path: `dashboards/${name}`, content: `${JSON.stringify(model, null, 2)}\n` })),
  ];
}

/** Every Flux query in the dashboards (panels and variables), for validation. */
export function queries(): { where: string; query: string }[] {
  return dashboards().flatMap(([name, model]) => [
    ...model.templating.list.flatMap((item) =>
      (item as { type: string }).type === "query"
        ? [{ where: `${name} variable ${(item as { name: string }).name}`, query: (item as { query: string }).query }]
        : [],
    ),
    ...model.panels.map((panel) => ({ where: `${name} panel "${panel.title}"`, query: panel.targets[0]?.query ?? "" })),
  ]);
}
