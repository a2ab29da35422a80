/**
 * Mounted at /v1/factories: GET /:id/kpis?period=current|YYYY-MM (or month=YYYY-MM)[&gridFactor=kg/kWh], the KPIs and
 * statement of the factory's billing period, and
 * GET /:id/allocation?month=YYYY-MM, its bill split over the sub-meters (org-scoped).
 */
import type { Auth } from "@wattflow/core/auth";
import { Close } from "@wattflow/core/close";
import { Kpi } from "@wattflow/core/kpi";
import { KpiReport } from "@wattflow/core/kpi/report";
import { actorAuth } from "./auth";
import { actorRoutes, answer, ids, invalid, routes } from "./openapi";

/** A factory's billing period read by any role. */
const billRoute = actorRoutes({ tags: ["Bills"], middleware: actorAuth });
const kpisRoute = billRoute({
  method: "get",
  path: "/{id}/kpis",
  summary: "The KPIs and statement of the factory's billing period (kWh, billing demand kW, MXN, kg CO₂e)",
  request: { params: ids("id"), query: Kpi.Query },
  responses: { 200: answer(KpiReport.Report, "The billing period's KPIs and statement") },
});
const allocationRoute = billRoute({
  method: "get",
  path: "/{id}/allocation",
  summary: "The month's bill split over the factory's sub-meters",
  request: { params: ids("id"), query: Kpi.MonthQuery },
  responses: { 200: answer(Close.Allocated, "Each sub-meter's share of kWh and MXN") },
});

export const kpis = routes<{ Variables: { actor: Auth.Actor } }>()
  .openapi(
    kpisRoute,
    async (c) => c.json(await KpiReport.month(c.get("actor").organizationId, c.req.valid("param").id, c.req.valid("query")), 200),
    invalid("kpis.invalid_query"),
  )
  .openapi(
    allocationRoute,
    async (c) => c.json(await Close.allocation(c.get("actor").organizationId, c.req.valid("param").id, c.req.valid("query").month), 200),
    invalid("allocation.invalid_query"),
  );
