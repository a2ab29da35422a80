ALTER TABLE "alert" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert" ADD COLUMN "acknowledged_by" text;--> statement-breakpoint
ALTER TABLE "alert" ADD COLUMN "acknowledged_by_name" text;--> statement-breakpoint
ALTER TABLE "alert" ADD COLUMN "resolved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert" ADD COLUMN "resolved_by" text;--> statement-breakpoint
ALTER TABLE "alert" ADD COLUMN "resolved_by_name" text;--> statement-breakpoint
ALTER TABLE "organization" ADD COLUMN "demo" boolean DEFAULT false NOT NULL;