/**
 * Customer file imports: POST a file (multipart `file` fields with `kind` and `factory`, or the raw
 * body with `?kind=&factory=&name=`), get back the ImportFiles execution to watch.
 */
import { Import } from "@wattflow/core/import";
import { VisibleError } from "@wattflow/core/util/error";
import { Hono } from "hono";
import { ensureWorkflowRuntime } from "../workflows/step";
import { actorAuth, requireRole } from "./auth";

export const imports = new Hono()
  .use(actorAuth)
  .use(async (_, next) => {
    await ensureWorkflowRuntime();
    await next();
  })
  .post("/", requireRole("admin", "operator"), async (c) => {
    const actor = c.get("actor");
    const contentType = c.req.header("content-type") ?? "";
    let kind = c.req.query("kind");
    let factoryId = c.req.query("factory");
    const files: Import.File[] = [];
    if (contentType.startsWith("multipart/form-data")) {
      const form = await c.req.formData();
      kind = (form.get("kind") as string | null) ?? kind;
      factoryId = (form.get("factory") as string | null) ?? factoryId;
      for (const value of form.getAll("file")) {
        if (typeof value === "string") throw new VisibleError("input", "import.invalid_file", "each file field must be a file, not text");
        files.push({ name: value.name, bytes: new Uint8Array(await value.arrayBuffer()) });
      }
    } else {
      files.push({ name: c.req.query("name") ?? "upload.csv", bytes: new Uint8Array(await c.req.arrayBuffer()) });
    }
    if (!kind || !(Import.kinds as readonly string[]).includes(kind))
      throw new VisibleError("input", "import.invalid_kind", `kind must be one of ${Import.kinds.join(", ")}`, [
        { path: "kind", message: `got ${kind ?? "nothing"}` },
      ]);
    const started = await Import.start({ organizationId: actor.organizationId, kind: kind as Import.Kind, factoryId: factoryId || undefined, files });
    return c.json(
      {
        executionArn: started.executionArn,
        imports: started.imports.map((run) => ({ id: run.id, fileName: run.fileName, format: run.format, bytes: run.bytes, sha256: run.sha256 })),
      },
      202,
    );
  })
  .get("/", async (c) => c.json({ imports: await Import.list(c.get("actor").organizationId) }));
