/**
 * Tariff definitions (pure). A factory has effective-dated versions; the one in force at an
 * interval's start prices that interval. Kinds: `flat` (one energy price), `tou` (the general
 * model: seasons by date rule, day types, holidays by rule, time-of-use bands, monthly price tables
 * with tiers, demand charges, fixed and minimum charges, power factor, taxes) and the ready-made CFE
 * plans `cfe-gdmth`, `cfe-gdmto`, `cfe-gdbt`, `cfe-pdbt`, `cfe-dist` and `cfe-dit`, which expand into `tou` (see ./cfe.ts). URDB rates import into `tou`.
 */
import type { Definition } from "./definition";
import type { Classification } from "./periods";
import { Plan } from "./plan";

export * from "./definition";
export * as Tariff from "./index";

export type Version = { id: string; factoryId: string; effectiveFrom: Date; definition: Definition };

/** The version in force at `at`: the latest whose effectiveFrom is not after it. */
export function inForce(versions: readonly Version[], at: Date): Version | undefined {
  let found: Version | undefined;
  for (const version of versions) {
    if (version.effectiveFrom.getTime() <= at.getTime() && (!found || version.effectiveFrom > found.effectiveFrom)) found = version;
  }
  return found;
}

/**
 * The time-of-use period, season and day type of an instant in the factory's zone (CFE plans
 * default to their schedule zone's clock).
 * @example Tariff.periodAt(definition, new Date("2026-04-07T02:30:00Z"), "America/Mexico_City").period → "punta"
 */
export function periodAt(definition: Exclude<Definition, { kind: "flat" }>, at: Date, timeZone?: string): Classification {
  const plan = Plan.of(definition);
  const zone = timeZone ?? plan.defaultTimeZone;
  if (!zone) throw new Plan.TariffError("a time-of-use tariff needs the factory's time zone");
  const { local: _local, ...found } = plan.calendar(zone).classify(at.getTime());
  return found;
}
