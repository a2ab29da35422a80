-- Factory zones in their canonical IANA spelling (issue 17): Node's Intl accepted `america/monterrey`,
-- but InfluxDB (Go), Athena and Postgres look zones up by their exact name. Factory.create now stores the
-- canonical spelling; this fixes the letter case of zones stored before. Data only: drizzle-kit cannot
-- express it. pg_timezone_names has no two names that differ only in case.
UPDATE "factory" SET "time_zone" = z.name
FROM pg_timezone_names z
WHERE lower(z.name) = lower("factory"."time_zone") AND "factory"."time_zone" <> z.name;
