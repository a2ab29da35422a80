import { useTranslation } from "react-i18next";
import { api, ok } from "../api";
import { go, useLoad } from "../hooks";

/** Picks the factory a page shows; the choice lives in the route (`#/tariffs/<factory id>`). */
export function useFactoryPicker(section: string, factoryId: string | undefined) {
  const { t } = useTranslation("common");
  const factories = useLoad(() => ok(api.v1.factories.$get()), []);
  const list = factories.data?.factories ?? [];
  const selected = list.find((factory) => factory.id === factoryId) ?? list[0];
  const picker = (
    <label className="inline">
      {t("factory")}{" "}
      <select value={selected?.id ?? ""} onChange={(event) => go(`/${section}/${event.target.value}`)} aria-label={t("factory")}>
        {list.map((factory) => (
          <option key={factory.id} value={factory.id}>
            {factory.name}
          </option>
        ))}
      </select>
    </label>
  );
  return { selected, picker, loading: factories.loading, error: factories.error };
}
