/** A counter meter's spike limit (rating.ts): configured, from its CTs and voltage, or its model's class — never a fleet-wide default. */
import { describe, expect, it } from "vitest";
import type { Meter } from "../src/config";
import { create } from "../src/meter/driver";
import { mapOf } from "../src/meter/maps";
import { rating } from "../src/rating";

const id = "mtr_01m8gprxkjet4h0yhbyzdqm8wv";
const meter = (extra: Partial<Meter>): Meter => ({ id, driver: "sdm630", host: "127.0.0.1", ...extra });

describe("meter rating", () => {
  it("takes a configured maxKw as it is, CTs or not", () => {
    expect(rating(meter({ maxKw: 250, ct: 40 }), mapOf("sdm630").meterClass)).toMatchObject({ maxKw: 250, source: "maxKw" });
  });

  it("derives it from the CT ratio and the nominal voltage: 3 × 127 V × 1.1 × (40 × 5 A × 1.2) = 100.6 kW", () => {
    // 220/127 V circuit: 139.7 V with +10 %; 200:5 CTs (ratio 40) at 120 %: 240 A; 3 × 139.7 × 240 = 100,584 W.
    const found = rating(meter({ ct: 40, nominalV: 127 }), mapOf("sdm630").meterClass);
    expect(found).toMatchObject({ maxKw: 100.6, source: "ct" });
    expect(found.basis).toMatch(/3 phase\(s\) × 139\.7 V .* × 240 A \(CT 40 × 5 A × 1\.2\)/);
  });

  it("uses the configured secondary and phases: 1 × 230 V × 1.1 × (40 × 1 A × 1.2) = 12.1 kW", () => {
    // 253 V × 48 A = 12,144 W.
    expect(rating(meter({ driver: "em24", ct: 40, ctSecondaryA: 1, phases: 1 }), mapOf("em24").meterClass).maxKw).toBe(12.1);
  });

  it("scales the class's nominal voltage by the VT ratio: 3 × 230 V × 2 × 1.1 × 240 A = 364.3 kW", () => {
    // 506 V × 240 A × 3 = 364,320 W.
    expect(rating(meter({ ct: 40, vt: 2 }), mapOf("sdm630").meterClass).maxKw).toBe(364.3);
  });

  it("falls back to the model's class, and says so", () => {
    // SDM630 direct 100 A: 3 × 253 V × 100 A = 75,900 W; EM24 AV9 direct 65 A: 3 × 253 × 65 = 49,335 W; PM5xxx: 2,500 kVA at PF 1.
    const sdm630 = rating(meter({}), mapOf("sdm630").meterClass);
    expect(sdm630).toMatchObject({ maxKw: 75.9, source: "class" });
    expect(sdm630.basis).toMatch(/^class default: .*Eastron SDM630.*set maxKw/);
    expect(rating(meter({ driver: "em24" }), mapOf("em24").meterClass).maxKw).toBe(49.3);
    expect(rating(meter({ driver: "pm5xxx" }), mapOf("pm5xxx").meterClass).maxKw).toBe(2500);
  });

  it("gives every Modbus driver its meter's rating as the spike limit", () => {
    for (const driver of ["sdm630", "pm5xxx", "em24"] as const) {
      const created = create(meter({ driver }));
      if (created.kind !== "counter") throw new Error("a Modbus meter is a counter meter");
      expect(created.spec.maxKw).toBe(rating(meter({ driver }), mapOf(driver).meterClass).maxKw);
      expect(created.spec.maxKw).toBeLessThanOrEqual(2500);
    }
  });
});
