import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { id, instant, reference, timestamps } from "../database/types";
import { organizationTable } from "../organization/organization.sql";
import { deviceTable } from "./device.sql";

/** One-time codes a gateway trades for its token and signing key; stored hashed, used at most once. */
export const enrollmentCodeTable = pgTable(
  "enrollment_code",
  {
    id: id(),
    organizationId: reference("organization_id", () => organizationTable.id),
    deviceId: reference("device_id", () => deviceTable.id),
    codeHash: text("code_hash").notNull(),
    expiresAt: instant("expires_at").notNull(),
    usedAt: instant("used_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("enrollment_code_hash_idx").on(t.codeHash), index("enrollment_code_device_idx").on(t.deviceId)],
);
