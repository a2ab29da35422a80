/**
 * What every workflow step shares: the Lambda wrapper and the runtime (functions/src/runtime.ts: the database and,
 * on AWS, the uploads bucket and Step Functions; the local stack provides its own). A step's error name is the error
 * type Step Functions matches.
 * @example export const validate = step("import-validate", Import.validate)
 */

import { WattflowError } from "@wattflow/core/util/error";
import { lambda } from "../lambda";
import { ensureRuntime } from "../runtime";

export function step<E, R>(name: string, handler: (event: E) => Promise<R> | R): (event: E, context?: import("aws-lambda").Context) => Promise<R> {
  async function runStep(event: E): Promise<R> {
    await ensureRuntime();
    try {
      return await handler(event);
    } catch (error) {
      throw transient(error) ?? error;
    }
  }
  return lambda(name, runStep);
}

/** The definitions retry this error type: a failure that says nothing about the input and may pass on the next attempt. */
export class TransientError extends WattflowError {
  readonly kind = "unavailable" as const;
  readonly code = "transient";
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = "TransientError";
  }
}

/** Connection failures (Node's network codes, Postgres' admin shutdown, too many connections, serialization) and throttled AWS calls. */
const transientCodes = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "57P01", "53300", "40001", "40P01"]);
const transientNames = new Set(["ThrottlingException", "TooManyRequestsException", "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"]);

/** The error as a TransientError when it is one of those, else undefined. */
export function transient(error: unknown): TransientError | undefined {
  for (let cursor: unknown = error, depth = 0; cursor instanceof Error && depth < 5; cursor = cursor.cause, depth++) {
    const code = (cursor as { code?: unknown }).code;
    if ((typeof code === "string" && transientCodes.has(code)) || transientNames.has(cursor.name)) return new TransientError(cursor.message, { cause: error });
  }
  return undefined;
}
