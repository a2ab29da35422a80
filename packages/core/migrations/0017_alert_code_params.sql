ALTER TABLE "alert_rule" ALTER COLUMN "threshold" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "alert" ADD COLUMN "code" text;--> statement-breakpoint
ALTER TABLE "alert" ADD COLUMN "params" jsonb;