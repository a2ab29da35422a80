import { describe, expect, it } from "vitest";
import { Usage } from "../src/usage";

const hour = { from: "2026-03-10T18:00:00Z", to: "2026-03-10T19:00:00Z" };

describe("missing slots", () => {
  it("does not count the slot in progress: at 18:07 only 18:00–18:05 is due", () => {
    expect(Usage.missingSlots(1, hour, 0, new Date("2026-03-10T18:07:00Z"))).toBe(1);
  });

  it("counts a slot the moment it ends, for every meter", () => {
    expect(Usage.missingSlots(3, hour, 2, new Date("2026-03-10T18:10:00Z"))).toBe(3 * 2 - 2);
  });

  it("counts nothing before the first slot has ended, and the whole range once it is past", () => {
    expect(Usage.missingSlots(4, hour, 0, new Date("2026-03-10T18:04:59Z"))).toBe(0);
    expect(Usage.missingSlots(4, hour, 40, new Date("2026-03-11T00:00:00Z"))).toBe(4 * 12 - 40);
  });
});
