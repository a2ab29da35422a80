/**
 * Priced or not, for the range reads (`/usage`, the console's factory series): a span with no tariff in force has
 * no cost — the answer says `priced: false` and every cost is null, never 0.00 MXN. The same rule as the
 * Statement's (`Statement.tariffOf`): a tariff in force at the span's start or coming into force inside it.
 */
import { Dashboard } from "../dashboard";
import { Usage } from "../usage";
import { tariffOf, versionsOf } from "./index";

export * as Priced from "./priced";

/**
 * Whether a factory has a tariff in force over [from, to).
 * @example await Priced.span("fac_…", new Date("2026-03-01T06:00:00Z"), new Date("2026-04-01T06:00:00Z")) → true
 */
export async function span(factoryId: string, from: Date, to: Date): Promise<boolean> {
  return tariffOf(await versionsOf(factoryId), from, to) !== undefined;
}

/** `Usage.factory` with `priced`, costs null when not priced. Org-scoped as `Usage.factory` (404 for another's factory). */
export async function usage(organizationId: string, factoryId: string, query: Usage.Query, now = new Date()) {
  const result = await Usage.factory(organizationId, factoryId, query, now);
  if (await span(factoryId, new Date(query.from), new Date(query.to))) return { ...result, priced: true as boolean };
  return {
    ...result,
    priced: false as boolean,
    buckets: result.buckets.map((bucket) => ({ ...bucket, cost: null as number | null })),
    totals: { ...result.totals, cost: null as number | null },
  };
}

/** `Dashboard.series` with `priced`, costs null when not priced. Org-scoped as `Dashboard.series`. */
export async function series(organizationId: string, factoryId: string, query: Dashboard.SeriesQuery, now = new Date()) {
  const result = await Dashboard.series(organizationId, factoryId, query, now);
  if (await span(factoryId, new Date(query.from), new Date(query.to))) return { ...result, priced: true as boolean };
  return {
    ...result,
    priced: false as boolean,
    buckets: { ...result.buckets, cost: result.buckets.cost.map(() => null as number | null) },
    byPeriod: result.byPeriod.map((row) => ({ ...row, cost: null as string | null })),
    totals: { ...result.totals, cost: null as string | null },
    meters: result.meters.map((meter) => ({ ...meter, cost: null as string | null })),
  };
}
