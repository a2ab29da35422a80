/**
 * Customer file imports: POST a file (multipart `file` fields with `kind` and `factory`, or the raw
 * body with `?kind=&factory=&name=`), get back the ImportFiles execution to watch.
 */
import { z } from "@hono/zod-openapi";
import type { Auth } from "@wattflow/core/auth";
import { bodyLimits } from "@wattflow/core/config";
import { Import } from "@wattflow/core/import";
import { VisibleError } from "@wattflow/core/util/error";
import { access, actorAuth } from "./auth";
import { chunksOf } from "./limits";
import { actorRoute, answer, problems, routes } from "./openapi";

const tags = ["Imports"];
const kind = { type: "string" as const, enum: [...Import.kinds], description: "What the files hold" };
const factory = { type: "string" as const, description: "The factory the rows belong to (production and bill files)" };

// The files stream to the upload store as they arrive (Import.receiveRequest), so the body is documented here and
// read by core, never buffered by a validator.
const uploadRoute = actorRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Import files (admin or operator): multipart `file` fields, or one raw file with `?kind=&factory=&name=`",
  middleware: access.operators,
  request: {
    // A raw body names its kind, factory and file name here; a multipart body in its fields.
    query: z.object({ kind: z.string().optional(), factory: z.string().optional(), name: z.string().optional() }),
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object" as const,
            required: ["kind", "file"],
            properties: { kind, factory, file: { type: "array" as const, items: { type: "string" as const, contentMediaType: "application/octet-stream" } } },
          },
        },
        "application/octet-stream": { schema: { type: "string" as const, contentMediaType: "application/octet-stream" } },
        "text/csv": { schema: { type: "string" as const } },
      },
    },
  },
  responses: {
    202: answer(Import.Started, "The ImportFiles run to watch"),
    413: problems[413],
  },
});
const listRoute = actorRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The organization's imports, newest first",
  middleware: actorAuth,
  responses: { 200: answer(z.object({ imports: z.array(Import.Info) }), "The imports") },
});

export const imports = routes<{ Variables: { actor: Auth.Actor } }>()
  .openapi(uploadRoute, async (c) => {
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
  .openapi(listRoute, async (c) => c.json({ imports: await Import.list(c.get("actor").organizationId) }, 200));
