ALTER TABLE "quarantine" ADD COLUMN "code" text;--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "params" jsonb;