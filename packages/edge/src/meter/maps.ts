/**
 * The meter maps shipped with the gateway: one JSON file per model in packages/edge/maps/, read and
 * checked on first use (registers.ts `MapFile`). Adding a model is adding a file there; its name
 * (without `.json`) is the model, the `driver` a meter names in the gateway config.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MapFileError, parseMap, type RegisterMap } from "./registers";

/** Where the shipped map files are. */
export const shippedDir = fileURLToPath(new URL("../../maps/", import.meta.url));

export type LoadedMap = ReturnType<typeof parseMap> & { file: string };

const cache = new Map<string, Map<string, LoadedMap>>();

/**
 * Every map file in `dir` (default the shipped maps), by model. Throws MapFileError naming the file and
 * the path of each problem (`maps/em24.json: fields.energy.unit: energy must be in kWh after scale`), a
 * file that is not JSON, or a file whose `model` differs from its name.
 */
export function loadMaps(dir = shippedDir): Map<string, LoadedMap> {
  const cached = cache.get(dir);
  if (cached) return cached;
  const loaded = new Map<string, LoadedMap>();
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => name.endsWith(".json"))
      .sort();
  } catch (error) {
    throw new MapFileError(`cannot read the meter maps in ${dir}: ${(error as Error).message}`, { cause: error });
  }
  for (const name of names) {
    const file = join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new MapFileError(`meter map ${file} is not readable JSON: ${(error as Error).message}`, { cause: error });
    }
    const map = parseMap(json, file);
    const model = basename(name, ".json");
    if (map.model !== model) throw new MapFileError(`meter map ${file}: model: "${map.model}" must match the file name ("${model}")`);
    loaded.set(model, { ...map, file });
  }
  cache.set(dir, loaded);
  return loaded;
}

/** The models a meter's `driver` may name: every shipped map. */
export function models(): string[] {
  return [...loadMaps().keys()];
}

/** The shipped map of `model`; throws MapFileError for a model with no file. */
export function mapOf(model: string): RegisterMap {
  const map = loadMaps().get(model);
  if (!map) throw new MapFileError(`no meter map for "${model}" in ${shippedDir} (known: ${models().join(", ")})`);
  return map;
}
