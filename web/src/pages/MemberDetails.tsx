// One member: the facts of their membership and what the viewer may do to it (the members
// table's actions, members/actions.tsx: change the role, proposed then saved and confirmed;
// suspend or reactivate; make owner; remove), their workspaces (to themselves and to admins
// and owners), and, for admins and owners, the audit events they took part in: those by them
// (`actor=`) and those about them (`target=`), two lists of the server merged newest first,
// narrowed to a kind of change if asked; for admins and owners of a deployment that names
// usage metrics, the member's usage by day over the last 30 days (usage/UsageChart).
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ok, type AuditEvent, type Member } from "../api/client";
import { sentence } from "../api/messages";
import { describeEvent } from "../audit";
import { date, dateTime } from "../format";
import { navigate, onLinkClick } from "../router";
import { displayName } from "../session";
import { config } from "../config";
import { leaveNotice } from "../pageNotice";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";
import { useMemberActions } from "./members/actions";
import { remember, resolveNames, useNames } from "./members/names";
import { ActionKind, eventPeople } from "./activity/filters";
import { lazy } from "../components/lazy";
import { can, type OrgContext } from "./orgContext";
import { UsageChart } from "./usage/UsageChart";

/** A member's workspaces: with the workspace pages, loaded when first shown. */
const MemberWorkspaces = lazy(() => import("./WorkspacePages").then((m) => m.MemberWorkspaces));

/** Events shown per read ("Load more" reads as many again), and the requests a read makes at
 * most (a filtered page may hold few events and still carry a cursor). */
const ENOUGH = 20;
const READS = 6;

/** One of the two lists (by the member, about them): events read and not shown yet, and the
 * cursor of the rest (null: nothing more; undefined: not read yet). */
type Stream = { filter: { actor: string } | { target: string }; buffer: AuditEvent[]; cursor: string | null | undefined };
const newer = (a: AuditEvent, b: AuditEvent) => (a.at === b.at ? a.id > b.id : a.at > b.at);

export function MemberDetails({ context, userId }: { context: OrgContext; userId: string }) {
  const { org, me } = context;
  const admin = can(context, "members:manage");
  const [member, setMember] = useState<Member | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The outcome of the latest change, said under the facts.
  const [note, setNote] = useState<{ text: string; error?: boolean } | null>(null);
  const { name, known, settled } = useNames(org.id);
  const heading = useRef<HTMLHeadingElement>(null);
  const actions = useMemberActions(context, {
    changed: (...changed) => {
      const mine = changed.find((m) => m.userId === userId);
      if (mine) setMember(mine);
    },
    say: (_, text, error) => setNote({ text, error }),
    quiet: () => setNote(null),
    removed: (gone) => {
      leaveNotice(`${displayName(gone)} was removed from ${org.name}.`);
      navigate(`/o/${org.id}/members`);
    },
    refocus: () => heading.current?.focus(),
  });

  // Another member (or organization) starts afresh; the viewer's own role changing (as after a
  // transfer) reads the member again, keeping what the page said.
  const shownFor = useRef("");
  useEffect(() => {
    let live = true;
    if (shownFor.current !== `${org.id} ${userId}`) {
      shownFor.current = `${org.id} ${userId}`;
      setMember(null);
      setError(null);
      setNote(null);
    }
    ok(api.GET("/orgs/{orgId}/members/{userId}", { params: { path: { orgId: org.id, userId } } })).then(
      ({ member }) => {
        if (!live) return;
        remember(org.id, [member]);
        setMember(member);
      },
      (e) => live && setError(sentence(e)),
    );
    return () => {
      live = false;
    };
  }, [org.id, userId, me.role]);

  const back = (
    <p class="back">
      <a href={`/o/${org.id}/members`} onClick={onLinkClick}>
        <span aria-hidden="true">← </span>Back to members
      </a>
    </p>
  );

  if (!member) {
    return (
      <div class="member-details">
        {back}
        {error ? (
          <>
            <h2>Member not found</h2>
            <ErrorText message={error} />
          </>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </div>
    );
  }

  // The inviter's name once looked up (a removed member's cannot be: said so, not their id).
  const inviter = (id: string) => (known(id) ? name(id) : settled(id) ? "A former member" : "…");
  const active = member.status === "active";
  const who = displayName(member);
  const manage = actions.may.manage(member);
  const busy = actions.saving.has(member.userId);
  const outranked = admin && !manage && member.userId !== me.userId;
  const metrics = context.usageMetrics;
  return (
    <div class="member-details">
      {back}
      <div class="card">
        <h2 ref={heading} tabIndex={-1}>
          {who}
          {member.userId === me.userId && <span class="muted"> (you)</span>}
        </h2>
        <dl class="facts">
          <dt>User id</dt>
          <dd>
            <code>{member.userId}</code>
          </dd>
          <dt>Name</dt>
          <dd>{member.name || "—"}</dd>
          <dt>Email</dt>
          <dd>{member.email || "—"}</dd>
          <dt>Role</dt>
          <dd class="role-fact">{actions.roleField(member)}</dd>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${active ? "joined" : "suspended"}`}>{active ? "Joined" : "Suspended"}</span>
          </dd>
          <dt>Joined</dt>
          <dd>{date(member.joinedAt)}</dd>
          <dt>Invited by</dt>
          <dd>{member.invitedBy ? inviter(member.invitedBy) : "—"}</dd>
          <dt>Last change</dt>
          <dd>{dateTime(member.updatedAt)}</dd>
        </dl>
        <p class="notice" role="status" aria-live="polite">
          {note && !note.error ? note.text : ""}
        </p>
        {note?.error && <ErrorText message={note.text} />}
        {manage && (
          <div class="member-actions" role="group" aria-label={`Change ${who}'s membership`}>
            {active ? (
              <button type="button" class="secondary" onClick={() => actions.ask.suspend(member)}>
                Suspend
              </button>
            ) : (
              <button
                type="button"
                class="secondary"
                aria-disabled={busy}
                onClick={() => !busy && void actions.reactivate(member)}
              >
                {busy ? "Reactivating…" : "Reactivate"}
              </button>
            )}
            {actions.may.transfer(member) && (
              <button type="button" class="secondary" onClick={() => actions.ask.transfer(member)}>
                Make owner
              </button>
            )}
            <button type="button" class="danger" onClick={() => actions.ask.remove(member)}>
              Remove member
            </button>
          </div>
        )}
        {outranked && (
          <p class="muted outranked">
            {member.role === "owner" && config().singleOwner
              ? `${who} is the owner of ${org.name}: their role and membership change only when they transfer ownership.`
              : `Only an owner can change ${who}'s role or membership.`}
          </p>
        )}
      </div>
      {actions.dialogs}
      {metrics.length > 0 && <UsageChart orgId={org.id} metrics={metrics} userId={member.userId} by={`by ${who}`} />}
      {(can(context, "workspaces:manage") || member.userId === me.userId) && <MemberWorkspaces orgId={org.id} userId={member.userId} who={who} />}
      {can(context, "audit:read") && <MemberEvents context={context} userId={member.userId} who={displayName(member)} name={name} />}
    </div>
  );
}

