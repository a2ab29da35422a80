import { handle } from "hono/aws-lambda";
import { lambda } from "../lambda";
import { app } from "./app";

/** Lambda entry (Function URL behind the router). */
export const handler = lambda("api", handle(app));
