CREATE TABLE "record_key" (
	"id" text PRIMARY KEY NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "device" ADD COLUMN "heartbeat" jsonb;--> statement-breakpoint
ALTER TABLE "device" ADD COLUMN "heartbeat_at" timestamp with time zone;