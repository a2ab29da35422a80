/** The range and bucket a usage or series query asks for, and the longest range each bucket takes. */
import { z } from "zod";
import { Instant } from "../util/instant";

/**
 * The longest range of each bucket width, days: a 31-day month of 5-minute buckets (8,928 a series) and 62 days of
 * quarter-hours (5,952) are already more points than a 1,440-px chart has pixels; hours and days go to 400 days (a
 * year and its edges). A longer range is refused with the bucket to use instead, not summed slot by slot.
 */
export const maxDays = { "5m": 31, "15m": 62, "1h": 400, "1d": 400 } as const;

/** The longest range any bucket takes, days. */
const longestDays = Math.max(...Object.values(maxDays));

/** The finest bucket whose `maxDays` holds `days`. */
const finestFor = (days: number) => (Object.keys(maxDays) as (keyof typeof maxDays)[]).find((bucket) => days <= maxDays[bucket]) ?? "1d";

export const Query = z
  .object({
    from: Instant.schema("from"),
    to: Instant.schema("to"),
    bucket: z.enum(["5m", "15m", "1h", "1d"], { error: "bucket must be 5m, 15m, 1h or 1d" }).default("1h"),
  })
  .superRefine(Instant.span(longestDays))
  .superRefine((query, context) => {
    const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000;
    // Over the longest bucket's days the span rule above already says so, whatever the bucket.
    if (days > maxDays[query.bucket] && days <= longestDays)
      context.addIssue({
        code: "custom",
        path: ["to"],
        message: `a range of ${query.bucket} buckets spans at most ${maxDays[query.bucket]} days: use bucket=${finestFor(days)} for ${Math.ceil(days)} days`,
      });
  });
export type Query = z.infer<typeof Query>;
