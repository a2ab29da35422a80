import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/database";
import { Production } from "../src/production";
import { Testing } from "../src/testing";

describe("Production.energyPerUnit", () => {
  let database: Database.Handle;
  beforeAll(async () => {
    database = await Testing.database();
  });
  afterAll(async () => {
    await database.close();
  });

  it("names an unknown factory as not found (the error family's 404), not as a bare Error", async () => {
    // Act
    const asked = Production.energyPerUnit("fac_missing", "2026-03-01", "2026-03-31");

    // Assess
    await expect(asked).rejects.toMatchObject({ kind: "not_found", code: "factory.not_found", message: "factory fac_missing not found" });
  });
});
