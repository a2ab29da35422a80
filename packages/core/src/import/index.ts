/**
 * Customer file imports: a file (CSV or XLSX) is stored as an object, recorded as an `import_run`, and
 * taken through the ImportFiles workflow — validate (every bad row with its line), load idempotently,
 * then refresh what it touched. The workflow's steps call `validate`, `load` and `finish`.
 */
import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { Close } from "../close";
import { importLimits } from "../config";
import { Database } from "../database";
import { Factory } from "../factory";
import type { Figures } from "../kpi/figures";
import { meterTable } from "../meter/meter.sql";
import { Prices } from "../prices";
import { Production } from "../production";
import { Uploads } from "../upload";
import * as Multipart from "../upload/multipart";
import { VisibleError, WattflowError } from "../util/error";
import { createId } from "../util/id";
import { Workflow } from "../workflow";
import { importRunTable } from "./import.sql";
import { type Format, formatOf, ParseError, parse } from "./parse";
import { type BillRow, type Context, checkPaced, type Kind, type PriceRow, type ProductionRow, type RowError, type Rows } from "./rows";

export * as Import from "./index";
export type { Kind, RowError } from "./rows";

export const kinds = ["production", "bill", "prices"] as const satisfies readonly Kind[];

/** A file the customer sent has rows that cannot be imported; the message names each with its line. */
export class ImportValidationError extends WattflowError {
  readonly kind = "input" as const;
  readonly code = "import.invalid";
  override readonly name = "ImportValidationError";
}

/** A step was given an import that does not exist (or is not in the state the step needs). */
export class NotFoundError extends WattflowError {
  readonly kind = "not_found" as const;
  readonly code = "not_found";
  override readonly name = "NotFoundError";
}

export type Run = typeof importRunTable.$inferSelect;

/**
 * An import run as the API answers it (`GET /v1/imports`): the file's name as uploaded, its counts (null until
 * loaded), each bad row's line (the header is line 1) and reason, and its instants as ISO 8601 UTC text. Where the
 * file is kept (the upload store's key) is ours, not the caller's: `toInfo` lists what is answered.
 */
export const Info = z.object({
  id: z.string(),
  organizationId: z.string(),
  /** Null for price tables, which are per tariff division, not per factory. */
  factoryId: z.string().nullable(),
  kind: z.enum(kinds),
  fileName: z.string(),
  format: z.enum(["csv", "xlsx"]),
  sha256: z.string(),
  bytes: z.number(),
  status: z.enum(["pending", "validated", "loaded", "failed"]),
  /** The ImportFiles run that loads it, as `GET /v1/runs/{id}` names it (runs are addressed by their execution ARN); null until started. */
  executionArn: z.string().nullable(),
  rows: z.number().nullable(),
  inserted: z.number().nullable(),
  updated: z.number().nullable(),
  unchanged: z.number().nullable(),
  errors: z.array(z.object({ line: z.number(), column: z.string().optional(), message: z.string() })).nullable(),
  finishedAt: z.string().nullable(),
  createdAt: z.string(),
});
export type Info = z.infer<typeof Info>;

/** `POST /v1/imports`' answer: the ImportFiles execution to watch and each file's import (id, name, format, bytes, SHA-256). */
export const Started = z.object({
  executionArn: z.string(),
  imports: z.array(Info.pick({ id: true, fileName: true, format: true, bytes: true, sha256: true })),
});
export type Started = z.infer<typeof Started>;

/** A file given whole (the CLI's and tests' way); the API streams its files in with `receive`. */
export type File = { name: string; bytes: Uint8Array };
/** A file already in the upload store under its import id. */
export type Received = { id: string; fileName: string; objectKey: string; bytes: number; sha256: string; format: Format };

/** How many bad rows the failure message lists; all of them are kept on the import run. */
const listedErrors = 5;

function cleanName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "file";
  return (
    base
      .replace(/[^A-Za-z0-9._-]/g, "_")
      .replace(/^[._-]+/, "")
      .slice(0, 100) || "file"
  );
}

/**
 * Streams one file into the upload store under a new import id, as its chunks arrive.
 * Throws VisibleError("too_large") past `importLimits.fileBytes` (nothing is kept), ("input") when empty.
 */
