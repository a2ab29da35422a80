/** POST /v1/enroll: a gateway trades its one-time enrollment code for its token and signing key. */
import { Enrollment } from "@wattflow/core/device/enrollment";
import { Hono } from "hono";
import { json } from "./input";

export const enroll = new Hono().post("/", json(Enrollment.redeem.schema), async (c) => c.json(await Enrollment.redeem(c.req.valid("json"))));
