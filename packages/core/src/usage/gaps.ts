/** Slots that hold no value: how many a range misses, and a meter's missing and estimated spans. */
import { and, eq, gte, lt } from "drizzle-orm";
import { z } from "zod";
import { gapsMaxDays } from "../config";
import { Database } from "../database";
import { Slots } from "../ingest/slots";
import { meterTable } from "../meter/meter.sql";
import { Grid } from "../reading/grid";
import { readingTable } from "../reading/reading.sql";
import { VisibleError } from "../util/error";
import { Instant } from "../util/instant";
import { round } from "../util/number";

/**
 * Slots of `meters` meters in [from, to) that have ended by `now` and hold no value: every meter's ended slots less
 * the `readings` stored (one per meter and slot); 0 when none are missing. The slot in progress is not due yet (its
 * reading is taken at its end), so it is never missing; the gateway sends a slot as soon as it ends, with no grace.
 * @example missingSlots(1, { from: "2026-03-10T18:00:00Z", to: "2026-03-10T19:00:00Z" }, 0, new Date("2026-03-10T18:07:00Z")) → 1
 */
export function missingSlots(meters: number, range: { from: string; to: string }, readings: number, now: Date): number {
  const ended = Math.floor(now.getTime() / Grid.slotMs) * Grid.slotMs;
  return Math.max(0, meters * slotsIn(Date.parse(range.from), Math.min(Date.parse(range.to), ended)) - readings);
}

/** Whole 5-minute slots in [from, to) (epoch ms, from on the grid or rounded up to it); 0 when to ≤ from. */
function slotsIn(from: number, to: number): number {
  const first = Math.ceil(from / Grid.slotMs) * Grid.slotMs;
  return to > first ? Math.ceil((to - first) / Grid.slotMs) : 0;
}

export const GapsQuery = z
  .object({
    // The one instant parser, as every other time parameter: a year the store cannot hold is a 400, not a failed query.
    from: Instant.schema("from"),
    to: Instant.schema("to"),
  })
  .superRefine(Instant.span(gapsMaxDays));
export type GapsQuery = z.infer<typeof GapsQuery>;

/** Consecutive slots [start, end) with no value. */
export const MissingSpan = z.object({ start: z.string(), end: z.string(), slots: z.number() });
export type MissingSpan = z.infer<typeof MissingSpan>;
/** Consecutive estimated slots of one estimation span (kWh), clipped to the query, and the span as the counters measured it. */
export const EstimatedSpan = MissingSpan.extend({
  kwh: z.number(),
  span: z.object({ start: z.string(), seconds: z.number(), kwh: z.number() }).nullable(),
});
export type EstimatedSpan = z.infer<typeof EstimatedSpan>;
/** A meter's gaps over [from, to) (instants ISO 8601 UTC), in time order. */
export const Gaps = z.object({ meterId: z.string(), from: z.string(), to: z.string(), missing: z.array(MissingSpan), estimated: z.array(EstimatedSpan) });
export type Gaps = z.infer<typeof Gaps>;

/**
 * Where a meter's grid has no measured value over [from, to) up to the last slot ended by `now`: missing spans (no value at all)
 * and estimated spans (spread from a longer reading), in time order. `from` is rounded up to the grid.
 * Throws VisibleError("not_found") for a meter outside the organization.
 */
export async function gaps(organizationId: string, meterId: string, query: GapsQuery, now = new Date()): Promise<Gaps> {
  const db = Database.use();
  const [meter] = await db
    .select({ id: meterTable.id })
    .from(meterTable)
    .where(and(eq(meterTable.id, meterId), eq(meterTable.organizationId, organizationId)));
  if (!meter) throw new VisibleError("not_found", "meter.not_found", `meter ${meterId} not found`);
  const from = Math.ceil(Date.parse(query.from) / Grid.slotMs) * Grid.slotMs;
  // Up to the last slot that has ended: the one in progress is not missing, only not due (as missingSlots).
  const to = Math.min(Date.parse(query.to), Math.floor(now.getTime() / Grid.slotMs) * Grid.slotMs);
  const rows = await db
    .select({ start: readingTable.intervalStart, quality: readingTable.quality, kwh: readingTable.kwh, spanStart: readingTable.spanStart })
    .from(readingTable)
    .where(and(eq(readingTable.meterId, meterId), gte(readingTable.intervalStart, new Date(from)), lt(readingTable.intervalStart, new Date(to))));
  const spans = await Slots.spansOverlapping(db, meterId, from, to);
  const spanOf = new Map(spans.map((span) => [span.spanStart.getTime(), span]));
  const bySlot = new Map(rows.map((row) => [row.start.getTime(), row]));
  const missing: MissingSpan[] = [];
  const estimated: EstimatedSpan[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  for (let ms = from; ms < to; ms += Grid.slotMs) {
    const row = bySlot.get(ms);
    if (!row) {
      const last = missing[missing.length - 1];
      if (last && last.end === iso(ms)) {
        last.end = iso(ms + Grid.slotMs);
        last.slots++;
      } else missing.push({ start: iso(ms), end: iso(ms + Grid.slotMs), slots: 1 });
    } else if (row.quality === "estimated") {
      const last = estimated[estimated.length - 1];
      const spanStart = row.spanStart?.toISOString() ?? null;
      if (last && last.end === iso(ms) && (last.span?.start ?? null) === spanStart) {
        last.end = iso(ms + Grid.slotMs);
        last.slots++;
        last.kwh = round(last.kwh + row.kwh, 6);
      } else {
        const span = row.spanStart ? spanOf.get(row.spanStart.getTime()) : undefined;
        estimated.push({
          start: iso(ms),
          end: iso(ms + Grid.slotMs),
          slots: 1,
          kwh: round(row.kwh, 6),
          span: span ? { start: span.spanStart.toISOString(), seconds: span.seconds, kwh: span.kwh } : null,
        });
      }
    }
  }
  return { meterId, from: iso(from), to: iso(Math.max(from, to)), missing, estimated };
}
