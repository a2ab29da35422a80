/** The heading every page opens with. */
import type { ReactNode } from "react";

/** A page's `<h1>` title and, on its right (under it on a phone), what acts on the whole page: a picker, a filter, Refresh. */
export function PageHeading({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="heading">
      <h1>{title}</h1>
      {children}
    </div>
  );
}
