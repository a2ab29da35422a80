/** ImportFiles steps (packages/core/src/workflow/definitions.ts). */
import { Import } from "@wattflow/core/import";
import { step } from "./step";

export const validate = step("import-validate", Import.validate);
export const load = step("import-load", Import.load);
export const finish = step("import-finish", Import.finish);
