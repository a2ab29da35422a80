/**
 * The one read model of a factory's energy over a range (issue 13 item 1): `/usage` (`factory`) and the console's
 * series (`series`: power per bucket with its TOU period, 15-minute demand with the peak, cost per period,
 * per-meter totals) are two shapes of the same sums, read once here, bucketed in the factory's local time.
 *
 * Sources (issue 16 item 4): buckets, periods and totals from the factory rollup (`rollup_factory_15m`, one row
 * per UTC quarter-hour and TOU period: 2,880 rows a month whatever the meters); per-meter totals from the coarsest
 * per-meter rollup whose edges are the range's (`Rollup.choose`, local days for a month); demand from the
 * quarter-hours of the statement's basis meters (`Statement.basisOf`). 5-minute buckets, ranges off the
 * quarter-hour grid and `Rollup.forceReadings` sum `reading` instead (the path before rollups), and
 * `Rollup.forcePerMeter` the per-meter rollups (the path before the factory rollup): same figures.
 * Priced or not by the statement's rule (`Statement.tariffOf`): a span with no tariff in force says
 * `priced: false` and every cost is null, never 0.00 MXN.
 */

// One file per reason to change (query, sums, factory, series, readings, gaps); `Usage.*` keeps the names callers use.
export { type Bucket, factory, Result } from "./factory";
export { EstimatedSpan, Gaps, GapsQuery, gaps, MissingSpan, missingSlots } from "./gaps";
export * as Usage from "./index";
export { maxDays, Query } from "./query";
export { lastReadingStart, meterReadings, StoredReading } from "./readings";
export { Series, series } from "./series";
export { priced } from "./sums";