function MemberEvents(props: { context: OrgContext; userId: string; who: string; name: (userId: string) => string }) {
  const orgId = props.context.org.id;
  const { userId } = props;
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [more, setMore] = useState(false);
  const [kind, setKind] = useState("");
  const { busy, error, run } = useAction();
  const streams = useRef<Stream[]>([]);
  const shown = useRef(new Set<string>());
  const id = useId();

  /** Reads on, newest first, until ENOUGH more events or the end of both lists (or READS
   * requests: "Load more" goes on). A read the effect started again (`live` false) leaves
   * busy and error to the new one. */
  const read = (live: () => boolean = () => true) =>
    run(async () => {
      const found: AuditEvent[] = [];
      let reads = 0;
      while (found.length < ENOUGH) {
        const empty = streams.current.filter((s) => s.buffer.length === 0 && s.cursor !== null);
        if (empty.length > 0) {
          if (reads >= READS) break;
          reads += empty.length;
          await Promise.all(
            empty.map(async (s) => {
              const page = await ok(
                api.GET("/orgs/{orgId}/audit", {
                  params: { path: { orgId }, query: { ...s.filter, action: kind || undefined, limit: 50, cursor: s.cursor ?? undefined } },
                }),
              );
              s.buffer.push(...page.events);
              s.cursor = page.nextCursor;
            }),
          );
          if (!live()) return;
          continue;
        }
        // Both lists have an event to offer (or have ended): the newer goes first.
        const next = streams.current
          .filter((s) => s.buffer.length > 0)
          .reduce<Stream | null>((best, s) => (!best || newer(s.buffer[0]!, best.buffer[0]!) ? s : best), null);
        if (!next) break;
        const event = next.buffer.shift()!;
        // Their own role change is by them and about them: shown once.
        if (!shown.current.has(event.id)) {
          shown.current.add(event.id);
          found.push(event);
        }
      }
      await resolveNames(orgId, found.flatMap(eventPeople));
      if (!live()) return;
      setEvents((old) => [...(old ?? []), ...found]);
      setMore(streams.current.some((s) => s.buffer.length > 0 || s.cursor !== null));
    });

  useEffect(() => {
    let live = true;
    streams.current = [
      { filter: { actor: userId }, buffer: [], cursor: undefined },
      { filter: { target: userId }, buffer: [], cursor: undefined },
    ];
    shown.current = new Set();
    setEvents(null);
    void read(() => live);
    return () => {
      live = false;
    };
  }, [orgId, userId, kind]);

  return (
    <section class="card events-card" aria-labelledby={`${id}h`}>
      <div class="events-head">
        <h3 id={`${id}h`}>Activity</h3>
        <ActionKind id={`${id}k`} value={kind} onChange={setKind} />
      </div>
      <ErrorText message={error} />
      <p class={events?.length === 0 ? "muted" : "sr-only"} role="status">
        {events?.length !== 0
          ? ""
          : kind
            ? `No changes of this kind by or about ${props.who}.`
            : `No activity by or about ${props.who} yet.`}
      </p>
      {events === null ? (
        !error && <p class="muted">Loading…</p>
      ) : (
        events.length > 0 && (
          <ol class="member-events">
            {events.map((e) => (
              <li key={e.id}>
                <span>{describeEvent(e, props.name)}</span>
                <time dateTime={e.at}>{dateTime(e.at)}</time>
              </li>
            ))}
          </ol>
        )
      )}
      {more && (
        <button type="button" class="secondary" disabled={busy} onClick={() => read()}>
          Load more
        </button>
      )}
    </section>
  );
}
