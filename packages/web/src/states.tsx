/** What a page shows of a load (useLoad) before its figures: its failure, or a note while it runs. */
import type { ReactNode } from "react";
import type { Loaded } from "./hooks";

/** A load's failure in the API's words; nothing while it has not failed. */
export function LoadError({ error }: { error: Error | undefined }) {
  return error ? <p className="error">{error.message}</p> : null;
}

/**
 * A load's failure, else `loading` (the page's muted words) until its data comes, then `children` with the data.
 * Example: `<LoadState state={gaps} loading={<p className="muted small">{t("loadingGaps")}</p>}>{(data) => …}</LoadState>`
 */
export function LoadState<T>({ state, loading, children }: { state: Loaded<T>; loading: ReactNode; children(data: T): ReactNode }) {
  if (state.error) return <LoadError error={state.error} />;
  return state.data === undefined ? loading : children(state.data);
}
