import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Flux } from "../src/flux";
import { fluxProblems } from "./flux-check";

const scope = { bucket: "readings", from: "2026-03-01T06:00:00Z", to: "2026-04-01T06:00:00Z", factoryId: "fac_01", meterIds: ["mtr_a", "mtr_b"] };

describe("Flux one-call answers", () => {
  const queries: [string, string][] = [
    ["energy per hour per meter", Flux.energy({ ...scope, every: "1h" })],
    ["energy per local day", Flux.energy({ ...scope, every: "1d", timeZone: "America/Mexico_City" })],
    ["cost per TOU period per day", Flux.costByPeriod({ ...scope, timeZone: "America/Mexico_City" })],
    ["15-minute demand", Flux.demand15m(scope)],
    ["15-minute demand peaks", Flux.demandPeaks({ ...scope, top: 3 })],
    ["power factor over time", Flux.powerFactor({ ...scope, every: "1h" })],
    ["factory windows", Flux.factoryWindows(scope)],
    ["factory window periods", Flux.factoryWindowPeriods(scope)],
    ["meter days", Flux.meterDays({ ...scope, timeZone: "America/Monterrey" })],
    ["kWh with kVArh per window", Flux.factoryWindowsWithKvarh(scope)],
    ["kWh with kVArh per meter day", Flux.meterDaysWithKvarh({ ...scope, timeZone: "America/Monterrey" })],
    ["power factor per local day", Flux.powerFactor({ ...scope, every: "1d", timeZone: "America/Monterrey" })],
    ["reset-aware counter energy", Flux.counterEnergy({ ...scope, field: "import_kwh", every: "1h", timeZone: "America/Monterrey" })],
  ];
  for (const [name, script] of queries) {
    it(`${name} passes Flux's semantic check`, async () => {
      expect(await fluxProblems(script)).toEqual([]);
    });
  }

  it("15-minute demand sums each point's measured kWh (kWh less estimated_kwh), so an estimated spread never sets a peak", () => {
    // A window of one meter: a measured point of 5 kWh and a gap's spread point of 30 kWh (estimated_kwh 30).
    // kWh × 4 would say (5 + 30) × 4 = 140 kW; the bill's rule (measured only) says 5 × 4 = 20 kW.
    // So both fields are read, paired per point, and the estimate taken off before the 15-minute sum and the × 4.
    for (const script of [Flux.demand15m(scope), Flux.demandPeaks({ ...scope, top: 3 })]) {
      const steps = script.split("\n  |> ");
      const subtract = steps.findIndex((step) => step.includes('r["kwh"] - (if exists r["estimated_kwh"] then r["estimated_kwh"] else 0.0)'));
      const sum = steps.findIndex((step) => step.startsWith("aggregateWindow(every: 15m, fn: sum"));
      expect(steps).toContain('filter(fn: (r) => r._field == "kwh" or r._field == "estimated_kwh")');
      expect(steps).toContain('pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")');
      expect(subtract).toBeGreaterThan(0);
      expect(sum).toBeGreaterThan(subtract);
      expect(steps[sum + 1]).toBe("map(fn: (r) => ({r with _value: r._value * 4.0}))");
    }
  });

  it("the checker rejects what Flux rejects (it is not a yes-machine)", async () => {
    const problems = await fluxProblems('from(bucket: "b")\n  |> range(start: -1h)\n  |> aggregateWindow(every: "1h", fn: sum)\n  |> nosuch()');
    expect(problems.join("\n")).toMatch(/expected duration but found string/);
    expect(problems.join("\n")).toMatch(/undefined identifier nosuch/);
  });
});

describe("Flux escaping", () => {
  it("a hostile tag value stays one string literal and the query still type-checks", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Flux interpolation is part of the attack under test
    const hostile = 'x") |> drop(columns: ["_value"]) |> yield(name: "${r}") // \\';
    const script = Flux.energy({ bucket: 'b"ucket', meterIds: [hostile], from: scope.from, to: scope.to, every: "1h" });
    expect(await fluxProblems(script)).toEqual([]);
    const literal = `r["meter"] == ${Flux.string(hostile)}`;
    expect(script).toContain(literal);
    expect(script.replace(literal, "")).not.toContain("drop(");
    expect(script.split("\n  |> ")).toHaveLength(7);
  });

  it("only the library's own refs are written unescaped: a lookalike object from JSON is refused", () => {
    const forged = JSON.parse('{"ref": "\\"x\\") |> drop(columns: [\\"_value\\"]"}') as Flux.Ref;

    expect(() => Flux.energy({ ...scope, meterIds: forged, every: "1h" })).toThrow(Flux.FluxError);
    expect(() => Flux.grafanaVariable("meter}) |> drop(")).toThrow(Flux.FluxError);
    expect(() => Flux.identifier("v.timeRangeStart) |> drop(")).toThrow(Flux.FluxError);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's placeholder, left for Grafana to fill
    expect(Flux.energy({ ...scope, meterIds: Flux.grafanaVariable("meter"), every: Flux.grafana.windowPeriod })).toContain('r["meter"] == ${meter:json}');
  });

  it("any string round-trips through a Flux string literal", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }).filter((text) => !Flux.hasUnescapableControl(text)),
        (text) => {
          const literal = Flux.string(text);
          // Flux's escapes are JSON's plus \${; undoing \$ gives JSON.
          expect(JSON.parse(literal.replace(/\\\$\{/g, "${"))).toBe(text);
          expect(literal.slice(1, -1)).not.toMatch(/(^|[^\\])(\\\\)*"/);
          expect(literal.slice(1, -1)).not.toMatch(/(^|[^\\])(\\\\)*\$\{/);
        },
      ),
    );
  });

  it("refuses durations, times, zones and numbers that are not what they claim", () => {
    for (const bad of ["1h) |> drop()", "", "0m", "1 h", "-1h", "1hh"]) expect(() => Flux.duration(bad)).toThrow(Flux.FluxError);
    for (const bad of ["yesterday", "2026-03-01", "2026-03-01T00:00:00Z) |> drop()", "2026-13-01T00:00:00Z"])
      expect(() => Flux.time(bad)).toThrow(Flux.FluxError);
    expect(() => Flux.zone('America/Mexico_City") |> drop()')).toThrow(Flux.FluxError);
    expect(() => Flux.float(Number.NaN)).toThrow(Flux.FluxError);
    expect(() => Flux.string("a\u0000b")).toThrow(Flux.FluxError);
    expect(Flux.duration("1h30m")).toBe("1h30m");
    expect(Flux.time("2026-03-01T00:00:00-06:00")).toBe("2026-03-01T06:00:00Z");
    expect(Flux.time(new Date("2026-03-01T06:00:00.250Z"))).toBe("2026-03-01T06:00:00.250Z");
    expect(Flux.float(4)).toBe("4.0");
    expect(Flux.float(1e-7)).toBe("0.0000001");
  });

  it("floats always type as floats", async () => {
    for (const value of [4, 0.25, 1e-7, -3, 123456789.5]) {
      const script = Flux.from("b").range({ start: scope.from, stop: scope.to }).scale(value).toString();
      expect(await fluxProblems(script), String(value)).toEqual([]);
    }
  });
});

