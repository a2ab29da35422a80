import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { stableUniform } from "../src/util/number";

describe("stableUniform, the replayable number behind simulated and demo readings", () => {
  test("gives the values the gateway simulator and the demo year were generated with", () => {
    // Golden values of the mix as both copies computed it before they became this one function.
    expect(stableUniform()).toBe(0.3588899802416563);
    expect(stableUniform(1)).toBe(0.14975742693059146);
    expect(stableUniform(1, 1_767_225_600, 1)).toBe(0.8830188564024866);
    expect(stableUniform(7, 490_896, 2)).toBe(0.25796818151138723);
    expect(stableUniform(-4, 0)).toBe(0.8607649260666221);
  });

  test("truncates a fractional key to its integer, as the demo's production keys in seconds rely on", () => {
    expect(stableUniform(3, 1_700_000_000.5, 5)).toBe(0.23315297695808113);
    expect(stableUniform(3, 1_700_000_000.5, 5)).toBe(stableUniform(3, 1_700_000_000, 5));
  });

  test("lies in [0, 1) and is the same for the same keys, for any keys", () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 4 }), (keys) => {
        const value = stableUniform(...keys);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThan(1);
        expect(stableUniform(...keys)).toBe(value);
      }),
    );
  });
});
