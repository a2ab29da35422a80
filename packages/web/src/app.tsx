/** The console shell: who is signed in, the navigation, and the page of the current route. */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, type Me, ok, signedOut } from "./api";
import { DemoLabel } from "./demo-label";
import { go, useRoute } from "./hooks";
import { LanguageSelect } from "./options";
import { AlertsPage } from "./pages/alerts";
import { Bills } from "./pages/bills";
import { Devices } from "./pages/devices";
import { FactoryPage } from "./pages/factory";
import { Imports } from "./pages/imports";
import { OverviewPage } from "./pages/overview";
import { QuarantinePage } from "./pages/quarantine";
import { Setup } from "./pages/setup";
import { SignIn } from "./pages/signin";
import { Tariffs } from "./pages/tariffs";

// The API's roles (auth.ts `access`); a console user is an admin or a viewer (User.Role), operator is a token's role.
const everyone: readonly string[] = ["admin", "operator", "viewer"];
/** The pages, each linked for the roles the API lets read it: the quarantine is operators' and admins' (access.operators). */
const nav: readonly (readonly [path: string, label: string, roles: readonly string[]])[] = [
  ["", "nav.overview", everyone],
  ["devices", "nav.devices", everyone],
  ["tariffs", "nav.tariffs", everyone],
  ["bills", "nav.bills", everyone],
  ["imports", "nav.imports", everyone],
  ["alerts", "nav.alerts", everyone],
  ["quarantine", "nav.quarantine", ["admin", "operator"]],
  ["setup", "nav.setup", everyone],
];

export function App() {
  const { t } = useTranslation();
  const route = useRoute();
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  useEffect(() => {
    ok(api.v1.session.$get()).then(setMe, () => setMe(null));
    const onSignedOut = () => setMe(null);
    signedOut.addEventListener("signed-out", onSignedOut);
    return () => signedOut.removeEventListener("signed-out", onSignedOut);
  }, []);

  if (me === undefined) return <div className="splash">Wattflow</div>;
  if (me === null) return <SignIn onSignedIn={setMe} />;

  const signOut = async () => {
    await ok(api.v1.session.$delete());
    setMe(null);
    go("/");
  };
  const [section = "", id] = route.path;
  const admin = me.user.role === "admin";
  return (
    <div className="shell">
      <header className="top">
        <a className="brand" href="#/">
          <span className="bolt">⚡</span> Wattflow
        </a>
        <nav>
          {nav
            .filter(([, , roles]) => roles.includes(me.user.role))
            .map(([path, label]) => (
              <a key={path} href={`#/${path}`} className={section === path ? "active" : ""} aria-current={section === path ? "page" : undefined}>
                {t(label)}
              </a>
            ))}
        </nav>
        <div className="who">
          <span title={me.user.email}>
            {me.user.name} · {t(`roles.${me.user.role}`)}
          </span>
          <LanguageSelect />
          <button type="button" className="link" onClick={signOut}>
            {t("signOut")}
          </button>
        </div>
      </header>
      <DemoLabel demo={me.organization?.demo} />
      <main>
        {section === "" && <OverviewPage canHandle={me.user.role !== "viewer"} />}
        {section === "factories" && id && <FactoryPage id={id} range={route.query.get("range")} />}
        {section === "devices" && <Devices admin={admin} />}
        {section === "tariffs" && <Tariffs factoryId={id} admin={admin} />}
        {section === "bills" && <Bills factoryId={id} />}
        {section === "imports" && <Imports />}
        {section === "setup" && <Setup admin={admin} />}
        {section === "alerts" && <AlertsPage canHandle={me.user.role !== "viewer"} />}
        {section === "quarantine" && me.user.role !== "viewer" && <QuarantinePage canReplay={admin} />}
      </main>
    </div>
  );
}