export async function receive(organizationId: string, name: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Received> {
  const id = createId("import");
  const fileName = cleanName(name);
  const objectKey = `imports/${organizationId}/${id}/${fileName}`;
  const saved = await Uploads.save(objectKey, toAsync(chunks), importLimits.fileBytes, fileName);
  if (saved.bytes === 0) throw new VisibleError("input", "import.empty_file", `${name} is empty`, [{ path: fileName, message: "the file has no bytes" }]);
  return { id, fileName, objectKey, bytes: saved.bytes, sha256: saved.sha256, format: formatOf(fileName, saved.head) };
}

async function* toAsync(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/**
 * An import request's files and fields, each file streamed to the upload store as it arrives:
 * multipart/form-data (`file` fields, `kind`, `factory`) or the raw file with `kind`, `factory` and
 * `name` in the query.
 */
export async function receiveRequest(
  organizationId: string,
  request: { contentType: string; body: AsyncIterable<Uint8Array>; query: (name: string) => string | undefined },
): Promise<{ kind?: string; factoryId?: string; files: Received[] }> {
  let kind = request.query("kind");
  let factoryId = request.query("factory");
  const files: Received[] = [];
  if (!request.contentType.startsWith("multipart/form-data")) {
    files.push(await receive(organizationId, request.query("name") ?? "upload.csv", request.body));
    return { kind, factoryId, files };
  }
  const boundary = Multipart.boundaryOf(request.contentType);
  if (!boundary)
    throw new VisibleError("input", "upload.invalid_multipart", "The multipart body has no boundary", [{ path: "(body)", message: "no boundary" }]);
  for await (const part of Multipart.parts(request.body, boundary)) {
    if (part.name === "file") {
      if (part.filename === undefined) throw new VisibleError("input", "import.invalid_file", "each file field must be a file, not text");
      files.push(await receive(organizationId, part.filename, part.body));
    } else if (part.name === "kind") kind = await Multipart.text(part);
    else if (part.name === "factory") factoryId = await Multipart.text(part);
  }
  return { kind, factoryId, files };
}

/**
 * Stores the files (unless they were received already) and starts one ImportFiles execution for them all.
 * @example Import.start({ organizationId, kind: "production", factoryId, files: [{ name: "march.csv", bytes }] })
 */
export async function start(input: {
  organizationId: string;
  kind: Kind;
  factoryId?: string;
  files: (File | Received)[];
}): Promise<{ executionArn: string; imports: Run[] }> {
  if (!kinds.includes(input.kind)) throw new VisibleError("input", "import.invalid_kind", `kind must be one of ${kinds.join(", ")}`);
  if (input.files.length === 0) throw new VisibleError("input", "import.no_file", "send at least one file");
  let factoryId: string | null = null;
  if (input.kind !== "prices") {
    const factories = await Factory.list(input.organizationId);
    if (input.factoryId) {
      if (!factories.some((factory) => factory.id === input.factoryId))
        throw new VisibleError("not_found", "factory.not_found", `factory ${input.factoryId} not found`);
      factoryId = input.factoryId;
    } else if (factories.length === 1) factoryId = (factories[0] as Factory.Info).id;
    else
      throw new VisibleError(
        "input",
        "import.factory_required",
        `a ${input.kind} file belongs to a factory: name it (--factory); the organization has ${factories.length}`,
      );
  }
  const imports: Run[] = [];
  for (const file of input.files) {
    const received = "name" in file ? await receive(input.organizationId, file.name, [file.bytes]) : file;
    const [run] = await Database.use()
      .insert(importRunTable)
      .values({
        id: received.id,
        organizationId: input.organizationId,
        factoryId,
        kind: input.kind,
        fileName: received.fileName,
        format: received.format,
        objectKey: received.objectKey,
        sha256: received.sha256,
        bytes: received.bytes,
        status: "pending",
      })
      .returning();
    imports.push(run as Run);
  }
  const first = imports[0] as Run;
  const { executionArn } = await (await Workflow.use()).start(
    "ImportFiles",
    { organizationId: input.organizationId, kind: input.kind, imports: imports.map((run) => ({ importId: run.id })) },
    `import-${first.id.slice(4)}`,
  );
  await Database.use()
    .update(importRunTable)
    .set({ executionArn })
    .where(
      inArray(
        importRunTable.id,
        imports.map((run) => run.id),
      ),
    );
  return { executionArn, imports: imports.map((run) => ({ ...run, executionArn })) };
}

async function get(importId: string): Promise<Run> {
  const [run] = await Database.use().select().from(importRunTable).where(eq(importRunTable.id, importId));
  if (!run) throw new NotFoundError(`import ${importId} does not exist`);
  return run;
}

/** The organization's imports, newest first. */
export async function list(organizationId: string, limit = 50): Promise<Info[]> {
  const rows = await Database.use()
    .select()
    .from(importRunTable)
    .where(eq(importRunTable.organizationId, organizationId))
    .orderBy(desc(importRunTable.createdAt))
    .limit(limit);
  return rows.map(toInfo);
}

/** A stored import run as the API answers it, field by field, so a new column (a storage key) never leaks by itself. */
function toInfo(run: Run): Info {
  return {
    id: run.id,
    organizationId: run.organizationId,
    factoryId: run.factoryId,
    kind: run.kind,
    fileName: run.fileName,
    format: run.format,
    sha256: run.sha256,
    bytes: run.bytes,
    status: run.status,
    executionArn: run.executionArn,
    rows: run.rows,
    inserted: run.inserted,
    updated: run.updated,
    unchanged: run.unchanged,
    errors: run.errors,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    createdAt: run.createdAt.toISOString(),
  };
}

const stagedKey = (run: Run) => `staged/${run.organizationId}/${run.id}.json`;

async function context(run: Run, now: Date): Promise<Context> {
  if (!run.factoryId) return { now };
  const factory = await Factory.get(run.organizationId, run.factoryId);
  if (!factory) throw new NotFoundError(`factory ${run.factoryId} of import ${run.id} does not exist`);
  if (run.kind !== "production") return { timeZone: factory.timeZone, now };
  const meters = await Database.use()
    .selectDistinct({ line: meterTable.line })
    .from(meterTable)
    .where(eq(meterTable.factoryId, run.factoryId))
    .orderBy(asc(meterTable.line));
  return { timeZone: factory.timeZone, lines: meters.map((meter) => meter.line), now };
}

function describe(run: Run, errors: RowError[]): string {
  const listed = errors
    .slice(0, listedErrors)
    .map((error) => `line ${error.line}${error.column ? ` (${error.column})` : ""}: ${error.message}`)
    .join("; ");
  const more = errors.length > listedErrors ? `; and ${errors.length - listedErrors} more (all on import ${run.id})` : "";
  return `${run.fileName}: ${errors.length} bad row${errors.length === 1 ? "" : "s"}: ${listed}${more}`;
}

/**
 * Step 1: parses and checks the file; the normalized rows are staged as an object for the load step.
 * Throws ImportValidationError naming the bad rows by line.
 */
export async function validate(input: { importId: string }, now = new Date()): Promise<{ importId: string; rows: number }> {
  const run = await get(input.importId);
  const bytes = await (await Uploads.use()).get(run.objectKey);
  let errors: RowError[] = [];
  let rows: Rows | undefined;
  try {
    const table = await parse(run.format as Format, bytes);
    const checked = await checkPaced(run.kind, table, await context(run, now));
    if (checked.ok) rows = checked.rows;
    else errors = checked.errors;
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    errors = [{ line: error.line, message: error.message }];
  }
  if (!rows) {
    await Database.use().update(importRunTable).set({ status: "failed", errors, finishedAt: new Date() }).where(eq(importRunTable.id, run.id));
    throw new ImportValidationError(describe(run, errors));
  }
  await (await Uploads.use()).put(stagedKey(run), Buffer.from(JSON.stringify(rows)));
  await Database.use().update(importRunTable).set({ status: "validated", rows: rows.rows.length, errors: [] }).where(eq(importRunTable.id, run.id));
  return { importId: run.id, rows: rows.rows.length };
}

export type Loaded = {
  importId: string;
  kind: Kind;
  factoryId: string | null;
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Local dates (production) or months (bill, prices) the rows cover: what `finish` refreshes. */
  from?: string;
  to?: string;
  months?: string[];
  /** Bill lines whose name is none of ours (billing/lines.ts lineCode): stored as written, matched to no line of ours. */
  unmatched?: { month: string; code: string }[];
};

/** Step 2: loads the staged rows idempotently (upserts that leave identical rows alone). */
export async function load(input: { importId: string }, now = new Date()): Promise<Loaded> {
  const run = await get(input.importId);
  if (run.status !== "validated" && run.status !== "loaded") throw new NotFoundError(`import ${run.id} is ${run.status}, not validated`);
  const staged = JSON.parse((await (await Uploads.use()).get(stagedKey(run))).toString("utf8")) as Rows;
  const loaded: Loaded = { importId: run.id, kind: run.kind, factoryId: run.factoryId, rows: staged.rows.length, inserted: 0, updated: 0, unchanged: 0 };
  if (staged.kind === "production") {
    const rows = staged.rows as ProductionRow[];
    Object.assign(loaded, await Production.load(run.factoryId as string, run.id, rows, now));
    const dates = rows.map((row) => row.date).sort();
    loaded.from = dates[0];
    loaded.to = dates[dates.length - 1];
  } else if (staged.kind === "bill") {
    const factory = await Factory.get(run.organizationId, run.factoryId as string);
    const rows = staged.rows as BillRow[];
    const result = await Close.loadUtilityBills(run.factoryId as string, run.id, factory?.currency ?? "MXN", rows, now);
    const unmatched = rows.filter((row) => row.unmatched).map((row) => ({ month: row.month, code: row.code }));
    Object.assign(loaded, { inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, months: result.months, unmatched });
  } else {
    const rows = staged.rows as PriceRow[];
    Object.assign(loaded, await Prices.load(run.id, rows, now));
    loaded.months = [...new Set(rows.map((row) => row.month))].sort();
  }
  await Database.use()
    .update(importRunTable)
    .set({ status: "loaded", inserted: loaded.inserted, updated: loaded.updated, unchanged: loaded.unchanged, finishedAt: now })
    .where(eq(importRunTable.id, run.id));
  return loaded;
}

/**
 * Step 3: refreshes what the loaded rows touch — energy per unit of the production days, the
 * reconciliation of imported bills, and (prices) the tariffs and the cost recompute of their months.
 */
export async function finish(input: { organizationId: string; kind: Kind; loaded: Loaded[] }) {
  const total = (pick: (loaded: Loaded) => number) => input.loaded.reduce((sum, loaded) => sum + pick(loaded), 0);
  const summary: {
    kind: Kind;
    files: number;
    rows: number;
    inserted: number;
    updated: number;
    unchanged: number;
    kpis?: { factoryId: string; from: string; to: string; energyPerUnit: Figures.EnergyPerUnit }[];
    reconciled?: { factoryId: string; month: string; difference: string }[];
    /** Utility bill lines named as none of ours: kept as the utility's own charges, beside no line of ours. */
    unmatched?: { factoryId: string; month: string; code: string }[];
    recompute?: { executionArn: string; factories: number; months: string[] };
  } = {
    kind: input.kind,
    files: input.loaded.length,
    rows: total((loaded) => loaded.rows),
    inserted: total((loaded) => loaded.inserted),
    updated: total((loaded) => loaded.updated),
    unchanged: total((loaded) => loaded.unchanged),
  };
  if (input.kind === "production") {
    summary.kpis = [];
    for (const loaded of input.loaded) {
      if (!loaded.factoryId || !loaded.from || !loaded.to) continue;
      summary.kpis.push({
        factoryId: loaded.factoryId,
        from: loaded.from,
        to: loaded.to,
        energyPerUnit: await Production.energyPerUnit(loaded.factoryId, loaded.from, loaded.to),
      });
    }
  }
  if (input.kind === "bill") {
    summary.reconciled = [];
    summary.unmatched = input.loaded.flatMap((loaded) =>
      loaded.factoryId ? (loaded.unmatched ?? []).map((line) => ({ factoryId: loaded.factoryId as string, ...line })) : [],
    );
    for (const loaded of input.loaded) {
      for (const month of loaded.months ?? []) {
        const reconciliation = loaded.factoryId ? await Close.reconcile({ factoryId: loaded.factoryId, month }) : null;
        if (reconciliation && loaded.factoryId) summary.reconciled.push({ factoryId: loaded.factoryId, month, difference: reconciliation.difference });
      }
    }
  }
  if (input.kind === "prices") {
    const runs = await Database.use()
      .select()
      .from(importRunTable)
      .where(
        and(
          eq(importRunTable.organizationId, input.organizationId),
          inArray(
            importRunTable.id,
            input.loaded.map((loaded) => loaded.importId),
          ),
        ),
      );
    const rows: PriceRow[] = [];
    for (const run of runs) rows.push(...((JSON.parse((await (await Uploads.use()).get(stagedKey(run))).toString("utf8")) as Rows).rows as PriceRow[]));
    const changed = await Prices.apply(input.organizationId, rows);
    const months = [...new Set(changed.flatMap((factory) => factory.months))].sort();
    if (changed.length > 0) {
      // A price import starts the recompute of the months it changed; named by the import, so a retried step starts it once.
      const name = `recompute-${(input.loaded[0] as Loaded).importId.slice(4)}`;
      const recompute = { organizationId: input.organizationId, months, factoryIds: changed.map((factory) => factory.factoryId) };
      const executionArn = await (await Workflow.use())
        .start("CostRecompute", recompute, name)
        .then((started) => started.executionArn)
        .catch((error: unknown) => {
          if (error instanceof Workflow.ExecutionAlreadyExists) return error.executionArn;
          throw error;
        });
      summary.recompute = { executionArn, factories: changed.length, months };
    }
  }
  return summary;
}
