/**
 * The binary COPY writer (database/copy-binary.ts) against PGlite: what it writes is stored exactly as Postgres
 * stores the same values given as text, for every type the reading rows use, NULLs included.
 */
import { Database } from "@wattflow/core/database";
import { CopyWriter, UnencodableError } from "@wattflow/core/database/copy-binary";
import { Testing } from "@wattflow/core/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Row = {
  id: number;
  name: string | null;
  count: number | null;
  value: number | null;
  flag: boolean | null;
  at: Date | null;
  money: string | null;
  tags: string[] | null;
};

const rows: Row[] = [
  { id: 1, name: "mtr_01a", count: 300, value: 0.1 + 0.2, flag: true, at: new Date("2026-11-30T21:50:00.000Z"), money: "1.234567", tags: [] },
  {
    id: 2,
    name: 'quote " and, comma',
    count: -7,
    value: -0.93,
    flag: false,
    at: new Date("1999-12-31T23:59:59.999Z"),
    money: "-0.000001",
    tags: ["spike_over_rating", "pf_out_of_range"],
  },
  { id: 3, name: "Señal — ñ ✓", count: 0, value: 1e-7, flag: null, at: new Date("2000-01-01T00:00:00.000Z"), money: "0.000000", tags: ["estimated_gap"] },
  {
    id: 4,
    name: "",
    count: 2147483647,
    value: 1.7976931348623157e308,
    flag: true,
    at: new Date("2026-03-08T08:00:00.001Z"),
    money: "123456789012.100000",
    tags: null,
  },
  { id: 5, name: null, count: null, value: null, flag: null, at: null, money: null, tags: null },
  { id: 6, name: "x", count: 1, value: 5e21, flag: false, at: new Date("1970-01-01T00:00:00.000Z"), money: "10000.000100", tags: ["a"] },
];

describe("CopyWriter: PostgreSQL's binary COPY format", () => {
  let database: Database.Handle;

  beforeAll(async () => {
    database = await Testing.database("pglite");
    for (const table of ["copied", "typed"])
      await database.db.execute(
        sql.raw(`create table ${table} (id int primary key, name text, count int, value float8, flag bool, at timestamptz, money numeric(18,6), tags text[])`),
      );
  }, 60_000);

  afterAll(async () => {
    Database.provide(undefined);
    await database.close();
  });

  it("stores every type as Postgres stores the same values given as text", async () => {
    // Prepare
    const out = new CopyWriter(64);
    for (const row of rows) {
      out.row(8);
      out.int4(row.id);
      out.text(row.name);
      out.int4(row.count);
      out.float8(row.value);
      out.bool(row.flag);
      out.timestamptz(row.at);
      out.numeric(row.money);
      out.textArray(row.tags);
    }
    for (const row of rows)
      await database.db.execute(
        sql`insert into typed values (${row.id}, ${row.name}, ${row.count}, ${row.value === null ? null : String(row.value)}::float8, ${row.flag},
          ${row.at?.toISOString() ?? null}::timestamptz, ${row.money}::numeric, ${row.tags === null ? null : `{${row.tags.map((tag) => `"${tag}"`).join(",")}}`}::text[])`,
      );

    // Act
    await Database.copyBinary(database.db, "copied", ["id", "name", "count", "value", "flag", "at", "money", "tags"], out);

    // Assess
    const read = async (table: string) =>
      (
        (await database.db.execute(
          sql.raw(
            `select id, name, count, value::text, flag, at::text, money::text, tags::text, pg_column_size(money) as money_size from ${table} order by id`,
          ),
        )) as unknown as { rows: unknown[] }
      ).rows;
    const copied = await read("copied");
    expect(copied).toHaveLength(rows.length);
    expect(copied).toEqual(await read("typed"));
  });

  it("refuses a numeric that is not a plain decimal, so the caller can write the rows as text", () => {
    // Prepare
    const out = new CopyWriter();
    out.row(1);

    // Act / Assess
    expect(() => out.numeric("1e-7")).toThrow(UnencodableError);
    expect(() => out.numeric("NaN")).toThrow(UnencodableError);
  });
});
