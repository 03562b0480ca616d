// Activity (admins): the organization's audit trail, newest first, each event a sentence,
// narrowed by the server to a kind of change (`action=member.`) and a time range (`from`,
// `to`). The people a page names are looked up in one call before it shows. Above it, for
// admins and owners of a deployment that names usage metrics, the organization's usage by
// day over the last 30 days (usage/UsageChart).
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ok, type AuditEvent } from "../api/client";
import { dateTime } from "../format";
import { describeEvent, linkLabels } from "../audit";
import { resolveNames, useNames } from "./members/names";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";
import type { OrgContext } from "./orgContext";
import { useCustomRoles } from "../customRoles";
import { ActionKind, eventPeople } from "./activity/filters";
import { UsageChart } from "./usage/UsageChart";

export function Activity({ context }: { context: OrgContext }) {
  const orgId = context.org.id;
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [kind, setKind] = useState("");
  // Days as the date fields hold them (yyyy-mm-dd), "" for open-ended.
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const names = useNames(orgId);
  const customs = useCustomRoles(orgId);
  const { busy, error, run } = useAction();
  const generation = useRef(0);
  const id = useId();
  // The filters the events shown were read for: others chosen since mark the list busy.
  const key = `${kind} ${from} ${to}`;
  const [shownFor, setShownFor] = useState(key);

  const load = (after?: string) => {
    const mine = after ? generation.current : ++generation.current;
    return run(async () => {
      const page = await ok(
        api.GET("/orgs/{orgId}/audit", {
          params: {
            path: { orgId },
            query: {
              limit: 50,
              cursor: after,
              action: kind || undefined,
              // From the start of the first day to the end of the last, in the viewer's time.
              from: from ? new Date(`${from}T00:00`).toISOString() : undefined,
              to: to ? new Date(new Date(`${to}T00:00`).getTime() + 86_400_000).toISOString() : undefined,
            },
          },
        }),
      );
      await resolveNames(orgId, page.events.flatMap(eventPeople));
      if (mine !== generation.current) return;
      setEvents((old) => [...(after ? (old ?? []) : []), ...page.events]);
      setCursor(page.nextCursor);
      setShownFor(key);
    });
  };
  useEffect(() => void load(), [orgId, kind, from, to]);

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
  const filtered = !!(kind || from || to);
  const stale = shownFor !== key;
  const none = events?.length === 0 && !stale;
  const metrics = context.usageMetrics;

  return (
    <div class="activity">
      <h2 class="sr-only">Activity</h2>
      {metrics.length > 0 && <UsageChart orgId={orgId} metrics={metrics} by="in the organization" />}
      <div class="toolbar" role="group" aria-label="Show activity">
        <ActionKind id={`${id}k`} value={kind} onChange={setKind} />
        <div class="field">
          <label for={`${id}f`}>From</label>
          <input id={`${id}f`} type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for={`${id}t`}>To</label>
          <input id={`${id}t`} type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.currentTarget.value)} />
        </div>
        {filtered && (
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setKind("");
              setFrom("");
              setTo("");
            }}
          >
            Show all
          </button>
        )}
      </div>
      <ErrorText message={error} />
      {/* Said when a filter finds nothing (the list's own words otherwise). */}
      <p class={filtered && none ? "muted" : "sr-only"} role="status">
        {filtered && none ? "No activity matches these filters." : ""}
      </p>
      {events === null ? (
        !error && <p class="muted">Loading…</p>
      ) : events.length === 0 ? (
        !filtered && !stale && <p class="muted">Nothing has happened here yet.</p>
      ) : (
        <ol class={stale ? "activity-log busy" : "activity-log"} aria-busy={stale} aria-label="Activity, newest first">
          {events.map((event) => (
            <li key={event.id}>
              <span class="what">
                {describeEvent(event, name, {
                  linkLabel: (id) => labels.get(id),
                  roleName: (key) => customs.find((r) => r.key === key)?.name ?? roleNames.get(key),
                })}
              </span>
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
