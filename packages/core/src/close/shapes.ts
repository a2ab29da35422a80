/** The close's shapes and its error, apart so the close's files share them without importing one another. */
import { WattflowError } from "../util/error";

/** Something the close cannot do for a factory-month, said so a person can fix it. */
export class CloseError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "close.invalid";
  override readonly name = "CloseError";
}

export type FactoryMonth = { factoryId: string; month: string };

export type Reconciliation = {
  utilityTotal: string;
  total: string;
  /** Ours minus the utility's. */
  difference: string;
  lines: { code: string; amount: string | null; utilityAmount: string | null; difference: string }[];
};

export type Closed = {
  factoryId: string;
  month: string;
  currency: string;
  readings: number;
  /** Share of the period the readings cover, 0–1 (4 decimals; Close.coverageOf): below Config.cfeBilling.billCoverageWarning the bill is short of CFE's. */
  coverage: string;
  total: string;
  /** kWh of the bill's energy that was estimated, not measured. */
  estimatedKwh: string;
  /** `billing-meters`: the bill sums the meters at the point of supply; `all-meters`: no meter is marked billing, so every meter. */
  basis: "billing-meters" | "all-meters";
  lines: number;
  reconciliation: Reconciliation | null;
};

/** Which factories a close or recompute covers; travels once in the state, pages of it per Map item. */
export type FactoryFilter = { organizationId?: string; factoryIds?: string[]; timeZone?: string; divisions?: string[] };

export type PageResult = {
  month: string;
  factories: number;
  readings: number;
  /** Bill totals per currency. */
  totals: Record<string, string>;
  reconciled: number;
  /** Factories whose bill differs from the utility's (ours minus theirs). */
  differences: { factoryId: string; difference: string }[];
  /** Factories that cannot be billed as configured (no tariff in force…): the others' bills do not wait for them. */
  skipped: { factoryId: string; reason: string }[];
};
