/**
 * Customer file imports: POST a file (multipart `file` fields with `kind` and `factory`, or the raw
 * body with `?kind=&factory=&name=`), get back the ImportFiles execution to watch.
 */
import { bodyLimits } from "@wattflow/core/config";
import { Import } from "@wattflow/core/import";
import { VisibleError } from "@wattflow/core/util/error";
import { Hono } from "hono";
import { actorAuth, requireRole } from "./auth";
import { chunksOf } from "./limits";

export const imports = new Hono()
  .use(actorAuth)
  .post("/", requireRole("admin", "operator"), async (c) => {
    const actor = c.get("actor");
    const { kind, factoryId, files } = await Import.receiveRequest(actor.organizationId, {
      contentType: c.req.header("content-type") ?? "",
      body: chunksOf(c.req.raw.body, bodyLimits.importBytes),
      query: (name) => c.req.query(name),
    });
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
