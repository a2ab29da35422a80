/**
 * The label a demo organization's console carries on every page: its readings are generated and its
 * prices stand-ins, so no figure is taken for a real plant's. Spanish when the page is (`<html lang="es…">`).
 */
const text = { en: "Demo data, demo prices", es: "Datos de demostración, precios de demostración" } as const;

export function DemoLabel({ demo }: { demo: boolean | undefined }) {
  if (!demo) return null;
  const language = document.documentElement.lang.toLowerCase().startsWith("es") ? "es" : "en";
  return (
    <div className="demo-label" role="note">
      {text[language]}
    </div>
  );
}
