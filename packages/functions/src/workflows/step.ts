/**
 * What every workflow step shares: the Lambda runtime wrapper, the database, and on AWS the uploads
 * bucket and Step Functions (from WATTFLOW_UPLOADS_BUCKET / WATTFLOW_WORKFLOW_ARN_PREFIX). Locally the
 * stack has provided them already. A step's error name is the error type Step Functions matches.
 * @example export const validate = step("import-validate", Import.validate)
 */
import { Uploads } from "@wattflow/core/upload";
import { fromEnvironment as s3FromEnvironment } from "@wattflow/core/upload/aws";
import { Workflow } from "@wattflow/core/workflow";
import { fromEnvironment as sfnFromEnvironment } from "@wattflow/core/workflow/aws";
import { lambda } from "../lambda";
import { ensureRuntime } from "../runtime";

export function step<E, R>(name: string, handler: (event: E) => Promise<R> | R): (event: E, context?: import("aws-lambda").Context) => Promise<R> {
  return lambda(name, async (event: E) => {
    await ensureWorkflowRuntime();
    return handler(event);
  });
}

/** The database, the uploads store and the workflow runner: provided by the local stack, or made from the environment on AWS (steps and the API). */
export async function ensureWorkflowRuntime(): Promise<void> {
  await ensureRuntime();
  if (!Uploads.current()) Uploads.provide(s3FromEnvironment());
  if (!Workflow.current()) Workflow.provide(sfnFromEnvironment());
}
