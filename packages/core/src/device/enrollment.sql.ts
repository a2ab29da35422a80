import { index, text, uniqueIndex } from "drizzle-orm/pg-core";
import { ownedTable } from "../database/table";
import { instant, reference } from "../database/types";
import { deviceTable } from "./device.sql";

/** One-time codes a gateway trades for its token and signing key; stored hashed, used at most once. */
export const enrollmentCodeTable = ownedTable(
  "enrollment_code",
  {
    deviceId: reference("device_id", () => deviceTable.id),
    codeHash: text("code_hash").notNull(),
    expiresAt: instant("expires_at").notNull(),
    usedAt: instant("used_at"),
  },
  (t) => [uniqueIndex("enrollment_code_hash_idx").on(t.codeHash), index("enrollment_code_device_idx").on(t.deviceId)],
);
