import Decimal from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Allocation } from "../src/billing/allocation";
import { Bill } from "../src/billing/index";
import { Testing } from "../src/testing";

const definition = { kind: "cfe-gdmth" as const, zone: "central" as const, prices: [Testing.gdmthNoroesteMarch2026] };
const timeZone = "America/Mexico_City";
/** March 2026's first week of 5-minute slots, as instants. */
const slotAt = (index: number) => new Date(Date.parse("2026-03-01T06:00:00Z") + index * 300_000);

/** A tree: meter i > 0 hangs from an earlier one (or from the billing meter 0); each has a few slots of energy. */
const trees = fc
  .array(
    fc.record({ parent: fc.nat(), slots: fc.array(fc.record({ slot: fc.nat({ max: 2015 }), kwh: fc.integer({ min: 0, max: 500_000 }) }), { maxLength: 6 }) }),
    {
      minLength: 1,
      maxLength: 7,
    },
  )
  .map((nodes) =>
    nodes.map((node, index) => ({
      id: `m${index}`,
      role: index === 0 ? ("billing" as const) : ("sub" as const),
      parentId: index === 0 ? null : `m${node.parent % index}`,
      readings: [...new Map(node.slots.map((slot) => [slot.slot, slot.kwh / 1000])).entries()].map(([slot, kwh]) => ({
        meterId: `m${index}`,
        start: slotAt(slot),
        kwh,
      })),
    })),
  );

describe("allocation", () => {
  it("first-level meters plus the unmetered remainder are the bill's total to the cent, and so is each parent with its children", () => {
    fc.assert(
      fc.property(trees, (meters) => {
        // Prepare: the billing meter's bill for March 2026.
        const main = meters[0]?.readings ?? [];
        const bill = Bill.compute({
          definition,
          timeZone,
          period: { start: "2026-03-01", end: "2026-04-01" },
          usage: { readings: main.map((r) => ({ ...r, seconds: 300 })) },
        });

        // Act
        const energy = Allocation.energyByMeter(
          definition,
          timeZone,
          meters.flatMap((meter) => meter.readings),
        );
        const allocation = Allocation.compute({ bill, meters, energy });

        // Assess
        const sum = (values: string[]) => values.reduce((total, value) => total.plus(value), new Decimal(0));
        const first = allocation.meters.filter((share) => share.level === 1);
        expect(sum([...first.map((share) => share.amount), allocation.unmetered.amount]).toFixed(2)).toBe(bill.total);
        for (const parent of allocation.meters.filter((share) => share.unmetered)) {
          const children = allocation.meters.filter((share) => share.parentId === parent.meterId);
          expect(sum([...children.map((share) => share.amount), parent.unmetered?.amount ?? "0"]).toFixed(2)).toBe(parent.amount);
        }
        expect(allocation.meters).toHaveLength(meters.length - 1);
      }),
      { numRuns: 60 },
    );
  });

  it("names what is wrong with a meter's place: a billing meter's parent, a stranger, itself, a loop", () => {
    const parentOf = new Map<string, string | null>([
      ["main", null],
      ["a", "main"],
      ["a1", "a"],
    ]);

    expect(Allocation.placeProblem(parentOf, { id: "main", role: "billing", parentId: "a" })).toBe(
      "a billing meter is at the point of supply and has no parent",
    );
    expect(Allocation.placeProblem(parentOf, { id: "b", role: "sub", parentId: "zzz" })).toBe("zzz is not a meter of this factory");
    expect(Allocation.placeProblem(parentOf, { id: "a", role: "sub", parentId: "a" })).toBe("a meter cannot be its own parent");
    expect(Allocation.placeProblem(parentOf, { id: "a", role: "sub", parentId: "a1" })).toBe("a1 is below this meter: the tree would loop");
    expect(Allocation.placeProblem(parentOf, { role: "sub", parentId: "a1" })).toBeNull();
  });
});
