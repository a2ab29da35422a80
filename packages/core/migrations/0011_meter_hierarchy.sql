ALTER TABLE "bill" ADD COLUMN "basis" text;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "role" text DEFAULT 'sub' NOT NULL;--> statement-breakpoint
ALTER TABLE "meter" ADD COLUMN "parent_id" text;--> statement-breakpoint
ALTER TABLE "meter" ADD CONSTRAINT "meter_parent_id_meter_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."meter"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "meter_parent_idx" ON "meter" USING btree ("parent_id");