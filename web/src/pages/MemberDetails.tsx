// One member: the facts of their membership and what the viewer may do to it (the members
// table's actions, members/actions.tsx: change the role, proposed then saved and confirmed;
// suspend or reactivate; make owner; remove), their workspaces (to themselves and to admins
// and owners), and, for admins and owners, the audit events they took part in (as actor or
// target). The API has no per-member audit filter, so the
// organization's trail is read page by page and filtered here.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok, type AuditEvent, type Member } from "../api/client";
import { sentence } from "../api/messages";
import { describeEvent } from "../audit";
import { date, dateTime } from "../format";
import { navigate, onLinkClick } from "../router";
import { displayName } from "../session";
import { leaveNotice } from "../pageNotice";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";
import { useMemberActions } from "./members/actions";
import { remember, useNames } from "./members/names";
import { lazy } from "../components/lazy";
import { can, type OrgContext } from "./orgContext";

/** A member's workspaces: with the workspace pages, loaded when first shown. */
const MemberWorkspaces = lazy(() => import("./WorkspacePages").then((m) => m.MemberWorkspaces));

/** Audit pages read per "Load more" at most, and the matches that end it early. */
const PAGES_PER_READ = 5;
const ENOUGH = 20;

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
          <p class="muted outranked">Only an owner can change {who}'s role or membership.</p>
        )}
      </div>
      {actions.dialogs}
      {(can(context, "workspaces:manage") || member.userId === me.userId) && <MemberWorkspaces orgId={org.id} userId={member.userId} who={who} />}
      {can(context, "audit:read") && <MemberEvents context={context} userId={member.userId} who={displayName(member)} name={name} />}
    </div>
  );
}

function MemberEvents(props: { context: OrgContext; userId: string; who: string; name: (userId: string) => string }) {
  const orgId = props.context.org.id;
  const { userId } = props;
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [scanned, setScanned] = useState(0);
  const { busy, error, run } = useAction();

  const concerns = (e: AuditEvent) =>
    e.actor === userId || e.target === userId || (e.details as { userId?: unknown }).userId === userId;

  /** Reads pages from `after` until enough of this member's events turned up, or the end.
   * A failed read shows nothing of what it found: "Load more" (or a reload) reads it again.
   * A read the effect started again (`live` false) leaves busy and error to the new one. */
  const read = (after: string | null, live: () => boolean = () => true) =>
    run(async () => {
      let next = after;
      let found: AuditEvent[] = [];
      let seen = 0;
      for (let page = 0; page < PAGES_PER_READ; page++) {
        const answer = await ok(
          api.GET("/orgs/{orgId}/audit", { params: { path: { orgId }, query: { limit: 100, cursor: next ?? undefined } } }),
        );
        if (!live()) return;
        found = found.concat(answer.events.filter(concerns));
        seen += answer.events.length;
        next = answer.nextCursor;
        if (!next || found.length >= ENOUGH) break;
      }
      setEvents((old) => [...(after ? (old ?? []) : []), ...found]);
      setScanned((n) => (after ? n : 0) + seen);
      setCursor(next);
    });

  useEffect(() => {
    let live = true;
    setEvents(null);
    void read(null, () => live);
    return () => {
      live = false;
    };
  }, [orgId, userId]);

  return (
    <section class="card events-card" aria-labelledby="member-activity">
      <h3 id="member-activity">Activity</h3>
      <ErrorText message={error} />
      {events === null ? (
        !error && <p class="muted">Loading…</p>
      ) : events.length === 0 ? (
        <p class="muted">
          No activity of {props.who} in the {scanned} most recent events of this organization.
        </p>
      ) : (
        <ol class="member-events">
          {events.map((e) => (
            <li key={e.id}>
              <span>{describeEvent(e, props.name)}</span>
              <time dateTime={e.at}>{dateTime(e.at)}</time>
            </li>
          ))}
        </ol>
      )}
      {cursor && (
        <button type="button" class="secondary" disabled={busy} onClick={() => read(cursor)}>
          Load more
        </button>
      )}
    </section>
  );
}
