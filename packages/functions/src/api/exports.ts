/**
 * Mounted at /v1/factories: a factory's bills (JSON list, one bill as JSON or as the PDF a finance team files) and
 * CSV downloads of its readings and usage. Org-scoped like every factory route; errors are the API's JSON problems,
 * raised before the first byte of a file.
 */
import type { Auth } from "@wattflow/core/auth";
import { Export } from "@wattflow/core/export";
import { Onboarding } from "@wattflow/core/onboarding";
import { Usage } from "@wattflow/core/usage";
import { VisibleError } from "@wattflow/core/util/error";
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { actorAuth } from "./auth";
import { actorRoute, answer, file, ids, invalid, routes } from "./openapi";

/** A CSV file as an attachment; the bytes stream as they are read. */
export function csvResponse(c: Context, file: Export.CsvFile) {
  return c.body(file.stream, 200, {
    "content-type": "text/csv; charset=utf-8; header=present",
    "content-disposition": `attachment; filename="${file.fileName}"`,
  });
}

/** Whether the client asked for `type` over JSON (`Accept: text/csv`, `Accept: application/pdf`). */
export function wants(c: Context, type: string): boolean {
  return accepts(c, { header: "Accept", supports: ["application/json", type], default: "application/json" }) === type;
}

const billRoute = actorRoute({
  method: "get",
  path: "/{id}/bills/{bill}",
  tags: ["Bills"],
  summary: "One bill as JSON, or as a PDF with `Accept: application/pdf` or a name ending in `.pdf`",
  middleware: actorAuth,
  request: { params: ids("id", "bill") },
  responses: {
    200: {
      description: "The bill",
      content: {
        ...answer(Onboarding.StoredBill, "The bill of one billing period").content,
        ...file("application/pdf", "The bill sheet a finance team files"),
      },
    },
  },
});
const readingsCsv = actorRoute({
  method: "get",
  path: "/{id}/exports/readings.csv",
  tags: ["Exports"],
  summary: "The factory's readings over [from, to) as a streamed CSV file (one meter with `meter`, `bom=1` for Excel)",
  middleware: actorAuth,
  request: { params: ids("id"), query: Export.ReadingsQuery },
  responses: { 200: { description: "The readings", content: file("text/csv", "One row per reading") } },
});
const usageCsv = actorRoute({
  method: "get",
  path: "/{id}/exports/usage.csv",
  tags: ["Exports"],
  summary: "The factory's usage buckets (kWh, MXN) over [from, to) as a CSV file (`bom=1` for Excel)",
  middleware: actorAuth,
  request: { params: ids("id"), query: Usage.Query.safeExtend({ bom: Export.Bom }) },
  responses: { 200: { description: "The usage buckets", content: file("text/csv", "One row per bucket") } },
});

export const exportRoutes = routes<{ Variables: { actor: Auth.Actor } }>()
  .openapi(billRoute, async (c) => {
    const organizationId = c.get("actor").organizationId;
    const { id: factoryId, bill: named } = c.req.valid("param");
    const billId = named.replace(/\.pdf$/, "");
    if (named.endsWith(".pdf") || wants(c, "application/pdf")) {
      const sheet = await Export.billSheet(organizationId, factoryId, billId);
      const pdf = await Export.billPdf(sheet);
      return c.body(new Uint8Array(pdf), 200, {
        "content-type": "application/pdf",
        "content-disposition": `attachment; filename="${Export.billFileName(sheet)}"`,
      });
    }
    const [bill] = await Onboarding.bills(organizationId, factoryId, { id: billId });
    if (!bill) throw new VisibleError("not_found", "bill.not_found", `bill ${billId} of factory ${factoryId} not found`);
    return c.json(bill, 200);
  })
  .openapi(
    readingsCsv,
    async (c) => csvResponse(c, await Export.readingsCsv(c.get("actor").organizationId, c.req.valid("param").id, c.req.valid("query"))),
    invalid("readings.invalid_query"),
  )
  .openapi(
    usageCsv,
    async (c) => csvResponse(c, await Export.usageCsv(c.get("actor").organizationId, c.req.valid("param").id, c.req.valid("query"))),
    invalid("usage.invalid_query"),
  );
