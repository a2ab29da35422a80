import { describe, expect, test } from "vitest";
import { BillRequest } from "../src/billing";
import { Definition } from "../src/tariff/index";
import { Money } from "../src/util/money";

describe("money read from JSON", () => {
  test("a JSON number is read through its shortest decimal text, exactly", () => {
    // 197.77 is 197.770000000000010231815394945442676544189453125 in binary; its shortest text is "197.77".
    expect(Money.Unsigned.parse(197.77)).toBe("197.77");
    expect(Money.Unsigned.parse(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(Money.Unsigned.parse(1e-7)).toBe("0.0000001");
    expect(Money.Signed.parse(-0.015)).toBe("-0.015");
  });

  test("a decimal string passes unchanged; anything else is refused saying what and how", () => {
    expect(Money.Unsigned.parse("1.5573")).toBe("1.5573");
    expect(Money.Unsigned.safeParse(-1).error?.issues[0]?.message).toBe('a price must be a non-negative decimal number or string such as "1.5573" or 1.5573');
    expect(Money.Unsigned.safeParse("1,5").success).toBe(false);
    expect(Money.Unsigned.safeParse(Number.NaN).success).toBe(false);
    expect(Money.of({ what: "the fixed price" }).safeParse(undefined).error?.issues[0]?.message).toBe(
      'the fixed price is required, as a decimal number or string such as "1.5573" or 1.5573',
    );
  });

  test("tariff definitions and bill requests take prices as numbers", () => {
    const prices = { fixed: 197.77, energy: { base: 0.9715, intermedia: "1.5573", punta: 1.7262 }, distribution: 90.85, capacity: "392.66" };
    const definition = Definition.parse({ kind: "cfe-gdmth", zone: "central", prices: [prices] });
    const request = BillRequest.Prices.parse(prices);
    expect(definition.kind === "cfe-gdmth" && definition.prices[0]).toMatchObject({ fixed: "197.77", energy: { base: "0.9715", punta: "1.7262" } });
    expect(request).toMatchObject({ fixed: "197.77", distribution: "90.85", capacity: "392.66" });
    const bad = BillRequest.Prices.safeParse({ ...prices, energy: { ...prices.energy, punta: "x" } });
    expect(bad.error?.issues[0]).toMatchObject({ path: ["energy", "punta"] });
  });
});
