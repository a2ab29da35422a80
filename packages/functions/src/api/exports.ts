/**
 * Mounted at /v1/factories: a factory's bills (JSON list, one bill as JSON or as the PDF a finance team files) and
 * CSV downloads of its readings and usage. Org-scoped like every factory route; errors are the API's JSON problems,
 * raised before the first byte of a file.
 */
import { Export } from "@wattflow/core/export";
import { Onboarding } from "@wattflow/core/onboarding";
import { VisibleError } from "@wattflow/core/util/error";
import { type Context, Hono } from "hono";
import { accepts } from "hono/accepts";
import { actorAuth } from "./auth";
import { parse } from "./input";

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

export const exportRoutes = new Hono()
  .get("/:id/bills/:bill", actorAuth, async (c) => {
    const organizationId = c.get("actor").organizationId;
    const factoryId = c.req.param("id");
    const named = c.req.param("bill");
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
    return c.json(bill);
  })
  .get("/:id/exports/readings.csv", actorAuth, async (c) => {
    const query = parse(Export.ReadingsQuery, c.req.query(), "readings.invalid_query");
    return csvResponse(c, await Export.readingsCsv(c.get("actor").organizationId, c.req.param("id"), query));
  })
  .get("/:id/exports/usage.csv", actorAuth, async (c) => {
    const query = parse(Export.UsageQuery, c.req.query(), "usage.invalid_query");
    return csvResponse(c, await Export.usageCsv(c.get("actor").organizationId, c.req.param("id"), query));
  });
