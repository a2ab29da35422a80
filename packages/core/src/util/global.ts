/**
 * State that must outlive a module reload (`npm run dev` re-imports handlers and core): kept on
 * globalThis under a registered symbol, so every copy of a module shares one.
 * @example const state = processState("wattflow.stream", () => ({ port: undefined as Port | undefined }))
 */
export function processState<T extends object>(name: string, create: () => T): T {
  const key = Symbol.for(name);
  const holder = globalThis as unknown as Record<symbol, T | undefined>;
  const existing = holder[key];
  if (existing) return existing;
  const created = create();
  holder[key] = created;
  return created;
}
