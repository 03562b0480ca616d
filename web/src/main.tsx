import { render } from "preact";
import { useEffect } from "preact/hooks";
import { match, navigate, onLinkClick, useLocation } from "./router";
import { displayName, expiresAt, session, signOut } from "./session";
import { loadConfig } from "./config";
import { logOut } from "./auth/oidc";
import { SignIn } from "./pages/SignIn";
import { Callback } from "./pages/Callback";
import { OrgList } from "./pages/OrgList";
import { OrgPage } from "./pages/OrgPage";
import type { Tab } from "./pages/orgContext";
import { Accept } from "./pages/Accept";
import { HomeLink } from "./components/HomeLink";

function App() {
  const { path, query } = useLocation();
  const me = session();

  const needsSignIn = !me && path !== "/sign-in" && path !== "/invite" && path !== "/auth/callback";
  useEffect(() => {
    if (needsSignIn) navigate(`/sign-in?next=${encodeURIComponent(path + location.search)}`, true);
  }, [needsSignIn, path]);

  // When the token expires, back to signing in, returning to the page the person was on.
  useEffect(() => {
    if (!me) return;
    const wait = Math.min(expiresAt(me.token) - Date.now(), 2 ** 31 - 1);
    const timer = setTimeout(() => signOut(location.pathname + location.search), wait);
    return () => clearTimeout(timer);
  }, [me?.token]);

  // A new page moves focus to its heading, as a page load would for a screen reader.
  useEffect(() => {
    const main = document.querySelector("main h1") as HTMLElement | null;
    main?.focus({ preventScroll: true });
  }, [path]);

  let page;
  if (path === "/sign-in") page = <SignIn next={query.get("next")} email={query.get("email")} />;
  else if (path === "/auth/callback") page = <Callback />;
  else if (path === "/invite") page = <Accept token={query.get("token") ?? ""} />;
  else if (needsSignIn) page = null;
  else if (path === "/") page = <OrgList />;
  else {
    const org = match("/o/:orgId/:tab", path) ?? match("/o/:orgId", path);
    // A member's, a workspace's or a group's page, under its tab.
    const item = match("/o/:orgId/:tab/:id", path);
    const tab = (item?.tab ?? org?.tab ?? "members") as Tab;
    // Settings has one page below it: its Roles tab.
    if (item && (["members", "workspaces", "groups"].includes(tab) || (tab === "settings" && item.id === "roles")))
      page = <OrgPage orgId={item.orgId!} tab={tab} item={item.id!} />;
    else if (org && !item && ["members", "workspaces", "groups", "links", "activity", "settings"].includes(tab))
      page = <OrgPage orgId={org.orgId!} tab={tab} />;
    else page = <NotFound />;
  }

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a href="/" class="brand" onClick={onLinkClick}>
          Roster
        </a>
        {me && (
          <div class="who">
            <span>
              Signed in as <strong>{displayName(me.user)}</strong>
            </span>
            <button type="button" class="secondary small" onClick={logOut}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main">{page}</main>
    </>
  );
}

function NotFound() {
  return (
    <section class="narrow">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>There is no page at this address. Check the address, or go to your organizations.</p>
      <HomeLink />
    </section>
  );
}

/** The page when /config.json is wrong: what is wrong, instead of a blank page. */
function ConfigProblem({ message }: { message: string }) {
  return (
    <>
      <header class="top">
        <span class="brand">Roster</span>
      </header>
      <main id="main">
        <section class="narrow card">
          <h1 tabIndex={-1}>Roster cannot start</h1>
          <p class="error" role="alert">
            The app's settings are not valid: {message}
          </p>
          <p class="muted">Whoever runs this deployment can fix its /config.json.</p>
        </section>
      </main>
    </>
  );
}

const root = document.getElementById("app")!;
loadConfig().then(
  () => render(<App />, root),
  (e: Error) => render(<ConfigProblem message={e.message} />, root),
);
