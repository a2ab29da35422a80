ALTER TABLE "factory" ADD COLUMN "supply_voltage" text;--> statement-breakpoint
ALTER TABLE "factory" ADD COLUMN "state" text;--> statement-breakpoint
ALTER TABLE "factory" ADD COLUMN "municipality" text;