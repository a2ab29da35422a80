/**
 * The Flux query library (pure): a typed, immutable builder in which every interpolated value — a
 * bucket, tag value, field name, duration, time or time zone — is validated or escaped, so no input
 * can change the query's structure; and one-call answers to the questions dashboards ask. The
 * InfluxDB adapter, the Grafana dashboards and `wattflow flux` all build their Flux here.
 */
import { Figures } from "../kpi/figures";
import { WattflowError } from "../util/error";
import { Instant } from "../util/instant";
import { canonicalZone } from "../util/zone";

export * as Flux from "./index";

/** The measurement costed readings are written to; tags `factory` and `meter`, everything else fields. */
export const measurement = "reading";
export const tags = { factory: "factory", meter: "meter" } as const;
/** Field names of a costed reading's point (the TOU period is a field so a recomputed reading replaces its point). */
export const fields = {
  kwh: "kwh",
  kvarh: "kvarh",
  kwAvg: "kw_avg",
  kwMax: "kw_max",
  pf: "pf",
  voltage: "voltage",
  current: "current",
  period: "period",
  unitPrice: "unit_price",
  cost: "cost",
  computedAt: "computed_at",
  intervalSeconds: "interval_seconds",
  estimated: "estimated",
  gap: "gap",
  /** kWh of the point that was estimated (0 when measured): sums per window without a string filter. */
  estimatedKwh: "estimated_kwh",
  device: "device",
} as const;

export class FluxError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "flux.invalid";
  override readonly name = "FluxError";
}

/**
 * A value the query's runner supplies, written as is: Grafana's `v.timeRangeStart`, `v.windowPeriod`,
 * `v.defaultBucket`, or a dashboard variable. Only these two constructors make one, and both check
 * what they are given, so no caller text reaches a query unescaped.
 */
export type Ref = { readonly ref: string };

/** The refs the constructors made: an object shaped like one (say, from parsed JSON) is not one. */
const made = new WeakSet<object>();
const isRef = (value: unknown): value is Ref => typeof value === "object" && value !== null && made.has(value);
function ref(text: string): Ref {
  const value = Object.freeze({ ref: text });
  made.add(value);
  return value;
}

/** A Flux identifier path such as `v.timeRangeStart`. */
export function identifier(path: string): Ref {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path)) throw new FluxError(`${JSON.stringify(path)} is not a Flux identifier`);
  return ref(path);
}

/** A Grafana dashboard variable, interpolated by Grafana as a JSON string (`${name:json}`), which is a Flux string literal. */
export function grafanaVariable(name: string): Ref {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new FluxError(`${JSON.stringify(name)} is not a Grafana variable name`);
  return ref(`\${${name}:json}`);
}

/** Grafana's built-in Flux variables. */
export const grafana = {
  timeRangeStart: identifier("v.timeRangeStart"),
  timeRangeStop: identifier("v.timeRangeStop"),
  windowPeriod: identifier("v.windowPeriod"),
  defaultBucket: identifier("v.defaultBucket"),
};

/** Whether a string holds a control character Flux has no escape for (anything below U+0020 but tab, LF and CR, or DEL). */
export function hasUnescapableControl(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

/** A Flux string literal: backslash, quote and `${` (interpolation) escaped, control characters as escapes. */
export function string(value: string | Ref): string {
  if (isRef(value)) return value.ref;
  if (typeof value !== "string") throw new FluxError(`expected a string, got ${typeof value}`);
  if (hasUnescapableControl(value)) throw new FluxError("a string may not contain control characters");
  const body = value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "\\${").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return `"${body}"`;
}

const durationPattern = /^(?:\d+(?:ns|us|µs|ms|s|mo|m|h|d|w|y))+$/;

/** A Flux duration literal such as `15m` or `1h30m`; anything else is refused. */
export function duration(value: string | Ref): string {
  if (isRef(value)) return value.ref;
  if (typeof value !== "string" || !durationPattern.test(value) || /^0+(?:ns|us|µs|ms|s|mo|m|h|d|w|y)$/.test(value))
    throw new FluxError(`${JSON.stringify(value)} is not a positive Flux duration such as 5m, 1h or 1d`);
  return value;
}

