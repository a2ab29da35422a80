/**
 * util/schema.ts: input schemas refuse an unknown key at every depth, keep their refinements and descriptions, and a
 * union none of whose shapes fits says what the shapes are.
 */
import { DateRule, Definition } from "@wattflow/core/tariff/definition";
import * as Schema from "@wattflow/core/util/schema";
import { describe, expect, it } from "vitest";
import { z } from "zod";

describe("Schema.strict", () => {
  it("names an unknown key by its path inside arrays, records and discriminated unions", () => {
    const month = { month: "2026-04", fixed: "1", energy: { base: "1", intermedia: "1.5", punta: "2", puntaa: "9" }, distribution: "90", capacity: "390" };
    const result = Schema.strict(Definition).safeParse({ kind: "cfe-gdmth", zone: "central", prices: [month] });

    expect(result.success).toBe(false);
    expect(result.error?.issues.flatMap((issue) => Schema.problemsOf(issue, (path) => path.join(".")))).toEqual([
      { path: "prices.0.energy.puntaa", message: "puntaa is not a field of this body" },
    ]);
    // The tolerant schema, as stored definitions are read, still drops it.
    expect(Definition.safeParse({ kind: "cfe-gdmth", zone: "central", prices: [month] }).success).toBe(true);
  });

  it("keeps refinements and descriptions of what it rebuilds, and a catch-all object as it is", () => {
    const schema = z.object({
      charge: z
        .object({ percent: z.string().optional(), amount: z.string().optional() })
        .refine((charge) => (charge.percent === undefined) !== (charge.amount === undefined), "give a percent or an amount")
        .describe("a charge"),
      extra: z.object({ a: z.string() }).catchall(z.unknown()),
    });
    const strict = Schema.strict(schema);

    expect(strict.safeParse({ charge: { percent: "5", amount: "1" }, extra: { a: "x" } }).error?.issues[0]?.message).toBe("give a percent or an amount");
    expect(strict.safeParse({ charge: { percent: "5" }, extra: { a: "x", b: 1 } }).success).toBe(true);
    expect(z.globalRegistry.get((strict.shape as typeof schema.shape).charge)?.description).toBe("a charge");
  });

  it("says both shapes of a day of the year when neither fits, not a bare 'Invalid input'", () => {
    const result = Schema.strict(DateRule).safeParse({ month: 1, dya: 1 });
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      "a day of the year is { month: 1–12, day: 1–31 } or { month: 1–12, weekday: 0–6 (0 = Sunday), nth: 1–4 or -1 (the last) }",
    ]);
    expect(DateRule.safeParse({ month: 13, day: 1 }).error?.issues[0]?.path).toEqual(["month"]);
  });
});
