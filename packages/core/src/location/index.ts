/**
 * Where a factory is decides its CFE tariff division, its schedule zone (which hours are punta) and its
 * clock (when those hours are). Pure: the bundled catalogue (./catalogue.ts, with its sources) and rules.
 */
import { z } from "zod";
import { Cfe } from "../tariff/cfe";
import type { CfeZone } from "../tariff/index";
import { PathError } from "../util/error";
import { type Division, divisions, Municipality, municipalities } from "./catalogue";

export { type Division, divisions, Municipality, municipalities } from "./catalogue";
export * as Location from "./index";

/** The catalogue for setup forms (`GET /v1/locations`): CFE's divisions and each municipality's divisions and clock. */
export const Catalogue = z.object({ divisions: z.array(z.enum(divisions)), municipalities: z.array(Municipality) });
export type Catalogue = z.infer<typeof Catalogue>;

/** The bundled catalogue as `GET /v1/locations` answers it (Catalogue). */
export function catalogue(): Catalogue {
  return { divisions: [...divisions], municipalities: [...municipalities] };
}

/** A place that cannot be, said with the path of the input at fault and what would be right. */
export class LocationError extends PathError {
  readonly code = "location.invalid";
  override readonly name = "LocationError";
}

/** Lower case, no accents, single spaces for blanks, "-" and "_": "Tecoman", "TECOMÁN" and "Tecomán" are one name, "baja-california" and "Baja California" too. */
export const normalize = (name: string) =>
  name
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[\s_-]+/g, " ")
    .trim()
    .toLowerCase();

/** The schedule zone of a tariff division: Baja California's and Baja California Sur's own, central for the rest. */
export function zoneOf(division: Division): CfeZone {
  if (division === "Baja California") return "baja-california";
  if (division === "Baja California Sur") return "baja-california-sur";
  return "central";
}

/** A division by its name, accents and case aside ("bajio", "Valle de Mexico Norte"). */
export function division(name: string): Division | undefined {
  return divisions.find((candidate) => normalize(candidate) === normalize(name));
}

/**
 * The key price tables are stored and matched by: lower case, in CFE's own spelling for one of its divisions
 * ("BAJIO", "Bajio" → "bajío"), else the name as given, lower case. Factories store the catalogue's spelling, so
 * `lower(tariff_division)` finds them by it.
 */
export function divisionKey(name: string): string {
  return (division(name) ?? name.trim()).toLowerCase();
}

/** The bundled municipality, if any. */
export function find(state: string, municipality: string): Municipality | undefined {
  return municipalities.find((entry) => normalize(entry.state) === normalize(state) && normalize(entry.municipality) === normalize(municipality));
}

const unique = <T>(values: Iterable<T>) => [...new Set(values)].sort();
const list = (values: readonly string[]) => (values.length === 1 ? (values[0] as string) : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`);

/** The clocks the catalogue has for a schedule zone (or a division): what a factory there may be on. */
function clocksOf(matches: (entry: Municipality) => boolean): string[] {
  return unique(municipalities.filter(matches).map((entry) => entry.timeZone));
}

export type Place = { zone: CfeZone; timeZone: string; division?: Division; municipality?: Municipality };

/**
 * The schedule zone, clock and division of a factory from what is known of it: a municipality (state and
 * name) decides all three (its division must be given when CFE splits it); a division decides the zone and,
 * when all its municipalities share one, the clock; a zone alone keeps its usual clock. A zone or clock
 * given as well must agree with the catalogue.
 * @throws LocationError naming the path at fault and the right value, e.g.
 *   `timeZone: Hermosillo (Sonora) is on America/Hermosillo, not America/Mexico_City`.
 * @example resolve({ state: "Sonora", municipality: "San Luis Río Colorado" }) → { zone: "baja-california", timeZone: "America/Hermosillo", division: "Baja California" }
 */
export function resolve(input: { state?: string; municipality?: string; division?: string; zone?: CfeZone; timeZone?: string }): Place {
  const named = input.division === undefined ? undefined : division(input.division);
  if (input.division !== undefined && !named)
    throw new LocationError(`unknown CFE division ${JSON.stringify(input.division)} (${divisions.join(", ")})`, "division");

  if (input.municipality !== undefined) {
    if (input.state === undefined) throw new LocationError("a municipality needs its state", "state");
    const entry = find(input.state, input.municipality);
    if (!entry)
      throw new LocationError(
        `${input.municipality} (${input.state}) is not in the bundled catalogue: give the division and the time zone instead`,
        "municipality",
      );
    const where = `${entry.municipality} (${entry.state})`;
    if (named && !entry.divisions.includes(named))
      throw new LocationError(`${where} is billed in the ${list(entry.divisions)} division, not ${named}`, "division");
    const chosen = named ?? (entry.divisions.length === 1 ? entry.divisions[0] : undefined);
    // A split municipality's divisions all share one schedule zone (none is Baja California's).
    const zone = zoneOf(chosen ?? (entry.divisions[0] as Division));
    if (input.zone !== undefined && input.zone !== zone) throw new LocationError(`${where} bills on the ${zone} schedule, not ${input.zone}`, "zone");
    if (input.timeZone !== undefined && input.timeZone !== entry.timeZone)
      throw new LocationError(`${where} is on ${entry.timeZone}, not ${input.timeZone}`, "timeZone");
    return { zone, timeZone: entry.timeZone, division: chosen, municipality: entry };
  }

  if (named) {
    const zone = zoneOf(named);
    if (input.zone !== undefined && input.zone !== zone)
      throw new LocationError(`the ${named} division bills on the ${zone} schedule, not ${input.zone}`, "zone");
    const clocks = clocksOf((entry) => entry.divisions.includes(named));
    if (input.timeZone !== undefined) {
      if (!clocks.includes(input.timeZone))
        throw new LocationError(`the ${named} division's municipalities are on ${list(clocks)}, not ${input.timeZone}`, "timeZone");
      return { zone, timeZone: input.timeZone, division: named };
    }
    if (clocks.length > 1) throw new LocationError(`the ${named} division spans clocks ${list(clocks)}: give the municipality or the time zone`, "division");
    return { zone, timeZone: clocks[0] as string, division: named };
  }

  const zone = input.zone ?? "central";
  // A zone alone keeps its usual clock (Mexico City, Tijuana, Mazatlán): the place decides it when known.
  if (input.timeZone === undefined) return { zone, timeZone: Cfe.timeZones[zone] };
  const clocks = clocksOf((entry) => entry.divisions.some((candidate) => zoneOf(candidate) === zone));
  if (!clocks.includes(input.timeZone)) throw new LocationError(`the ${zone} schedule is read on ${list(clocks)}, not ${input.timeZone}`, "timeZone");
  return { zone, timeZone: input.timeZone };
}
