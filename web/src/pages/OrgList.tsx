// The caller's organizations with their role, and "Create organization". Arriving with
// `?deleted=1` (after deleting an organization in its Settings) says so, as it says what
// another page left for it (pageNotice.ts: "You were removed from X").
import { useEffect, useState } from "preact/hooks";
import { api, ok, type ListedOrg } from "../api/client";
import { sentence } from "../api/messages";
import { onLinkClick } from "../router";
import { ROLE_LABEL } from "../roles";
import { ErrorText, Notice } from "../components/Status";
import { takeNotice } from "../pageNotice";
import { CreateOrg } from "./CreateOrg";

export function OrgList() {
  const [orgs, setOrgs] = useState<ListedOrg[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (after?: string) => {
    try {
      const page = await ok(api.GET("/orgs", { params: { query: { limit: 50, cursor: after } } }));
      setOrgs((old) => [...(after ? (old ?? []) : []), ...page.orgs]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(sentence(e));
    }
  };
  useEffect(() => void load(), []);

  // Set after the first render, so that the status region announces it; the address loses
  // the flag, so that a reload does not say it again.
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    const left = takeNotice();
    if (left) setNotice(left);
    if (!new URLSearchParams(location.search).has("deleted")) return;
    setNotice("The organization was deleted.");
    history.replaceState(null, "", "/");
  }, []);

  return (
    <section class="narrow">
      <h1 tabIndex={-1}>Your organizations</h1>
      <Notice message={notice} />
      <ErrorText message={error} />
      {orgs === null ? (
        !error && <p class="muted">Loading…</p>
      ) : orgs.length === 0 ? (
        <p>You don't belong to an organization yet. Create one to get started.</p>
      ) : (
        <ul class="orgs">
          {orgs.map(({ org, membership }) => (
            <li key={org.id}>
              <a href={`/o/${org.id}/members`} onClick={onLinkClick}>
                {org.name}
              </a>
              <span class="muted">
                {"role" in membership && "memberCount" in org
                  ? `${ROLE_LABEL[membership.role]}${membership.status === "suspended" ? " · Suspended" : ""} · ${org.memberCount} ${org.memberCount === 1 ? "member" : "members"}`
                  : "Suspended"}
              </span>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => load(cursor)}>
          Load more
        </button>
      )}
      <CreateOrg />
    </section>
  );
}
