ALTER TABLE "bill" ADD COLUMN "period_start" text;--> statement-breakpoint
ALTER TABLE "bill" ADD COLUMN "period_end" text;--> statement-breakpoint
ALTER TABLE "factory" ADD COLUMN "supply_voltage" text;--> statement-breakpoint
ALTER TABLE "factory" ADD COLUMN "state" text;--> statement-breakpoint
ALTER TABLE "factory" ADD COLUMN "municipality" text;--> statement-breakpoint
ALTER TABLE "factory" ADD COLUMN "billing_cycle_day" integer;
--> statement-breakpoint
-- A late reading re-opens the bill whose billing period holds it (the local reading day in [period_start, period_end)),
-- or, for bills stored without a period, the bill of its local month as before.
CREATE OR REPLACE FUNCTION wattflow_reopen_closed_bills() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM bill WHERE status = 'closed' AND source = 'wattflow') THEN
    RETURN NULL;
  END IF;
  UPDATE bill SET status = 'reopened', reopened_at = clock_timestamp(), updated_at = clock_timestamp()
  WHERE bill.status = 'closed' AND bill.source = 'wattflow' AND EXISTS (
    SELECT 1 FROM inserted_readings r JOIN factory f ON f.id = r.factory_id
    WHERE r.factory_id = bill.factory_id
      AND CASE
        WHEN bill.period_start IS NULL OR bill.period_end IS NULL
          THEN to_char(r.interval_start AT TIME ZONE f.time_zone, 'YYYY-MM') = bill.month
        ELSE to_char(r.interval_start AT TIME ZONE f.time_zone, 'YYYY-MM-DD') >= bill.period_start
          AND to_char(r.interval_start AT TIME ZONE f.time_zone, 'YYYY-MM-DD') < bill.period_end
      END
  );
  RETURN NULL;
END;
$$;
