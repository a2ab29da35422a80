/** The one label per page that says which clock the page's times are on. */
import { useTranslation } from "react-i18next";
import { zoneLabel } from "./format";

/** "Horas en Monterrey (UTC−06:00)"; with factories in several zones, each zone once. Nothing until a zone is known. */
export function ZoneNote({ zones }: { zones: (string | null | undefined)[] }) {
  const { t } = useTranslation("common");
  const distinct = [...new Set(zones.filter((zone): zone is string => Boolean(zone)))];
  if (distinct.length === 0) return null;
  return (
    <p className="muted small zone-note" data-testid="zone-note">
      {distinct.length === 1
        ? t("timeZoneNote", { zone: zoneLabel(distinct[0] as string) })
        : t("timeZoneNoteMany", { zones: distinct.map((zone) => zoneLabel(zone)).join(", ") })}
    </p>
  );
}
