CREATE TABLE "estimation_span" (
	"meter_id" text NOT NULL,
	"span_start" timestamp with time zone NOT NULL,
	"seconds" integer NOT NULL,
	"kwh" double precision NOT NULL,
	"device_id" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"stored_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "estimation_span_meter_id_span_start_pk" PRIMARY KEY("meter_id","span_start")
);
--> statement-breakpoint
ALTER TABLE "bill" ADD COLUMN "estimated_kwh" numeric;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "max_kw" double precision;--> statement-breakpoint
ALTER TABLE "reading" ADD COLUMN "quality" text DEFAULT 'measured' NOT NULL;--> statement-breakpoint
ALTER TABLE "reading" ADD COLUMN "span_start" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "reading" ADD COLUMN "flags" text[] DEFAULT '{}'::text[] NOT NULL;