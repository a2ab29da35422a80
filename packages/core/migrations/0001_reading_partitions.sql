-- Readings are partitioned by month of interval_start. The default partition takes any month that
-- has no partition yet (late backfills from years ago), so an insert never fails for lack of one.
CREATE TABLE "reading_default" PARTITION OF "reading" DEFAULT;
--> statement-breakpoint
-- Creates the monthly partitions from `first_month` for `months` months. A month whose rows already
-- sit in the default partition is left there: moving them would lock the table.
CREATE OR REPLACE FUNCTION wattflow_ensure_reading_partitions(first_month date, months integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  month_start date;
  created integer := 0;
  partition_name text;
BEGIN
  FOR i IN 0..months - 1 LOOP
    month_start := (date_trunc('month', first_month) + make_interval(months => i))::date;
    partition_name := format('reading_%s', to_char(month_start, 'YYYY_MM'));
    CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM reading_default
      WHERE interval_start >= month_start::timestamp AT TIME ZONE 'UTC'
        AND interval_start < (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'
    );
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF reading FOR VALUES FROM (%L) TO (%L)',
      partition_name,
      (month_start::timestamp AT TIME ZONE 'UTC'),
      ((month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC')
    );
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;
