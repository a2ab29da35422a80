CREATE TABLE "rollup_15m" (
	"factory_id" text NOT NULL,
	"meter_id" text NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"tou_period" text NOT NULL,
	"kwh" double precision NOT NULL,
	"estimated_kwh" double precision NOT NULL,
	"kvarh" double precision,
	"kwh_with_kvarh" double precision NOT NULL,
	"cost" numeric NOT NULL,
	"readings" integer NOT NULL,
	"kw_max" double precision,
	"last_start" timestamp with time zone NOT NULL,
	CONSTRAINT "rollup_15m_factory_id_bucket_start_meter_id_tou_period_pk" PRIMARY KEY("factory_id","bucket_start","meter_id","tou_period")
);
--> statement-breakpoint
CREATE TABLE "rollup_1d" (
	"factory_id" text NOT NULL,
	"meter_id" text NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"tou_period" text NOT NULL,
	"kwh" double precision NOT NULL,
	"estimated_kwh" double precision NOT NULL,
	"kvarh" double precision,
	"kwh_with_kvarh" double precision NOT NULL,
	"cost" numeric NOT NULL,
	"readings" integer NOT NULL,
	"kw_max" double precision,
	"last_start" timestamp with time zone NOT NULL,
	CONSTRAINT "rollup_1d_factory_id_bucket_start_meter_id_tou_period_pk" PRIMARY KEY("factory_id","bucket_start","meter_id","tou_period")
);
--> statement-breakpoint
CREATE TABLE "rollup_1h" (
	"factory_id" text NOT NULL,
	"meter_id" text NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"tou_period" text NOT NULL,
	"kwh" double precision NOT NULL,
	"estimated_kwh" double precision NOT NULL,
	"kvarh" double precision,
	"kwh_with_kvarh" double precision NOT NULL,
	"cost" numeric NOT NULL,
	"readings" integer NOT NULL,
	"kw_max" double precision,
	"last_start" timestamp with time zone NOT NULL,
	CONSTRAINT "rollup_1h_factory_id_bucket_start_meter_id_tou_period_pk" PRIMARY KEY("factory_id","bucket_start","meter_id","tou_period")
);
--> statement-breakpoint
CREATE INDEX "rollup_15m_meter_idx" ON "rollup_15m" USING btree ("meter_id","bucket_start");--> statement-breakpoint
CREATE INDEX "rollup_1d_meter_idx" ON "rollup_1d" USING btree ("meter_id","bucket_start");--> statement-breakpoint
CREATE INDEX "rollup_1h_meter_idx" ON "rollup_1h" USING btree ("meter_id","bucket_start");