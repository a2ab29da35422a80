/** ImportFiles steps (packages/core/src/workflow/definitions.ts). */
import { Import } from "@wattflow/core/import";
import { step } from "./step";

export const validate = step("import-validate", (event: { importId: string }) => Import.validate(event));
export const load = step("import-load", (event: { importId: string }) => Import.load(event));
export const finish = step("import-finish", (event: Parameters<typeof Import.finish>[0]) => Import.finish(event));