/** A Flux time literal (RFC 3339, UTC) from a Date or an ISO 8601 instant with an offset; impossible dates (2026-02-30, T24:00) are refused, never rolled over. */
export function time(value: Date | string | Ref): string {
  if (isRef(value)) return value.ref;
  let parsed: Instant.Result<number>;
  if (value instanceof Date) parsed = Instant.within(value.getTime(), Instant.absoluteBounds());
  else if (typeof value === "string") parsed = Instant.parse(value, { zone: { kind: "offset" } });
  else throw new FluxError(`${JSON.stringify(value)} is not an ISO 8601 instant such as 2026-03-01T00:00:00Z`);
  if (!parsed.ok) throw new FluxError(parsed.message);
  // Whole seconds print without ".000", as people write them.
  return Instant.format(parsed.value);
}

/** A Flux float literal: always with a decimal point (so it types as float), never an exponent (Flux has none). */
export function float(value: number): string {
  if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) >= 1e21) throw new FluxError(`${value} is not a finite number Flux can write`);
  if (Number.isInteger(value)) return `${value}.0`;
  const text = String(value);
  return text.includes("e") ? value.toFixed(20).replace(/(\.\d*?[1-9])0+$/, "$1") : text;
}

/** A positive integer literal (limits, counts). */
export function int(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new FluxError(`${value} is not a non-negative integer`);
  return String(value);
}

/**
 * An IANA time zone name as a string literal, in its canonical spelling (`america/monterrey` →
 * "America/Monterrey": Flux loads zones by exact name); a name the zone database does not know is refused.
 */
export function zone(value: string | Ref): string {
  if (isRef(value)) return value.ref;
  const found = typeof value === "string" ? canonicalZone(value) : undefined;
  if (found === undefined) throw new FluxError(`${JSON.stringify(value)} is not an IANA time zone such as America/Mexico_City`);
  return string(found);
}

/** A column reference inside a predicate: `r["name"]`, safe for any name. */
export function column(name: string): string {
  if (typeof name !== "string" || name.length === 0) throw new FluxError("a column name may not be empty");
  return `r[${string(name)}]`;
}

export type Aggregate = "sum" | "mean" | "max" | "min" | "last" | "first" | "count" | "median";
const aggregates = new Set<Aggregate>(["sum", "mean", "max", "min", "last", "first", "count", "median"]);
export type Comparison = "==" | "!=" | "<" | "<=" | ">" | ">=";
const comparisons = new Set<Comparison>(["==", "!=", "<", "<=", ">", ">="]);

