/** POST /v1/enroll: a gateway trades its one-time enrollment code for its token and signing key. */
import { createRoute } from "@hono/zod-openapi";
import { Enrollment } from "@wattflow/core/device/enrollment";
import { checkBody } from "./body";
import { answer, jsonBody, problems, routes } from "./openapi";

const redeemRoute = createRoute({
  method: "post",
  path: "/",
  tags: ["Devices"],
  summary: "Trade a one-time enrollment code for the gateway's device token and signing key",
  // Public: the body is checked (size, characters) before the validator reads it, as auth.ts does once a caller is known.
  middleware: checkBody,
  request: { body: jsonBody(Enrollment.redeem.schema) },
  responses: { 200: answer(Enrollment.Credentials, "The gateway's credentials"), 400: problems[400], 401: problems[401], 404: problems[404] },
});

export const enroll = routes().openapi(redeemRoute, async (c) => c.json(await Enrollment.redeem(c.req.valid("json")), 200));
