import { type DependencyList, useCallback, useEffect, useState } from "react";

/** The hash route: `#/factories/fac_1?range=week` → { path: ["factories", "fac_1"], query }. */
export function useRoute(): { path: string[]; query: URLSearchParams } {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  const [path = "", search = ""] = hash.replace(/^#\/?/, "").split("?");
  return { path: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function go(route: string): void {
  location.hash = route;
}

export type Loaded<T> = { data?: T; error?: Error; loading: boolean; reload(): void };

/** Runs `load` when `deps` change; the newest call wins, so a quick range switch never shows stale figures. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  useEffect(() => {
    let current = true;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: Error) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { ...state, reload };
}

/**
 * A set of ids that each open or close on a click (rows whose details show under them): the set and its toggle.
 * @example const [open, toggle] = useToggleSet(); … onClick={() => toggle(row.id)} … open.has(row.id)
 */
export function useToggleSet(): [ReadonlySet<string>, (id: string) => void] {
  const [shown, setShown] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback(
    (id: string) =>
      setShown((current) => {
        const next = new Set(current);
        if (!next.delete(id)) next.add(id);
        return next;
      }),
    [],
  );
  return [shown, toggle];
}
