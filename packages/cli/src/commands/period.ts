/** `wattflow period`: the time-of-use period of a local time under a CFE plan (any of Cfe.structures). Needs no running stack. */

import { Location, LocationError } from "@wattflow/core/location";
import { Cfe } from "@wattflow/core/tariff/cfe";
import { CfeZone, cfeKinds } from "@wattflow/core/tariff/index";
import { parseInstant, parseLocal, Schedule } from "@wattflow/core/tariff/periods";
import { isTimeZone, toInstant, toLocal } from "@wattflow/core/time";
import type { Command } from "commander";
import { CliError } from "../client";
import { required } from "./bill";

type Place = { zone?: string; timeZone?: string; municipality?: string; division?: string };
type Options = Place & { tariff: string; at: string; json?: boolean };

/** The CFE plan named on the command line (`cfe-gdbt`, or CFE's own spelling `GDBT`); a bad name exits 2. */
export function cfeChoice(options: { tariff: string }): Cfe.Kind {
  const kind = Cfe.kindOf(options.tariff);
  if (!kind) throw new CliError(`--tariff: unknown tariff ${JSON.stringify(options.tariff)} (${cfeKinds.join(", ")})`, 2);
  return kind;
}

/**
 * The schedule zone and clock from --municipality STATE/NAME or --division (which pick both), else --zone
 * (central by default) with its usual clock or --time-zone; an inconsistent pair exits 2 naming the right one.
 */
export function placeChoice(options: Place): { zone: CfeZone; timeZone: string } {
  const zone = options.zone === undefined ? undefined : CfeZone.safeParse(options.zone);
  if (zone && !zone.success) throw new CliError(`--zone: unknown zone ${JSON.stringify(options.zone)} (${Cfe.zones.join(", ")})`, 2);
  if (options.timeZone !== undefined && !isTimeZone(options.timeZone))
    throw new CliError(`--time-zone: unknown time zone ${JSON.stringify(options.timeZone)} (an IANA zone such as America/Matamoros)`, 2);
  const [state, municipality] = options.municipality === undefined ? [] : options.municipality.split("/", 2).map((part) => part.trim());
  if (options.municipality !== undefined && !municipality)
    throw new CliError(`--municipality: ${JSON.stringify(options.municipality)} is not STATE/MUNICIPALITY (e.g. "Sonora/Hermosillo")`, 2);
  try {
    return Location.resolve({ state, municipality, division: options.division, zone: zone?.data, timeZone: options.timeZone });
  } catch (error) {
    if (!(error instanceof LocationError)) throw error;
    const flag = { state: "--municipality", municipality: "--municipality", division: "--division", zone: "--zone", timeZone: "--time-zone" }[error.path];
    throw new CliError(`${flag ?? error.path}: ${error.message}`, 2);
  }
}

/** The options every CFE command takes to say where the factory is. */
export function placeOptions(command: Command): Command {
  return command
    .option("--municipality <state/name>", 'where the factory is, e.g. "Sonora/Hermosillo": picks the schedule zone and the clock')
    .option("--division <name>", "CFE tariff division (Noroeste, Baja California…): picks the schedule zone, and the clock when it has one")
    .option("--zone <zone>", "schedule zone: central, baja-california or baja-california-sur (default central)")
    .option("--time-zone <iana>", "the factory's IANA zone when it is not the schedule zone's usual one");
}

export function register(program: Command): void {
  const command = program
    .command("period")
    .description("the time-of-use period (base, intermedia, punta; energia for one price at all hours) of a local time under a CFE plan")
    .option("--tariff <tariff>", `${cfeKinds.join(", ")} (required)`)
    .option("--at <time>", "local time YYYY-MM-DDTHH:MM in the factory's clock (or an instant with Z / an offset) (required)")
    .option("--json", 'print { "period", "season", "dayType", "holiday" }');
  placeOptions(command).action((options: Options) => {
    required(options, "tariff", "at");
    const tariff = cfeChoice(options);
    const { zone, timeZone } = placeChoice(options);
    const instant = parseInstant(options.at);
    const local = instant === null ? parseLocal(options.at) : toLocal(instant, timeZone);
    if (!local) throw new CliError(`--at: ${JSON.stringify(options.at)} is not a real local time (YYYY-MM-DDTHH:MM)`, 2);
    if (instant === null && toInstant(local, timeZone) === null)
      throw new CliError(`--at: ${options.at} does not exist in ${timeZone} (the clocks skip that hour)`, 2);
    const found = new Schedule({ seasons: Cfe.seasons(tariff, zone), holidays: "mx-lft74" }).classify(local);
    if (options.json) console.log(JSON.stringify({ period: found.period, season: found.season, dayType: found.dayType, holiday: found.holiday !== null }));
    else console.log(found.period);
  });
}
