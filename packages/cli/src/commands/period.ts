/** `wattflow period`: the time-of-use period of a local time under a CFE plan. Needs no running stack. */
import { Cfe } from "@wattflow/core/tariff/cfe";
import { CfeZone } from "@wattflow/core/tariff/index";
import { isTimeZone, parseInstant, parseLocal, Schedule, toInstant, toLocal } from "@wattflow/core/tariff/periods";
import type { Command } from "commander";
import { CliError } from "../client";
import { required } from "./bill";

type Options = { tariff: string; zone: string; at: string; timeZone?: string; json?: boolean };

/** The CFE plan and schedule zone named on the command line; bad names exit 2. */
export function cfeChoice(options: { tariff: string; zone: string }) {
  if (options.tariff !== "cfe-gdmth" && options.tariff !== "cfe-gdmto")
    throw new CliError(`--tariff: unknown tariff ${JSON.stringify(options.tariff)} (cfe-gdmth or cfe-gdmto)`, 2);
  const zone = CfeZone.safeParse(options.zone);
  if (!zone.success) throw new CliError(`--zone: unknown zone ${JSON.stringify(options.zone)} (${Cfe.zones.join(", ")})`, 2);
  return { tariff: options.tariff, zone: zone.data } as const;
}

/** The IANA zone to read local times in: --time-zone, else the schedule zone's clock. */
export function timeZoneChoice(zone: CfeZone, timeZone: string | undefined): string {
  if (timeZone === undefined) return Cfe.timeZones[zone];
  if (!isTimeZone(timeZone)) throw new CliError(`--time-zone: unknown time zone ${JSON.stringify(timeZone)} (an IANA zone such as America/Matamoros)`, 2);
  return timeZone;
}

export function register(program: Command): void {
  program
    .command("period")
    .description("the time-of-use period (base, intermedia, punta) of a local time under a CFE plan")
    .option("--tariff <tariff>", "cfe-gdmth or cfe-gdmto (required)")
    .option("--zone <zone>", "schedule zone: central, baja-california or baja-california-sur", "central")
    .option("--at <time>", "local time YYYY-MM-DDTHH:MM in the zone's clock (or an instant with Z / an offset) (required)")
    .option("--time-zone <iana>", "read --at in this IANA zone instead of the schedule zone's usual one")
    .option("--json", 'print { "period", "season", "dayType", "holiday" }')
    .action((options: Options) => {
      required(options, "tariff", "at");
      const { tariff, zone } = cfeChoice(options);
      const timeZone = timeZoneChoice(zone, options.timeZone);
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
