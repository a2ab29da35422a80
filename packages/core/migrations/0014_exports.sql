ALTER TABLE "bill" ADD COLUMN "prices_estimated" boolean;--> statement-breakpoint
ALTER TABLE "factory" ADD COLUMN "rpu" text;