/**
 * The label a demo organization's console carries on every page: its readings are generated and its
 * prices stand-ins, so no figure is taken for a real plant's.
 */
import { useTranslation } from "react-i18next";

export function DemoLabel({ demo }: { demo: boolean | undefined }) {
  const { t } = useTranslation();
  if (!demo) return null;
  return (
    <div className="demo-label" role="note" data-testid="demo-label">
      {t("demoLabel")}
    </div>
  );
}
