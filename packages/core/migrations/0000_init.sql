CREATE TABLE "api_token" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"role" text NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"factory_id" text NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"public_key" text,
	"last_seen_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "factory" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"tariff_code" text NOT NULL,
	"tariff_zone" text,
	"tariff_division" text,
	"contracted_demand_kw" numeric,
	"currency" text DEFAULT 'MXN' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meter" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"factory_id" text NOT NULL,
	"device_id" text NOT NULL,
	"name" text NOT NULL,
	"line" text NOT NULL,
	"multiplier" numeric DEFAULT '1' NOT NULL,
	"counter_type" text DEFAULT 'import_kwh' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organization" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text,
	"device_id" text,
	"source" text NOT NULL,
	"reason" text NOT NULL,
	"errors" jsonb NOT NULL,
	"payload" text NOT NULL,
	"payload_encoding" text NOT NULL,
	"partition_key" text,
	"shard_id" text,
	"sequence_number" text,
	"replayed_at" timestamp with time zone,
	"replay_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reading" (
	"meter_id" text NOT NULL,
	"interval_start" timestamp with time zone NOT NULL,
	"interval_seconds" integer NOT NULL,
	"factory_id" text NOT NULL,
	"device_id" text NOT NULL,
	"kwh" double precision NOT NULL,
	"kvarh" double precision,
	"kw_avg" double precision,
	"kw_max" double precision,
	"pf" double precision,
	"voltage" double precision,
	"current" double precision,
	"tou_period" text,
	"tariff_id" text,
	"unit_price" numeric(14, 6),
	"cost" numeric(18, 6),
	"estimated" boolean DEFAULT false NOT NULL,
	"gap" boolean DEFAULT false NOT NULL,
	"computed_at" timestamp with time zone,
	"source" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"stored_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"lake_delivered_at" timestamp with time zone,
	CONSTRAINT "reading_meter_id_interval_start_pk" PRIMARY KEY("meter_id","interval_start")
) PARTITION BY RANGE ("interval_start");
--> statement-breakpoint
CREATE TABLE "tariff" (
	"id" text PRIMARY KEY NOT NULL,
	"factory_id" text NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device" ADD CONSTRAINT "device_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device" ADD CONSTRAINT "device_factory_id_factory_id_fk" FOREIGN KEY ("factory_id") REFERENCES "public"."factory"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "factory" ADD CONSTRAINT "factory_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meter" ADD CONSTRAINT "meter_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meter" ADD CONSTRAINT "meter_factory_id_factory_id_fk" FOREIGN KEY ("factory_id") REFERENCES "public"."factory"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meter" ADD CONSTRAINT "meter_device_id_device_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."device"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tariff" ADD CONSTRAINT "tariff_factory_id_factory_id_fk" FOREIGN KEY ("factory_id") REFERENCES "public"."factory"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_token_hash_idx" ON "api_token" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "device_token_hash_idx" ON "device" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "device_factory_idx" ON "device" USING btree ("factory_id");--> statement-breakpoint
CREATE INDEX "factory_organization_idx" ON "factory" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "meter_factory_idx" ON "meter" USING btree ("factory_id");--> statement-breakpoint
CREATE INDEX "meter_device_idx" ON "meter" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "quarantine_org_created_idx" ON "quarantine" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "reading_factory_start_idx" ON "reading" USING btree ("factory_id","interval_start");--> statement-breakpoint
CREATE INDEX "reading_undelivered_idx" ON "reading" USING btree ("stored_at") WHERE lake_delivered_at is null;--> statement-breakpoint
CREATE INDEX "tariff_factory_effective_idx" ON "tariff" USING btree ("factory_id","effective_from");