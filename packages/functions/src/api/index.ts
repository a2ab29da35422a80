import { registerLambdaChecks } from "@wattflow/core/health/aws";
import { handle } from "hono/aws-lambda";
import { lambda } from "../lambda";
import { app } from "./app";

// Only closures: clients are created by the first /health request.
registerLambdaChecks();

/** The Hono app answering the router's Function URL events, named like every other entry's function. */
const serveApi = handle(app);

/** Lambda entry (Function URL behind the router). */
export const handler = lambda("api", serveApi);