describe("Flux time zones", () => {
  it("a zone in any letter case goes out in its canonical IANA spelling, which Flux can load", async () => {
    // Node's Intl takes "america/monterrey"; Flux's timezone.location looks the name up exactly.
    const script = Flux.energy({ ...scope, every: "1d", timeZone: "america/monterrey" });

    expect(script).toContain('timezone.location(name: "America/Monterrey")');
    expect(script).not.toContain("america/monterrey");
    expect(await fluxProblems(script)).toEqual([]);
  });

  it("refuses a zone the zone database does not know, naming it", () => {
    expect(() => Flux.energy({ ...scope, every: "1d", timeZone: "America/Gotham" })).toThrow(/"America\/Gotham" is not an IANA time zone/);
    expect(() => Flux.zone("")).toThrow(Flux.FluxError);
  });
});

describe("Flux builder", () => {
  it("difference can count a counter reset from zero (nonNegative with initialZero), and refuses initialZero alone", async () => {
    const script = Flux.from("readings")
      .range({ start: scope.from, stop: scope.to })
      .field("import_kwh")
      .difference({ nonNegative: true, initialZero: true })
      .toString();

    expect(script).toContain("difference(nonNegative: true, initialZero: true)");
    expect(await fluxProblems(script)).toEqual([]);
    expect(() => Flux.from("b").difference({ initialZero: true })).toThrow(/initialZero only applies with nonNegative/);
  });

  it("the power factor query pairs kVArh with the kWh of the same readings, per meter, before summing", () => {
    const script = Flux.powerFactor({ ...scope, every: "1h" });

    // Pivot per meter series, keep readings with both fields, then one table and the sums per window.
    expect(script.indexOf('filter(fn: (r) => exists r["kwh"] and exists r["kvarh"])')).toBeGreaterThan(script.indexOf("pivot("));
    expect(script.indexOf("group()")).toBeGreaterThan(script.indexOf("exists"));
    expect(script).toContain('reduce(fn: (r, accumulator) => ({kwh: accumulator.kwh + r["kwh"], kvarh: accumulator.kvarh + r["kvarh"]})');
  });

  it("integral and difference make energy from power and from counters", async () => {
    const base = Flux.from("readings").range({ start: scope.from, stop: scope.to }).measurement("reading").tag("meter", "mtr_a");
    const fromPower = base.field("kw_avg").integral({ unit: "1h" }).yield("kwh").toString();
    const fromCounter = base.field("import_kwh").difference({ nonNegative: true }).aggregateWindow({ every: "1h", fn: "sum" }).toString();
    expect(await fluxProblems(fromPower)).toEqual([]);
    expect(await fluxProblems(fromCounter)).toEqual([]);
    expect(fromPower).toContain("integral(unit: 1h)");
    expect(fromCounter).toContain("difference(nonNegative: true)");
  });

  it("group, keep, sort, where and pivot build valid Flux", async () => {
    const script = Flux.from("readings")
      .range({ start: new Date("2026-03-01T00:00:00Z") })
      .measurement("reading")
      .field("pf")
      .where("_value", "<", 0.9)
      .group(["meter"])
      .keep(["_time", "_value", "meter"])
      .sort(["_time"], true)
      .toString();
    expect(await fluxProblems(script)).toEqual([]);
  });

  it("is immutable: a step never changes the query it was called on", () => {
    const base = Flux.from("b").range({ start: scope.from });
    const one = base.field("kwh").toString();
    expect(base.toString()).not.toContain("kwh");
    expect(base.field("kvarh").toString()).not.toContain('"kwh"');
    expect(one).toContain('"kwh"');
  });
});
