import { handle } from "hono/aws-lambda";
import { app } from "./app";

/** Lambda entry (Function URL behind the router). */
export const handler = handle(app);
