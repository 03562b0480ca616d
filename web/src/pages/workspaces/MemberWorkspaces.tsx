// A member's workspaces, on their page (shown to the member and to the organization's admins
// and owners, as the API allows): each with the effective role and where it comes from.
import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../../api/client";
import { sentence } from "../../api/messages";
import { onLinkClick } from "../../router";
import { ErrorText } from "../../components/Status";
import { accessWords, allGroups } from "./shared";
import type { components } from "../../api/schema";

type Row = components["schemas"]["MemberWorkspace"];

export function MemberWorkspaces({ orgId, userId, who }: { orgId: string; userId: string; who: string }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setRows(null);
    setError(null);
    ok(api.GET("/orgs/{orgId}/members/{userId}/workspaces", { params: { path: { orgId, userId } } })).then(async ({ workspaces }) => {
      if (workspaces.some((w) => w.via.some((v) => v.startsWith("group:")))) {
        const groups = await allGroups(orgId).catch(() => []);
        setNames(new Map(groups.map((g) => [g.id, g.name])));
      }
      setRows(workspaces);
    }, (e) => setError(sentence(e)));
  }, [orgId, userId]);
  return (
    <section class="card" aria-labelledby="member-workspaces">
      <h3 id="member-workspaces">Workspaces</h3>
      <ErrorText message={error} />
      {rows === null ? (
        !error && <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted">{who} has access to no workspace.</p>
      ) : (
        <ul class="member-events">
          {rows.map((w) => (
            <li key={w.id}>
              <a href={`/o/${orgId}/workspaces/${w.id}`} onClick={onLinkClick}>
                {w.name}
              </a>
              <span>{accessWords(w.role, w.via, (id) => names.get(id))}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
