CREATE TABLE "bill_line" (
	"bill_id" text NOT NULL,
	"position" integer NOT NULL,
	"code" text NOT NULL,
	"quantity" numeric NOT NULL,
	"unit" text NOT NULL,
	"unit_price" numeric NOT NULL,
	"amount" numeric NOT NULL,
	"utility_amount" numeric,
	"difference" numeric
);
--> statement-breakpoint
CREATE TABLE "bill" (
	"id" text PRIMARY KEY NOT NULL,
	"factory_id" text NOT NULL,
	"month" text NOT NULL,
	"source" text NOT NULL,
	"status" text NOT NULL,
	"currency" text NOT NULL,
	"subtotal" numeric NOT NULL,
	"power_factor" numeric,
	"pf_adjustment" numeric NOT NULL,
	"iva" numeric NOT NULL,
	"total" numeric NOT NULL,
	"readings" integer,
	"import_run_id" text,
	"closed_at" timestamp with time zone,
	"reopened_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "import_run" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"factory_id" text,
	"kind" text NOT NULL,
	"file_name" text NOT NULL,
	"format" text NOT NULL,
	"object_key" text NOT NULL,
	"sha256" text NOT NULL,
	"bytes" integer NOT NULL,
	"status" text NOT NULL,
	"execution_arn" text,
	"rows" integer,
	"inserted" integer,
	"updated" integer,
	"unchanged" integer,
	"errors" jsonb,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "price_table" (
	"tariff" text NOT NULL,
	"division" text NOT NULL,
	"month" text NOT NULL,
	"fixed" numeric NOT NULL,
	"distribution" numeric NOT NULL,
	"capacity" numeric NOT NULL,
	"energy_base" numeric,
	"energy_intermedia" numeric,
	"energy_punta" numeric,
	"energy" numeric,
	"import_run_id" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "price_table_tariff_division_month_pk" PRIMARY KEY("tariff","division","month")
);
--> statement-breakpoint
CREATE TABLE "production" (
	"factory_id" text NOT NULL,
	"date" date NOT NULL,
	"line" text NOT NULL,
	"shift" text DEFAULT '' NOT NULL,
	"units" numeric NOT NULL,
	"import_run_id" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "production_factory_id_date_line_shift_pk" PRIMARY KEY("factory_id","date","line","shift")
);
--> statement-breakpoint
ALTER TABLE "bill_line" ADD CONSTRAINT "bill_line_bill_id_bill_id_fk" FOREIGN KEY ("bill_id") REFERENCES "public"."bill"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bill" ADD CONSTRAINT "bill_factory_id_factory_id_fk" FOREIGN KEY ("factory_id") REFERENCES "public"."factory"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production" ADD CONSTRAINT "production_factory_id_factory_id_fk" FOREIGN KEY ("factory_id") REFERENCES "public"."factory"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bill_line_bill_position_idx" ON "bill_line" USING btree ("bill_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "bill_factory_month_source_idx" ON "bill" USING btree ("factory_id","month","source");--> statement-breakpoint
CREATE INDEX "bill_status_idx" ON "bill" USING btree ("status");--> statement-breakpoint
CREATE INDEX "import_run_org_created_idx" ON "import_run" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "production_factory_date_idx" ON "production" USING btree ("factory_id","date");--> statement-breakpoint
-- A reading stored for a month whose bill was closed re-opens that bill (DESIGN.md flow 4), whichever
-- path stored it. Statement-level with a transition table: one join per insert batch, and nothing at
-- all while no bill is closed.
CREATE OR REPLACE FUNCTION wattflow_reopen_closed_bills() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM bill WHERE status = 'closed' AND source = 'wattflow') THEN
    RETURN NULL;
  END IF;
  UPDATE bill SET status = 'reopened', reopened_at = clock_timestamp(), updated_at = clock_timestamp()
  WHERE bill.status = 'closed' AND bill.source = 'wattflow' AND EXISTS (
    SELECT 1 FROM inserted_readings r JOIN factory f ON f.id = r.factory_id
    WHERE r.factory_id = bill.factory_id
      AND to_char(r.interval_start AT TIME ZONE f.time_zone, 'YYYY-MM') = bill.month
  );
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER reading_reopens_closed_bills AFTER INSERT ON reading
  REFERENCING NEW TABLE AS inserted_readings FOR EACH STATEMENT EXECUTE FUNCTION wattflow_reopen_closed_bills();
