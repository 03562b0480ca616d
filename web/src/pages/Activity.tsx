// Activity (admins): the organization's audit trail, newest first, each event a sentence.
import { useEffect, useState } from "preact/hooks";
import { api, ok, type AuditEvent } from "../api/client";
import { dateTime } from "../format";
import { describeEvent, linkLabels, preloadNames } from "../audit";
import { useNames } from "./members/names";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";
import type { OrgContext } from "./orgContext";
import { useCustomRoles } from "../customRoles";

export function Activity({ context }: { context: OrgContext }) {
  const orgId = context.org.id;
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const names = useNames(orgId);
  const customs = useCustomRoles(orgId);
  const { busy, error, run } = useAction();

  const load = (after?: string) =>
    run(async () => {
      const page = await ok(
        api.GET("/orgs/{orgId}/audit", { params: { path: { orgId }, query: { limit: 50, cursor: after } } }),
      );
      setEvents((old) => [...(after ? (old ?? []) : []), ...page.events]);
      setCursor(page.nextCursor);
    });
  useEffect(() => {
    setReady(false);
    void Promise.all([load(), preloadNames(orgId)]).then(() => setReady(true));
  }, [orgId]);

  // A deleted custom role is known by the name its own events recorded (the newest first).
  const roleNames = new Map<string, string>();
  for (const e of events ?? []) {
    const d = e.details as Record<string, unknown>;
    const after = (d.after ?? {}) as Record<string, unknown>;
    const name = typeof after.name === "string" ? after.name : typeof d.name === "string" ? d.name : null;
    if (e.action.startsWith("role.") && e.target && name && !roleNames.has(e.target)) roleNames.set(e.target, name);
  }

  // People no longer in the members list are known by the address their events recorded.
  const recorded = new Map<string, string>();
  for (const e of events ?? []) {
    const d = e.details as Record<string, unknown>;
    const email = typeof d?.email === "string" ? d.email : null;
    if (!email) continue;
    if (e.action === "invitation.accepted" || e.action === "invitation.declined") recorded.set(e.actor, email);
    else if (e.action === "member.removed" && e.target) recorded.set(e.target, email);
    else if (e.action === "member.left") recorded.set(e.actor, email);
  }
  // A link's label, for its uses and revocation (their events name the link by id only).
  const labels = linkLabels(events ?? []);
  const name = (id: string) => {
    const found = names.name(id); // also asks for an unknown id to be looked up
    return names.known(id) ? found : (recorded.get(id) ?? found);
  };

  return (
    <div class="activity">
      <h2 class="sr-only">Activity</h2>
      <ErrorText message={error} />
      {events === null || !ready ? (
        !error && <p class="muted">Loading…</p>
      ) : events.length === 0 ? (
        <p class="muted">Nothing has happened here yet.</p>
      ) : (
        <ol class="activity-log" aria-label="Activity, newest first">
          {events.map((event) => (
            <li key={event.id}>
              <span class="what">{describeEvent(event, name, {
                  linkLabel: (id) => labels.get(id),
                  roleName: (key) => customs.find((r) => r.key === key)?.name ?? roleNames.get(key),
                })}</span>
              <time dateTime={event.at}>{dateTime(event.at)}</time>
            </li>
          ))}
        </ol>
      )}
      {cursor && (
        <button type="button" class="secondary more" disabled={busy} onClick={() => load(cursor)}>
          {busy ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}
