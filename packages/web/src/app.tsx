/** The console shell: who is signed in, the navigation, and the page of the current route. */
import { useEffect, useState } from "react";
import { api, type Me, ok, signedOut } from "./api";
import { DemoLabel } from "./demo-label";
import { go, useRoute } from "./hooks";
import { Bills } from "./pages/bills";
import { Devices } from "./pages/devices";
import { FactoryPage } from "./pages/factory";
import { Imports } from "./pages/imports";
import { OverviewPage } from "./pages/overview";
import { Setup } from "./pages/setup";
import { SignIn } from "./pages/signin";
import { Tariffs } from "./pages/tariffs";

const nav = [
  ["", "Overview"],
  ["devices", "Devices"],
  ["tariffs", "Tariffs"],
  ["bills", "Bills"],
  ["imports", "Imports"],
  ["setup", "Setup"],
] as const;

export function App() {
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
          {nav.map(([path, label]) => (
            <a key={path} href={`#/${path}`} className={section === path || (path === "" && section === "factories") ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <div className="who">
          <span title={me.user.email}>
            {me.user.name} · {me.user.role}
          </span>
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <DemoLabel demo={me.organization?.demo} />
      <main>
        {section === "" && <OverviewPage />}
        {section === "factories" && id && <FactoryPage id={id} range={route.query.get("range")} />}
        {section === "devices" && <Devices admin={admin} />}
        {section === "tariffs" && <Tariffs factoryId={id} admin={admin} />}
        {section === "bills" && <Bills factoryId={id} />}
        {section === "imports" && <Imports />}
        {section === "setup" && <Setup admin={admin} />}
      </main>
    </div>
  );
}
