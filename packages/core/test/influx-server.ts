/**
 * A small InfluxDB 2 stand-in for adapter tests: `/api/v2/write` parses line protocol into points
 * (one per series and timestamp; a later write replaces fields, as InfluxDB does), and
 * `/api/v2/query` answers the library's KPI queries (recognised by their `yield` name) from those
 * points as annotated CSV. Every query it receives is kept for the test to check with Flux's checker.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Point = { measurement: string; tags: Record<string, string>; fields: Record<string, number | string | boolean>; time: number };

/** Splits on `separator` outside quotes and escapes. */
function split(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (char === "\\" && index + 1 < text.length) {
      current += char + text[index + 1];
      index++;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (char === separator && !quoted) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts;
}

const unescaped = (text: string) => text.replace(/\\(.)/g, "$1");

export function parseLine(line: string): Point {
  const [series, fieldText, timeText] = split(line, " ");
  if (series === undefined || fieldText === undefined || timeText === undefined) throw new Error(`not line protocol: ${line}`);
  const [measurement, ...tagParts] = split(series, ",");
  const tags: Record<string, string> = {};
  for (const part of tagParts) {
    const [key, value] = split(part, "=");
    tags[unescaped(key as string)] = unescaped(value as string);
  }
  const fields: Point["fields"] = {};
  for (const part of split(fieldText, ",")) {
    const [key, raw] = split(part, "=") as [string, string];
    let value: number | string | boolean;
    if (raw.startsWith('"')) value = unescaped(raw.slice(1, -1));
    else if (raw === "true" || raw === "false") value = raw === "true";
    else if (raw.endsWith("i")) value = Number(raw.slice(0, -1));
    else value = Number(raw);
    fields[unescaped(key)] = value;
  }
  return { measurement: unescaped(measurement as string), tags, fields, time: Number(timeText) };
}

type Table = { columns: string[]; types: string[]; rows: (string | number | null)[][] };

function csv(tables: Table[]): string {
  const cell = (value: string | number | null) =>
    value === null ? "" : /[",\n]/.test(String(value)) ? `"${String(value).replace(/"/g, '""')}"` : String(value);
  return tables
    .map((table, index) =>
      [
        `#datatype,string,long,${table.types.join(",")}`,
        `#group,false,false,${table.columns.map((column) => (column === "_field" || column === "meter" || column === "factory" ? "true" : "false")).join(",")}`,
        `#default,_result,,${table.columns.map(() => "").join(",")}`,
        `,result,table,${table.columns.join(",")}`,
        ...table.rows.map((row) => `,,${index},${row.map(cell).join(",")}`),
      ].join("\r\n"),
    )
    .join("\r\n\r\n")
    .concat("\r\n\r\n");
}

const QUARTER = 900_000;

/** Local midnight (as an instant) of the day holding `ms` in `timeZone`. */
function localMidnight(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
  let guess = Date.parse(`${parts}T00:00:00Z`);
  // Walk the offset in: at most two corrections for any real zone.
  for (let step = 0; step < 3; step++) {
    const local = new Intl.DateTimeFormat("sv-SE", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
      .format(new Date(guess))
      .replace(" ", "T");
    guess -= Date.parse(`${local}:00Z`) - Date.parse(`${parts}T00:00:00Z`);
  }
  return guess;
}

export class FakeInflux {
  readonly points = new Map<string, Point>();
  readonly queries: string[] = [];
  readonly writes: { query: URLSearchParams; authorization: string | undefined; body: string }[] = [];
  /** Answers to give the next writes before accepting (e.g. [503, 429]). */
  failNext: number[] = [];
  private server?: Server;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => {
        body += chunk;
      });
      request.on("end", () => {
        const url = new URL(request.url ?? "/", "http://localhost");
        if (url.pathname === "/api/v2/write" && request.method === "POST") {
          this.writes.push({ query: url.searchParams, authorization: request.headers.authorization, body });
          const failure = this.failNext.shift();
          if (failure !== undefined) {
            response.writeHead(failure, { "content-type": "application/json", "retry-after": "0" });
            response.end(JSON.stringify({ code: "unavailable", message: "try later" }));
            return;
          }
          for (const line of body.split("\n").filter(Boolean)) {
            const point = parseLine(line);
            const key = `${point.measurement},${JSON.stringify(point.tags)}@${point.time}`;
            const existing = this.points.get(key);
            this.points.set(key, existing ? { ...existing, fields: { ...existing.fields, ...point.fields } } : point);
          }
          response.writeHead(204).end();
          return;
        }
        if (url.pathname === "/api/v2/query" && request.method === "POST") {
          const query = (JSON.parse(body) as { query: string }).query;
          this.queries.push(query);
          response.writeHead(200, { "content-type": "text/csv; charset=utf-8" });
          response.end(csv(this.answer(query)));
          return;
        }
        response.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /**
   * `difference()` then `aggregateWindow(every: Nh, fn: sum)` per meter, as Flux documents them: each
   * row is the value minus the previous one, stamped at its own time; with nonNegative a negative step
   * is dropped, or with initialZero taken from zero (the new value). The query's own arguments decide.
   */
  private counterEnergy(query: string, points: Point[]): Table[] {
    const field = /r\._field == "([^"]+)"/.exec(query)?.[1] ?? "";
    const args = /difference\(nonNegative: (true|false)(, initialZero: true)?\)/.exec(query);
    if (!args) throw new Error("counter_energy without difference()");
    const every = Number(/aggregateWindow\(every: (\d+)h/.exec(query)?.[1] ?? Number.NaN) * 3_600_000;
    const byMeter = new Map<string, Point[]>();
    for (const point of points)
      if (typeof point.fields[field] === "number") byMeter.set(point.tags.meter ?? "", [...(byMeter.get(point.tags.meter ?? "") ?? []), point]);
    return [...byMeter.entries()].map(([meter, series]) => {
      series.sort((a, b) => a.time - b.time);
      const sums = new Map<number, number>();
      for (let index = 1; index < series.length; index++) {
        const value = (series[index] as Point).fields[field] as number;
        let step = value - ((series[index - 1] as Point).fields[field] as number);
        if (step < 0 && args[1] === "true") {
          if (!args[2]) continue;
          step = value;
        }
        const window = Math.floor((series[index] as Point).time / every) * every;
        sums.set(window, (sums.get(window) ?? 0) + step);
      }
      return {
        columns: ["_time", "_value", "_field", "meter"],
        types: ["dateTime:RFC3339", "double", "string", "string"],
        rows: [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => [new Date(time).toISOString(), value, field, meter]),
      };
    });
  }

  /** The points a library query is about: measurement, factory tag and range read from its text. */
  private selected(query: string): Point[] {
    const range = /range\(start: (\S+), stop: (\S+)\)/.exec(query);
    const factory = /r\["factory"\] == "([^"]+)"/.exec(query)?.[1];
    // A meter filter (`r["meter"] == "a" or r["meter"] == "b"`) keeps those meters only.
    const meters = [...query.matchAll(/r\["meter"\] == "([^"]+)"/g)].map((match) => match[1]);
    const from = Date.parse(range?.[1] ?? "");
    const to = Date.parse((range?.[2] ?? "").replace(/\)$/, ""));
    return [...this.points.values()].filter(
      (point) =>
        point.measurement === "reading" &&
        point.tags.factory === factory &&
        (meters.length === 0 || meters.includes(point.tags.meter)) &&
        point.time >= from &&
        point.time < to,
    );
  }

  private answer(query: string): Table[] {
    const points = this.selected(query);
    const name = /yield\(name: "([^"]+)"\)/.exec(query)?.[1];
    if (name === "windows" || name === "windows_kwh_with_kvarh") {
      const paired = name === "windows_kwh_with_kvarh";
      return (paired ? ["kwh_with_kvarh"] : ["cost", "kvarh", "kwh"]).map((field) => {
        const sums = new Map<number, number>();
        for (const point of points) {
          // The paired query keeps the kWh of points that also carry kVArh (pivot, then `exists`).
          const value = paired ? (typeof point.fields.kvarh === "number" ? point.fields.kwh : undefined) : point.fields[field];
          if (typeof value !== "number") continue;
          const window = Math.floor(point.time / QUARTER) * QUARTER;
          sums.set(window, (sums.get(window) ?? 0) + value);
        }
        return {
          columns: ["_time", "_value", "_field"],
          types: ["dateTime:RFC3339", "double", "string"],
          rows: [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => [new Date(time).toISOString(), value, field]),
        };
      });
    }
    if (name === "periods") {
      const last = new Map<number, { time: number; period: string }>();
      for (const point of points) {
        const period = point.fields.period;
        if (typeof period !== "string") continue;
        const window = Math.floor(point.time / QUARTER) * QUARTER;
        const seen = last.get(window);
        if (!seen || seen.time <= point.time) last.set(window, { time: point.time, period });
      }
      return [
        {
          columns: ["_time", "_value", "_field"],
          types: ["dateTime:RFC3339", "string", "string"],
          rows: [...last.entries()].sort((a, b) => a[0] - b[0]).map(([time, seen]) => [new Date(time).toISOString(), seen.period, "period"]),
        },
      ];
    }
    if (name === "meter_days" || name === "meter_days_kwh_with_kvarh") {
      const paired = name === "meter_days_kwh_with_kvarh";
      const zone = /timezone\.location\(name: "([^"]+)"\)/.exec(query)?.[1] ?? "UTC";
      const tables = new Map<string, Map<number, number>>();
      for (const point of points) {
        for (const field of paired ? ["kwh_with_kvarh"] : ["kwh", "kvarh", "cost"]) {
          const value = paired ? (typeof point.fields.kvarh === "number" ? point.fields.kwh : undefined) : point.fields[field];
          if (typeof value !== "number") continue;
          const key = `${point.tags.meter}|${field}`;
          const sums = tables.get(key) ?? new Map<number, number>();
          tables.set(key, sums);
          const day = localMidnight(point.time, zone);
          sums.set(day, (sums.get(day) ?? 0) + value);
        }
      }
      return [...tables.entries()].map(([key, sums]) => {
        const [meter, field] = key.split("|") as [string, string];
        return {
          columns: ["_time", "_value", "_field", "meter"],
          types: ["dateTime:RFC3339", "double", "string", "string"],
          rows: [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => [new Date(time).toISOString(), value, field, meter]),
        };
      });
    }
    if (name === "counter_energy") return this.counterEnergy(query, points);
    throw new Error(`the fake InfluxDB does not answer queries yielding ${name}`);
  }
}
