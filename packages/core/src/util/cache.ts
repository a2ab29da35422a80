/**
 * A per-process read-through cache of values by key, each kept `ttlMs` after it was loaded. `get(keys, load, now)`
 * answers fresh hits from memory and loads every other key in one call: `load(missing)` returns the values it found
 * by key; a key it leaves out is absent from the answer and not cached, so a row created a moment later is found.
 * @example const owners = readThrough<Owner>(lookupCacheMs); await owners.get(ids, (missing) => loadOwners(missing))
 */
export function readThrough<V>(ttlMs: number) {
  const entries = new Map<string, { value: V; until: number }>();
  return {
    async get(keys: readonly string[], load: (missing: string[]) => Promise<Map<string, V>>, now = Date.now()): Promise<Map<string, V>> {
      const found = new Map<string, V>();
      const missing: string[] = [];
      for (const key of new Set(keys)) {
        const hit = entries.get(key);
        if (hit && hit.until > now) found.set(key, hit.value);
        else missing.push(key);
      }
      if (missing.length === 0) return found;
      for (const [key, value] of await load(missing)) {
        found.set(key, value);
        entries.set(key, { value, until: now + ttlMs });
      }
      return found;
    },
    /** Forgets `key`: its next `get` loads it again (after a write that changes it). */
    delete(key: string): void {
      entries.delete(key);
    },
  };
}
