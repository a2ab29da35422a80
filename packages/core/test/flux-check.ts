/**
 * Flux's own semantic checker in Node, for tests: the flux-lsp wasm build (`@influxdata/flux-lsp-browser`)
 * is a bundler build whose JS glue imports the .wasm; here the glue is loaded with the wasm instance
 * handed in, and the language server's diagnostics (unknown functions, wrong or missing arguments,
 * type errors) are collected per script.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** The WebAssembly API as used here (the project's lib settings carry no WebAssembly types). */
type WasmApi = {
  Module: { new (bytes: Uint8Array): object; imports(module: object): { module: string; name: string }[] };
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Glue = {
  __setWasm(exports: Record<string, unknown>): void;
  Lsp: new () => { onMessage(handler: (message: string) => void): void; send(message: string): Promise<unknown>; run(): Promise<unknown> };
} & Record<string, unknown>;

type Diagnostic = { message: string; range: { start: { line: number; character: number } } };

let server: Promise<{ check(script: string): Promise<Diagnostic[]> }> | undefined;

async function start() {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("@influxdata/flux-lsp-browser/package.json"));
  const source = readFileSync(join(dir, "flux-lsp-browser_bg.js"), "utf8");
  const patched = source
    .replace(
      "import * as wasm from './flux-lsp-browser_bg.wasm';",
      "let wasm;\nexport function __setWasm(exports) { wasm = exports; cachedInt32Memory0 = new Int32Array(wasm.memory.buffer); cachedUint8Memory0 = new Uint8Array(wasm.memory.buffer); }",
    )
    .replace(/\ncachedInt32Memory0 = new Int32Array\(wasm\.memory\.buffer\);\ncachedUint8Memory0 = new Uint8Array\(wasm\.memory\.buffer\);\s*$/, "\n");
  if (patched === source || !patched.includes("__setWasm")) throw new Error("flux-lsp-browser's glue changed shape; update test/flux-check.ts");
  const temp = mkdtempSync(join(tmpdir(), "flux-lsp-"));
  const gluePath = join(temp, "glue.mjs");
  writeFileSync(gluePath, patched);
  const glue = (await import(/* @vite-ignore */ pathToFileURL(gluePath).href)) as Glue;
  rmSync(temp, { recursive: true, force: true });
  const module = new Wasm.Module(readFileSync(join(dir, "flux-lsp-browser_bg.wasm")));
  const imports: Record<string, unknown> = {};
  for (const entry of Wasm.Module.imports(module)) imports[entry.name] = glue[entry.name];
  const instance = new Wasm.Instance(module, { "./flux-lsp-browser_bg.js": imports });
  glue.__setWasm(instance.exports);

  const lsp = new glue.Lsp();
  const waiting = new Map<string, (diagnostics: Diagnostic[]) => void>();
  lsp.onMessage((raw) => {
    const message = JSON.parse(raw) as { method?: string; params?: { uri: string; diagnostics: Diagnostic[] } };
    if (message.method !== "textDocument/publishDiagnostics" || !message.params) return;
    const resolve = waiting.get(message.params.uri);
    waiting.delete(message.params.uri);
    resolve?.(message.params.diagnostics);
  });
  void lsp.run();
  await lsp.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { capabilities: {} } }));
  await lsp.send(JSON.stringify({ jsonrpc: "2.0", method: "initialized", params: {} }));
  let next = 0;
  return {
    async check(script: string): Promise<Diagnostic[]> {
      const uri = `file:///query-${++next}.flux`;
      const answer = new Promise<Diagnostic[]>((resolve, reject) => {
        waiting.set(uri, resolve);
        setTimeout(() => reject(new Error(`flux-lsp gave no diagnostics for ${uri} within 10 s`)), 10_000).unref();
      });
      await lsp.send(
        JSON.stringify({ jsonrpc: "2.0", method: "textDocument/didOpen", params: { textDocument: { uri, languageId: "flux", version: 1, text: script } } }),
      );
      const diagnostics = await answer;
      await lsp.send(JSON.stringify({ jsonrpc: "2.0", method: "textDocument/didClose", params: { textDocument: { uri } } }));
      return diagnostics;
    },
  };
}

/** Flux's diagnostics for a script, as "line:column message" (empty when the script type-checks). */
export async function fluxProblems(script: string): Promise<string[]> {
  server ??= start();
  const diagnostics = await (await server).check(script);
  return diagnostics.map((item) => `${item.range.start.line + 1}:${item.range.start.character + 1} ${item.message}`);
}
