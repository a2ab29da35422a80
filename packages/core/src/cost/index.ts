/**
 * The cost of one reading (pure). Per-reading cost is provisional — the monthly bill is
 * authoritative — so it is kept unrounded at 6 decimals and rounded only on bills.
 */
import Decimal from "decimal.js";
import type { Tariff } from "../tariff";

export * as Cost from "./index";

export type Priced = {
  tariffId: string;
  /** Time-of-use period, when the tariff has them. */
  period: string | null;
  unitPrice: string;
  cost: string;
  /** Priced with prices that were not yet published for the reading's month. */
  estimated: boolean;
};

export class NoTariffError extends Error {
  constructor(factoryId: string, at: Date) {
    super(`factory ${factoryId} has no tariff in force at ${at.toISOString()}`);
    this.name = "NoTariffError";
  }
}

/**
 * Prices `kwh` used in the interval starting at `start` under the tariff version in force then.
 * @example Cost.price({ kwh: 12.5, start }, version) → { unitPrice: "2.100000", cost: "26.250000", … }
 */
export function price(reading: { kwh: number; start: Date }, version: Tariff.Version): Priced {
  const definition = version.definition;
  switch (definition.kind) {
    case "flat": {
      const unitPrice = new Decimal(definition.energyPrice);
      return {
        tariffId: version.id,
        period: null,
        unitPrice: unitPrice.toFixed(6),
        cost: unitPrice.times(reading.kwh).toFixed(6),
        estimated: false,
      };
    }
  }
}
