ALTER TABLE "quarantine" ADD COLUMN "meter_id" text;--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "data" "bytea";--> statement-breakpoint
-- Hand-written: existing rows keep their bytes (drizzle-kit cannot express the conversion).
UPDATE "quarantine" SET "data" = CASE WHEN "payload_encoding" = 'base64' THEN decode("payload", 'base64') ELSE convert_to("payload", 'UTF8') END;--> statement-breakpoint
ALTER TABLE "quarantine" ALTER COLUMN "data" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "quarantine_created_idx" ON "quarantine" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "quarantine" DROP COLUMN "payload";--> statement-breakpoint
ALTER TABLE "quarantine" DROP COLUMN "payload_encoding";
