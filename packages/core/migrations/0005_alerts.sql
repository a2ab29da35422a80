CREATE TABLE "alert_rule" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"factory_id" text NOT NULL,
	"kind" text NOT NULL,
	"threshold" double precision NOT NULL,
	"channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"factory_id" text NOT NULL,
	"rule_id" text NOT NULL,
	"kind" text NOT NULL,
	"dedup_key" text NOT NULL,
	"message" text NOT NULL,
	"value" double precision,
	"limit" double precision,
	"at" timestamp with time zone NOT NULL,
	"raised_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	"delivery_error" text
);
--> statement-breakpoint
ALTER TABLE "alert_rule" ADD CONSTRAINT "alert_rule_organization_id_organization_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organization"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_rule" ADD CONSTRAINT "alert_rule_factory_id_factory_id_fk" FOREIGN KEY ("factory_id") REFERENCES "public"."factory"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert" ADD CONSTRAINT "alert_rule_id_alert_rule_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."alert_rule"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_rule_factory_idx" ON "alert_rule" USING btree ("factory_id");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_rule_dedup_idx" ON "alert" USING btree ("rule_id","dedup_key");--> statement-breakpoint
CREATE INDEX "alert_organization_raised_idx" ON "alert" USING btree ("organization_id","raised_at");