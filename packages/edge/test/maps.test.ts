/**
 * Meter maps as data (issue 18): every shipped file is valid, decodes the register images written from
 * its document's encoding to the document's values, and a broken file is refused naming file and path.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "@wattflow/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Config } from "../src/config";
import { loadMaps, shippedDir } from "../src/meter/maps";
import { decode, MapFileError, type Role, roles } from "../src/meter/registers";

const shipped = loadMaps();

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

describe("shipped meter maps", () => {
  it("ship SDM630, SDM120, PM5xxx, EM24 and three more industrial models, each citing its document", () => {
    expect([...shipped.keys()]).toEqual(["abb-b23", "em24", "pac3200", "pm5xxx", "sdm120", "sdm630", "umg96rm"]);
    for (const map of shipped.values()) expect(map.source.document.length).toBeGreaterThan(20);
  });

  describe.each([...shipped.keys()])("%s", (model) => {
    const map = shipped.get(model) as NonNullable<ReturnType<typeof shipped.get>>;

    it("has a register image for every quantity it reads", () => {
      const read = (Object.keys(roles) as Role[]).filter((role) => map[role] !== undefined);
      expect(new Set(map.examples.map((example) => example.field))).toEqual(new Set(read));
    });

    // The images are the document's encoding worked by hand (each example's `derivation`), e.g. EM24's
    // 123,456.7 kWh × 10 = 1,234,567 = 0x0012D687 sent low word first as 0xD687 0x0012.
    it.each(map.examples.map((example) => [example.field, example] as const))("decodes its %s image to the document's value", (_field, example) => {
      const field = map[example.field];
      if (!field) throw new Error(`no ${example.field} field`);
      expect(Math.abs(decode(example.registers, field, map.wordOrder) - example.value)).toBeLessThanOrEqual(example.tolerance);
    });
  });

  it("sends Schneider's one-based register numbers as address − 1 (3204 → 3203)", () => {
    expect(shipped.get("pm5xxx")?.energy.address).toBe(3203);
    expect(shipped.get("em24")?.energy.address).toBe(0x34);
  });

  it("accepts every shipped model as a meter's driver in the gateway config", () => {
    const meters = [...shipped.keys()].map((model, index) => ({
      id: `mtr_01m8gprxkjet4h0yhbyzdqm8w${index}`,
      driver: model,
      bus: "line1",
      unitId: index + 1,
    }));
    const parsed = Config.safeParse({
      deviceId: "dev_01m8gprxke1yxb4ma1nchzqhd8",
      token: "wfd_x",
      api: { url: "http://127.0.0.1:1" },
      dataDir: "/tmp/x",
      buses: { line1: { path: "/dev/ttyUSB0", baudRate: 9600, parity: "none", dataBits: 8, stopBits: 1 } },
      meters,
    });
    expect(parsed.error?.issues).toBeUndefined();
  });
});

describe("a map file that is not right", () => {
  /** A folder holding the shipped SDM630 map under `name`, changed by `edit`. */
  function folderWith(name: string, edit: (json: Record<string, unknown>) => void): string {
    const dir = Testing.temporaryDir("wattflow-maps-");
    cleanups.push(dir.remove);
    const json = JSON.parse(readFileSync(join(shippedDir, "sdm630.json"), "utf8")) as Record<string, unknown>;
    edit(json);
    writeFileSync(join(dir.path, `${name}.json`), JSON.stringify(json));
    return dir.path;
  }

  it("is refused naming the file and the path of each problem", () => {
    const dir = folderWith("sdm630", (json) => {
      const fields = json.fields as Record<string, Record<string, unknown>>;
      (fields.energy as Record<string, unknown>).unit = "Wh";
      (fields.power as Record<string, unknown>).type = "float16";
    });
    expect(() => loadMaps(dir)).toThrow(MapFileError);
    expect(() => loadMaps(dir)).toThrow(/sdm630\.json: fields\.energy\.unit: energy must be in kWh after scale/);
    expect(() => loadMaps(dir)).toThrow(/sdm630\.json: fields\.power\.type/);
  });

  it("must say where an integer energy counter wraps", () => {
    const dir = folderWith("sdm630", (json) => {
      const fields = json.fields as Record<string, Record<string, unknown>>;
      (fields.energy as Record<string, unknown>).type = "uint32";
      json.examples = (json.examples as { field: string }[]).filter((example) => example.field !== "energy");
    });
    expect(() => loadMaps(dir)).toThrow(/energyModulusKwh: an integer energy counter \(uint32\) wraps/);
  });

  it("is refused when its model is not its file name, or an image has the wrong number of words", () => {
    expect(() => loadMaps(folderWith("acme", () => {}))).toThrow(/model: "sdm630" must match the file name \("acme"\)/);
    const short = folderWith("sdm630", (json) => {
      (json.examples as { registers: string[] }[])[0]?.registers.pop();
    });
    expect(() => loadMaps(short)).toThrow(/examples\.0\.registers: float32 takes 2 registers/);
  });

  it("adding a model is adding a file", () => {
    const dir = Testing.temporaryDir("wattflow-maps-");
    cleanups.push(dir.remove);
    copyFileSync(join(shippedDir, "em24.json"), join(dir.path, "em24.json"));
    const json = JSON.parse(readFileSync(join(shippedDir, "sdm120.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir.path, "acme-120.json"), JSON.stringify({ ...json, model: "acme-120", name: "Acme 120 (an SDM120 relabelled)" }));
    expect([...loadMaps(dir.path).keys()]).toEqual(["acme-120", "em24"]);
    expect(loadMaps(dir.path).get("acme-120")?.meterClass).toMatchObject({ phases: 1, maxAmps: 45 });
  });
});
