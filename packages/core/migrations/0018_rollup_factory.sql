CREATE TABLE "rollup_factory_15m" (
	"factory_id" text NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"tou_period" text NOT NULL,
	"kwh" double precision NOT NULL,
	"estimated_kwh" double precision NOT NULL,
	"kvarh" double precision,
	"kwh_with_kvarh" double precision NOT NULL,
	"cost" numeric NOT NULL,
	"readings" integer NOT NULL,
	"last_start" timestamp with time zone NOT NULL,
	CONSTRAINT "rollup_factory_15m_factory_id_bucket_start_tou_period_pk" PRIMARY KEY("factory_id","bucket_start","tou_period")
);
