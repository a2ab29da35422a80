/**
 * Mounted at /v1/factories: GET /:id/kpis?period=current|YYYY-MM (or month=YYYY-MM)[&gridFactor=kg/kWh], the KPIs and
 * statement of the factory's billing period, and
 * GET /:id/allocation?month=YYYY-MM, its bill split over the sub-meters (org-scoped).
 */
import { Close } from "@wattflow/core/close";
import { Kpi } from "@wattflow/core/kpi";
import { KpiReport } from "@wattflow/core/kpi/report";
import { Hono } from "hono";
import { actorAuth } from "./auth";
import { parse } from "./input";

export const kpis = new Hono()
  .get("/:id/kpis", actorAuth, async (c) => {
    const query = parse(Kpi.Query, c.req.query(), "kpis.invalid_query");
    return c.json(await KpiReport.month(c.get("actor").organizationId, c.req.param("id"), query));
  })
  .get("/:id/allocation", actorAuth, async (c) => {
    const query = parse(Kpi.MonthQuery, c.req.query(), "allocation.invalid_query");
    return c.json(await Close.allocation(c.get("actor").organizationId, c.req.param("id"), query.month));
  });
