import type { Command } from "commander";
import { api, target } from "../client";

type Item = { id: string; createdAt: string; reason: string; errors: { path: string; message: string }[]; deviceId: string | null; replayedAt: string | null };

export function register(program: Command): void {
  const quarantine = program.command("quarantine").description("records the pipeline could not take: list them, replay them once fixed");
  quarantine
    .command("list")
    .description("list quarantined records not yet replayed")
    .option("--all", "include replayed records")
    .option("--json", "print JSON")
    .action(async (options: { all?: boolean; json?: boolean }) => {
      const { items } = await api<{ items: Item[] }>(target("platformToken"), "GET", `/v1/quarantine${options.all ? "?all=true" : ""}`);
      if (options.json) return console.log(JSON.stringify(items, null, 2));
      if (items.length === 0) return console.log("quarantine is empty");
      for (const item of items) {
        const problems = item.errors.map((error) => `${error.path}: ${error.message}`).join("; ");
        console.log(
          `${item.id}  ${item.createdAt}  ${item.reason}${problems ? ` — ${problems}` : ""}${item.replayedAt ? `  (replayed ${item.replayedAt})` : ""}`,
        );
      }
      console.log(`${items.length} record(s)`);
    });
  quarantine
    .command("replay")
    .description("put quarantined records back through the pipeline (all not yet replayed when no id is given)")
    .argument("[ids...]", "quarantine ids (qtn_…)")
    .action(async (ids: string[]) => {
      const result = await api<{ replayed: string[]; notFound: string[] }>(target("platformToken"), "POST", "/v1/quarantine/replay", { ids });
      console.log(`replayed ${result.replayed.length} record(s)`);
      if (result.notFound.length > 0) {
        console.error(`not found: ${result.notFound.join(", ")}`);
        process.exitCode = 1;
      }
    });
}
