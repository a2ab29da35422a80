import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { Argument, type Command } from "commander";
import { CliError, target } from "../client";

type Started = { executionArn: string; imports: { id: string; fileName: string; format: string; bytes: number }[] };

export function register(program: Command): void {
  program
    .command("import")
    .description("import customer files (CSV or XLSX) through the ImportFiles workflow; prints the execution id on the last line")
    .addArgument(new Argument("<kind>", "what the files hold").choices(["production", "bill", "prices"]))
    .argument("<files...>", "CSV or XLSX files; several go through one run")
    .option("--factory <id>", "the factory the files belong to (fac_…); optional when the organization has one")
    .action(async (kind: string, files: string[], options: { factory?: string }) => {
      const to = target("operatorToken");
      const form = new FormData();
      form.set("kind", kind);
      if (options.factory) form.set("factory", options.factory);
      for (const file of files) {
        let bytes: Buffer;
        try {
          bytes = await readFile(file);
        } catch (error) {
          throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
        }
        form.append("file", new Blob([new Uint8Array(bytes)]), basename(file));
      }
      let response: Response;
      try {
        response = await fetch(`${to.apiUrl}/v1/imports`, { method: "POST", headers: { authorization: `Bearer ${to.token}` }, body: form });
      } catch (error) {
        throw new CliError(`cannot reach the API at ${to.apiUrl}: ${(error as Error).message}; is the stack running (npm start)?`);
      }
      const text = await response.text();
      if (!response.ok) {
        const body = JSON.parse(text) as { message?: string; errors?: { path: string; message: string }[] };
        const problems = (body.errors ?? []).map((problem) => `${problem.path}: ${problem.message}`).join("; ");
        throw new CliError(`import refused (${response.status}): ${body.message ?? text.slice(0, 300)}${problems ? ` — ${problems}` : ""}`);
      }
      const started = JSON.parse(text) as Started;
      for (const run of started.imports) console.log(`uploaded ${run.fileName} (${run.format}, ${run.bytes} bytes) as ${run.id}`);
      console.log(`follow it with: wattflow runs watch ${started.executionArn}`);
      console.log(started.executionArn);
    });
}
