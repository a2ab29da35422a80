ALTER TABLE "alert" DROP CONSTRAINT "alert_rule_id_alert_rule_id_fk";
--> statement-breakpoint
ALTER TABLE "alert" ALTER COLUMN "rule_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "alert" ADD CONSTRAINT "alert_rule_id_alert_rule_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."alert_rule"("id") ON DELETE set null ON UPDATE no action;