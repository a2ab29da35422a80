import { index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { id, instant, timestamps } from "../database/types";

/** One customer file taken through the import workflow: where it lies, what the workflow found and loaded. */
export const importRunTable = pgTable(
  "import_run",
  {
    id: id(),
    organizationId: text("organization_id").notNull(),
    /** Null for price tables, which are per tariff division, not per factory. */
    factoryId: text("factory_id"),
    kind: text("kind", { enum: ["production", "bill", "prices"] }).notNull(),
    fileName: text("file_name").notNull(),
    format: text("format", { enum: ["csv", "xlsx"] }).notNull(),
    /** The object key of the upload (S3, or .wattflow/uploads/ locally). */
    objectKey: text("object_key").notNull(),
    sha256: text("sha256").notNull(),
    bytes: integer("bytes").notNull(),
    status: text("status", { enum: ["pending", "validated", "loaded", "failed"] }).notNull(),
    executionArn: text("execution_arn"),
    rows: integer("rows"),
    inserted: integer("inserted"),
    updated: integer("updated"),
    unchanged: integer("unchanged"),
    /** Bad rows, each with its line in the file (the header is line 1) and the reason. */
    errors: jsonb("errors").$type<{ line: number; column?: string; message: string }[]>(),
    finishedAt: instant("finished_at"),
    ...timestamps,
  },
  (t) => [index("import_run_org_created_idx").on(t.organizationId, t.createdAt)],
);
