/**
 * Tariff definitions (pure). A factory has effective-dated versions; the one in force at an
 * interval's start prices that interval. The spine knows one kind, a flat energy price; the
 * time-of-use engine adds its kinds to `Definition`.
 */
import { z } from "zod";

export * as Tariff from "./index";

const money = z.string().regex(/^\d+(\.\d+)?$/, 'a price is a non-negative decimal string such as "2.1534"');

export const Flat = z.object({
  kind: z.literal("flat"),
  currency: z.string().length(3),
  /** Price per kWh, exact decimal. */
  energyPrice: money,
});

export const Definition = z.discriminatedUnion("kind", [Flat]);
export type Definition = z.infer<typeof Definition>;

export type Version = { id: string; factoryId: string; effectiveFrom: Date; definition: Definition };

/** The version in force at `at`: the latest whose effectiveFrom is not after it. */
export function inForce(versions: readonly Version[], at: Date): Version | undefined {
  let found: Version | undefined;
  for (const version of versions) {
    if (version.effectiveFrom.getTime() <= at.getTime() && (!found || version.effectiveFrom > found.effectiveFrom)) found = version;
  }
  return found;
}
