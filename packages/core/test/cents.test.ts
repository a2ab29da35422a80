import { describe, expect, test } from "vitest";
import { Cents } from "../src/util/cents";

describe("money to the cent, as the bill rounds it", () => {
  test("a charge is quantity × unit price, exact, rounded once half away from zero", () => {
    // 13.734567 × 1.7262 = 23.7086495… → 23.71; 0.5 × 0.01 = 0.005 → 0.01; -0.5 × 0.01 = -0.005 → -0.01.
    expect(Cents.charge("13.734567", "1.7262").toFixed(2)).toBe("23.71");
    expect(Cents.charge("0.5", "0.01").toFixed(2)).toBe("0.01");
    expect(Cents.charge("-0.5", "0.01").toFixed(2)).toBe("-0.01");
  });

  test("a sum adds amounts exactly, with no binary noise", () => {
    // 0.1 + 0.2 is 0.30000000000000004 in floats; 1234.56 − 1234.55 is 0.009999999999990905.
    expect(Cents.sum(["0.10", "0.20"])).toBe("0.30");
    expect(Cents.sum([])).toBe("0.00");
    expect(Cents.difference("1234.56", "1234.55")).toBe("0.01");
    expect(Cents.difference("100.00", "100.005")).toBe("-0.01");
  });

  test("text that is not a decimal is refused saying what it got", () => {
    expect(() => Cents.text("12,50")).toThrow('an amount must be a finite decimal number such as "197.77", got "12,50"');
    expect(() => Cents.charge("1", "abc")).toThrow('a unit price must be a finite decimal number such as "197.77", got "abc"');
    expect(() => Cents.sum([Number.POSITIVE_INFINITY])).toThrow("an amount must be a finite decimal number");
  });
});