function literal(value: string | number | boolean): string {
  if (typeof value === "string") return string(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return float(value);
}

/** A record key for a column name: only plain identifiers, so it needs no quoting. */
function identifierOf(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new FluxError(`${JSON.stringify(name)} is not a plain column name`);
  return name;
}

function list(values: readonly string[]): string {
  return `[${values.map(string).join(", ")}]`;
}

/**
 * An immutable Flux query. Each method returns a new query with one more pipe; `toString()` gives
 * the script, with the `import`s its steps need.
 * @example Flux.from("readings").range({ start, stop }).measurement("reading").tag("meter", id).field("kwh").aggregateWindow({ every: "1h", fn: "sum" }).toString()
 */
export class Query {
  private constructor(
    private readonly source: string,
    private readonly steps: readonly string[],
    private readonly imports: readonly string[],
  ) {}

  static from(bucket: string | Ref): Query {
    if (!bucket) throw new FluxError("a bucket name is required");
    return new Query(`from(bucket: ${string(bucket)})`, [], []);
  }

  private pipe(step: string, needs: string[] = []): Query {
    return new Query(this.source, [...this.steps, step], [...new Set([...this.imports, ...needs])]);
  }

  /** Time range [start, stop). */
  /** `range(start, stop)`; @throws FluxError when both are instants and `stop` is before `start` (a backwards range is a slip). */
  range(range: { start: Date | string | Ref; stop?: Date | string | Ref }): Query {
    if (range.stop !== undefined && !isRef(range.start) && !isRef(range.stop) && Date.parse(time(range.stop)) < Date.parse(time(range.start)))
      throw new FluxError(`the range's stop (${time(range.stop)}) is before its start (${time(range.start)})`);
    return this.pipe(range.stop === undefined ? `range(start: ${time(range.start)})` : `range(start: ${time(range.start)}, stop: ${time(range.stop)})`);
  }

  measurement(name: string): Query {
    return this.pipe(`filter(fn: (r) => r._measurement == ${string(name)})`);
  }

  /** Rows whose tag `key` equals the value, or one of the values. */
  tag(key: string, value: string | Ref | readonly string[]): Query {
    if (typeof value !== "string" && !isRef(value) && !Array.isArray(value)) throw new FluxError(`tag ${key} takes a string or a list of strings`);
    const values: readonly (string | Ref)[] = typeof value === "string" || isRef(value) ? [value] : (value as readonly string[]);
    if (values.length === 0) throw new FluxError(`tag ${key} needs at least one value`);
    return this.pipe(`filter(fn: (r) => ${values.map((item) => `${column(key)} == ${string(item)}`).join(" or ")})`);
  }

  /** Rows of these fields only. */
  field(...names: string[]): Query {
    if (names.length === 0) throw new FluxError("at least one field is required");
    return this.pipe(`filter(fn: (r) => ${names.map((name) => `r._field == ${string(name)}`).join(" or ")})`);
  }

  /** Rows whose column compares to a literal. */
  where(name: string, op: Comparison, value: string | number | boolean): Query {
    if (!comparisons.has(op)) throw new FluxError(`${JSON.stringify(op)} is not a comparison`);
    return this.pipe(`filter(fn: (r) => ${column(name)} ${op} ${literal(value)})`);
  }

  /**
   * Windows of `every`, aggregated with `fn`; each window is stamped with its start ([start, end)).
   * With `timeZone`, calendar windows (1d, 1mo) are the zone's local ones.
   */
  aggregateWindow(options: { every: string | Ref; fn: Aggregate; column?: string; createEmpty?: boolean; timeZone?: string | Ref }): Query {
    if (!aggregates.has(options.fn)) throw new FluxError(`${JSON.stringify(options.fn)} is not an aggregate`);
    const args = [`every: ${duration(options.every)}`, `fn: ${options.fn}`];
    if (options.column !== undefined) args.push(`column: ${string(options.column)}`);
    args.push(`createEmpty: ${options.createEmpty ? "true" : "false"}`, `timeSrc: "_start"`);
    if (options.timeZone !== undefined) args.push(`location: timezone.location(name: ${zone(options.timeZone)})`);
    return this.pipe(`aggregateWindow(${args.join(", ")})`, options.timeZone === undefined ? [] : ["timezone"]);
  }

  /** Area under the curve per `unit`: kW sampled over time → kWh with unit 1h. */
  integral(options: { unit: string }): Query {
    return this.pipe(`integral(unit: ${duration(options.unit)})`);
  }

  /**
   * Differences between consecutive values: a cumulative counter → energy per interval. With
   * `nonNegative`, a step down (a meter reset) gives nothing, or — with `initialZero` — the counter's
   * new value, counted up from zero: 1000, 1010, 4, 9 → 10, 4, 5 (19 kWh, where dropping the reset gives 15).
   */
  difference(options: { nonNegative?: boolean; initialZero?: boolean } = {}): Query {
    if (options.initialZero && !options.nonNegative) throw new FluxError("initialZero only applies with nonNegative: true");
    const args = [`nonNegative: ${options.nonNegative ? "true" : "false"}`];
    if (options.initialZero) args.push("initialZero: true");
    return this.pipe(`difference(${args.join(", ")})`);
  }

  /**
   * The readings that carry both kWh and kVArh, with the two fields as `kwh` and `kvarh` columns: the
   * pairing power factor is defined on (Figures.powerFactor), per meter series, so a meter without a
   * reactive register drops out instead of counting as PF 1.0.
   */
  withKvarh(): Query {
    return this.pivot({ rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value" }).pipe(
      `filter(fn: (r) => exists ${column(fields.kwh)} and exists ${column(fields.kvarh)})`,
    );
  }

  /** `_value` and `_field` from a column (after a pivot): makes a computed column a field again. */
  asField(from: string, name: string): Query {
    return this.pipe(`map(fn: (r) => ({r with _value: ${column(from)}, _field: ${string(name)}}))`);
  }

  /** Tables per window of `every` (the zone's local calendar with `timeZone`), stamped `_start`/`_stop`. */
  window(options: { every: string | Ref; timeZone?: string | Ref }): Query {
    const args = [`every: ${duration(options.every)}`];
    if (options.timeZone !== undefined) args.push(`location: timezone.location(name: ${zone(options.timeZone)})`);
    return this.pipe(`window(${args.join(", ")})`, options.timeZone === undefined ? [] : ["timezone"]);
  }

  /** Each table reduced to one row: the sums of these float columns. */
  sumColumns(names: readonly string[]): Query {
    if (names.length === 0) throw new FluxError("at least one column is required");
    const sums = names.map((name) => `${identifierOf(name)}: accumulator.${identifierOf(name)} + ${column(name)}`).join(", ");
    const identity = names.map((name) => `${identifierOf(name)}: 0.0`).join(", ");
    return this.pipe(`reduce(fn: (r, accumulator) => ({${sums}}), identity: {${identity}})`);
  }

  /**
   * `_value` as the measured kWh of pivoted rows (`kwh` and `estimated_kwh` columns, Figures.flux.measuredKwh): a point
   * written before `estimated_kwh` existed counts as measured.
   */
  measuredKwh(): Query {
    return this.pipe(`map(fn: (r) => ({r with _value: ${Figures.flux.measuredKwh}}))`);
  }

  /** Multiplies `_value` by a constant (kWh per 15 min × 4 = kW). */
  scale(factor: number): Query {
    return this.pipe(`map(fn: (r) => ({r with _value: r._value * ${float(factor)}}))`);
  }

  pivot(options: { rowKey: readonly string[]; columnKey: readonly string[]; valueColumn: string }): Query {
    return this.pipe(`pivot(rowKey: ${list(options.rowKey)}, columnKey: ${list(options.columnKey)}, valueColumn: ${string(options.valueColumn)})`);
  }

  /** Regroups rows by these columns (none: one table). */
  group(columns: readonly string[] = [], mode: "by" | "except" = "by"): Query {
    return this.pipe(columns.length === 0 && mode === "by" ? "group()" : `group(columns: ${list(columns)}, mode: ${string(mode)})`);
  }

  keep(columns: readonly string[]): Query {
    return this.pipe(`keep(columns: ${list(columns)})`);
  }

  sort(columns: readonly string[], desc = false): Query {
    return this.pipe(`sort(columns: ${list(columns)}, desc: ${desc ? "true" : "false"})`);
  }

  /** The `n` rows with the largest `_value`. */
  top(n: number): Query {
    return this.pipe(`top(n: ${int(n)})`);
  }

  /**
   * Power factor (Figures.powerFactor) of windowed, summed `kwh` and `kvarh` columns, as `_value` at
   * the window's start; windows without energy are dropped.
   */
  powerFactor(): Query {
    return this.pipe("filter(fn: (r) => r.kwh > 0.0)").pipe(`map(fn: (r) => ({_time: r._start, _value: ${Figures.flux.powerFactor}}))`, ["math"]);
  }

  yield(name: string): Query {
    return this.pipe(`yield(name: ${string(name)})`);
  }

  toString(): string {
    const head = this.imports.map((name) => `import ${string(name)}\n`).join("");
    return `${head}${head ? "\n" : ""}${[this.source, ...this.steps].join("\n  |> ")}\n`;
  }
}

export const from = Query.from;

/** Which readings a question is about: a bucket, a time range [from, to), and a factory or meters. */
export type Scope = { bucket: string | Ref; from: Date | string | Ref; to: Date | string | Ref; factoryId?: string | Ref; meterIds?: readonly string[] | Ref };

function scoped(scope: Scope): Query {
  let query = from(scope.bucket).range({ start: scope.from, stop: scope.to }).measurement(measurement);
  if (scope.factoryId !== undefined) query = query.tag(tags.factory, scope.factoryId);
  if (scope.meterIds !== undefined) query = query.tag(tags.meter, scope.meterIds);
  return query;
}

/**
 * kWh per window per meter (the sum of the readings whose interval starts in the window).
 * @example Flux.energy({ bucket: "readings", meterIds: ["mtr_1"], from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z", every: "1h" })
 */
export function energy(scope: Scope & { every: string | Ref; timeZone?: string | Ref }): string {
  return scoped(scope).field(fields.kwh).aggregateWindow({ every: scope.every, fn: "sum", timeZone: scope.timeZone }).yield("energy").toString();
}

/** Cost per time-of-use period per local day, every meter in scope together (a table per period). */
export function costByPeriod(scope: Scope & { timeZone: string | Ref; every?: string | Ref }): string {
  return scoped(scope)
    .field(fields.cost, fields.period)
    .pivot({ rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value" })
    .group([fields.period])
    .aggregateWindow({ every: scope.every ?? "1d", fn: "sum", column: fields.cost, timeZone: scope.timeZone })
    .yield("cost_by_period")
    .toString();
}

/** The 15-minute demand (kW) of every meter in scope together: kWh per aligned 15-minute window × 4. */
export function demand15m(scope: Scope): string {
  return demandQuery(scope).yield("demand_15m").toString();
}

/** The `top` highest 15-minute demand windows (kW) in scope, highest first. */
export function demandPeaks(scope: Scope & { top?: number }): string {
  return demandQuery(scope)
    .top(scope.top ?? 5)
    .yield("demand_peaks")
    .toString();
}

/**
 * Each meter's points with `kwh` and `estimated_kwh` side by side, `_value` their measured kWh (Figures.flux.measuredKwh),
 * every meter in one table, summed per aligned 15-minute window, × 4: an estimated spread never sets a peak (issue 12),
 * as the statement's and the lake's demand_15min rule.
 */
function demandQuery(scope: Scope): Query {
  return scoped(scope)
    .field(fields.kwh, fields.estimatedKwh)
    .pivot({ rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value" })
    .measuredKwh()
    .group()
    .aggregateWindow({ every: "15m", fn: "sum" })
    .scale(Figures.flux.demandFactor);
}

/**
 * Power factor per window (Figures.powerFactor), every meter in scope together, from the readings that
 * carry both kWh and kVArh; a meter without a reactive register is left out, not counted as PF 1.0.
 */
export function powerFactor(scope: Scope & { every: string | Ref; timeZone?: string | Ref }): string {
  return (
    scoped(scope)
      .field(fields.kwh, fields.kvarh)
      .withKvarh()
      .group()
      .window({ every: scope.every, timeZone: scope.timeZone })
      .sumColumns([fields.kwh, fields.kvarh])
      .powerFactor()
      // One series again (window() made a table per window), in time order, as a panel wants it.
      .group()
      .sort(["_time"])
      .yield("power_factor")
      .toString()
  );
}

/** Name of the computed field: kWh of the readings that carry kVArh (TimeSeries.Window's `kwhWithKvarh`). */
export const kwhWithKvarhField = "kwh_with_kvarh";

/** The kWh of a factory's readings that carry kVArh, per 15-minute window (pairs with `factoryWindows`' kvarh). */
export function factoryWindowsWithKvarh(scope: Scope & { factoryId: string }): string {
  return scoped(scope)
    .field(fields.kwh, fields.kvarh)
    .withKvarh()
    .asField(fields.kwh, kwhWithKvarhField)
    .group(["_field"])
    .aggregateWindow({ every: "15m", fn: "sum" })
    .yield("windows_kwh_with_kvarh")
    .toString();
}

/** The kWh of the readings that carry kVArh, per meter per local day (pairs with `meterDays`' kvarh). */
export function meterDaysWithKvarh(scope: Scope & { factoryId: string; timeZone: string }): string {
  return scoped(scope)
    .field(fields.kwh, fields.kvarh)
    .withKvarh()
    .asField(fields.kwh, kwhWithKvarhField)
    .group([tags.meter, "_field"])
    .aggregateWindow({ every: "1d", fn: "sum", timeZone: scope.timeZone })
    .yield("meter_days_kwh_with_kvarh")
    .toString();
}

/**
 * Energy per window from a cumulative counter field (kWh register), reset-aware: a step down is a
 * meter reset and counts the new reading from zero (1000, 1010, 4, 9 → 19 kWh).
 * @example Flux.counterEnergy({ bucket: "readings", meterIds: ["mtr_1"], field: "import_kwh", from, to, every: "1h" })
 */
export function counterEnergy(scope: Scope & { field: string; every: string | Ref; timeZone?: string | Ref }): string {
  return scoped(scope)
    .field(scope.field)
    .difference({ nonNegative: true, initialZero: true })
    .aggregateWindow({ every: scope.every, fn: "sum", timeZone: scope.timeZone })
    .yield("counter_energy")
    .toString();
}

/** kWh, kVArh, cost and estimated kWh of a factory per 15-minute window (the KPI and alert basis), one table per field. */
export function factoryWindows(scope: Scope & { factoryId: string }): string {
  return scoped(scope)
    .field(fields.kwh, fields.kvarh, fields.cost, fields.estimatedKwh)
    .group(["_field"])
    .aggregateWindow({ every: "15m", fn: "sum" })
    .yield("windows")
    .toString();
}

/** The time-of-use period of each 15-minute window of a factory (periods change on quarter hours only). */
export function factoryWindowPeriods(scope: Scope & { factoryId: string }): string {
  return scoped(scope).field(fields.period).group().aggregateWindow({ every: "15m", fn: "last" }).yield("periods").toString();
}

/** kWh, kVArh and cost per meter per local day. */
export function meterDays(scope: Scope & { factoryId: string; timeZone: string }): string {
  return scoped(scope)
    .field(fields.kwh, fields.kvarh, fields.cost)
    .aggregateWindow({ every: "1d", fn: "sum", timeZone: scope.timeZone })
    .yield("meter_days")
    .toString();
}

/** Mean of one field per window, every meter in scope separately (voltage, current, kW). */
export function fieldMean(scope: Scope & { field: string; every: string | Ref }): string {
  return scoped(scope).field(scope.field).aggregateWindow({ every: scope.every, fn: "mean" }).yield(scope.field).toString();
}

/**
 * The values a tag takes (for dashboard variables), optionally only where another tag has a value.
 * @example Flux.tagValues({ bucket: Flux.grafana.defaultBucket, tag: "meter", where: { factory: Flux.grafanaVariable("factory") } })
 */
export function tagValues(options: { bucket: string | Ref; tag: string; where?: Record<string, string | Ref>; start?: string }): string {
  const args = [`bucket: ${string(options.bucket)}`, `tag: ${string(options.tag)}`];
  const where = Object.entries(options.where ?? {});
  if (where.length > 0) args.push(`predicate: (r) => ${where.map(([key, value]) => `${column(key)} == ${string(value)}`).join(" and ")}`);
  args.push(`start: -${duration(options.start ?? "90d")}`);
  return `import "influxdata/influxdb/schema"\n\nschema.tagValues(${args.join(", ")})\n`;
}
