// One member: the facts of their membership and, for admins and owners, the audit events
// they took part in (as actor or target). The API has no per-member audit filter, so the
// organization's trail is read page by page and filtered here.
import { useEffect, useState } from "preact/hooks";
import { api, ok, type AuditEvent, type Member } from "../api/client";
import { sentence } from "../api/messages";
import { describeEvent } from "../audit";
import { date, dateTime } from "../format";
import { onLinkClick } from "../router";
import { canInvite, ROLE_LABEL } from "../roles";
import { displayName } from "../session";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";
import { remember, useNames } from "./members/names";
import type { OrgContext } from "./orgContext";

/** Audit pages read per "Load more" at most, and the matches that end it early. */
const PAGES_PER_READ = 5;
const ENOUGH = 20;

export function MemberDetails({ context, userId }: { context: OrgContext; userId: string }) {
  const { org, me } = context;
  const admin = canInvite(me.role);
  const [member, setMember] = useState<Member | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { name } = useNames(org.id);

  useEffect(() => {
    let live = true;
    setMember(null);
    setError(null);
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

  const active = member.status === "active";
  return (
    <div class="member-details">
      {back}
      <div class="card">
        <h2>
          {displayName(member)}
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
          <dd>{ROLE_LABEL[member.role]}</dd>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${active ? "joined" : "suspended"}`}>{active ? "Joined" : "Suspended"}</span>
          </dd>
          <dt>Joined</dt>
          <dd>{date(member.joinedAt)}</dd>
          <dt>Invited by</dt>
          <dd>{member.invitedBy ? name(member.invitedBy) : "—"}</dd>
          <dt>Last change</dt>
          <dd>{dateTime(member.updatedAt)}</dd>
        </dl>
      </div>
      {admin && <MemberEvents context={context} userId={member.userId} who={displayName(member)} name={name} />}
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
