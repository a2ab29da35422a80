ALTER TABLE "meter" ADD COLUMN "driver" text;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "bus" text;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "unit_id" integer;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "host" text;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "port" integer;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "ct" double precision;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "vt" double precision;