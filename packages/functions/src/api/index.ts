import { registerLambdaChecks } from "@wattflow/core/health/aws";
import { handle } from "hono/aws-lambda";
import { lambda } from "../lambda";
import { app } from "./app";

// Only closures: clients are created by the first /health request.
registerLambdaChecks();

/** Lambda entry (Function URL behind the router). */
export const handler = lambda("api", handle(app));
