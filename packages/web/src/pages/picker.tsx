import { useTranslation } from "react-i18next";
import { api, ok } from "../api";
import { go, useLoad } from "../hooks";
import { Options } from "../options";

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
        <Options values={list} value={(factory) => factory.id} label={(factory) => factory.name} />
      </select>
    </label>
  );
  return { selected, picker, loading: factories.loading, error: factories.error };
}
