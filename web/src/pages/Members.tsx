// The Members tab: one table of the organization's members and (for admins and owners) its
// invitations, with filters and cursor paging. Its parts, under pages/members/: the member
// rows (MemberRows) and what may be done to a member (actions: role, suspend, make owner,
// remove), the invitation rows and their actions (Invitations), the bulk bars (BulkRemove for
// members, InvitationBulk for invitations). The rank rules (roles.ts) decide what is offered;
// the API decides what happens, and every refusal is shown as a sentence.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ok, type Invitation, type Member, type RemoveResult, type Role } from "../api/client";
import { sentence } from "../api/messages";
import { ROLES } from "../roles";
import { date } from "../format";
import { displayName } from "../session";
import { RoleOptions } from "../components/Fields";
import { ErrorText, Notice } from "../components/Status";
import { takeNotice } from "../pageNotice";
import { useMemberActions } from "./members/actions";
import { BulkRemove } from "./members/BulkRemove";
import { InvitationBulkBar, type BulkResult } from "./members/InvitationBulk";
import {
  InvitationRows,
  useDelivery,
  useInvitationActions,
  useInvitations,
  type InvitationStatus,
} from "./members/Invitations";
import { MemberRows, type RowNote } from "./members/MemberRows";
import { remember } from "./members/names";
import { fill, PAGE } from "./members/paging";
import { InviteButton } from "./InviteDialog";
import { can, type OrgContext } from "./orgContext";

/** Members by status, invitations (all, or by status), or everything. */
type StatusFilter = "" | "joined" | "suspended" | "invitations" | InvitationStatus;
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function Members({ context }: { context: OrgContext }) {
  const { org } = context;
  const orgId = org.id;
  // Inviting brings the invitations into the list, the invite button and bulk actions.
  const admin = can(context, "members:invite");

  const [role, setRole] = useState<Role | "">("");
  const [status, setStatus] = useState<StatusFilter>("");
  const [members, setMembers] = useState<Member[] | null>(null);
  const [memberCursor, setMemberCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [removing, setRemoving] = useState<Member[] | null>(null);
  // The outcome of the latest change to a member, said in that member's row.
  const [rowNote, setRowNote] = useState<RowNote | null>(null);
  const invitations = useInvitations(orgId);
  // Answers to an older request (filters changed meanwhile) are dropped.
  const generation = useRef(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const roleId = useId();
  const statusId = useId();
  const pausedId = useId();
  const paused = admin ? org.invitationsPaused : null;
  const words = useDelivery(!!paused);

  const wantsMembers = status === "" || status === "joined" || status === "suspended";
  const wantsInvitations = admin && status !== "joined" && status !== "suspended";
  const invitationShown = (i: Invitation) =>
    (!role || i.role === role) && (status === "" || status === "invitations" || i.status === status);

  const memberPage = async (cursor?: string) => {
    const page = await ok(
      api.GET("/orgs/{orgId}/members", {
        params: {
          path: { orgId },
          query: {
            limit: PAGE,
            cursor,
            role: role || undefined,
            status: status === "joined" ? "active" : status === "suspended" ? "suspended" : undefined,
          },
        },
      }),
    );
    return { items: page.members, next: page.nextCursor };
  };
  const fetchMembers = (cursor?: string) => fill(memberPage, () => true, cursor);

  /** The first page of each list, as the filters are now. */
  const refresh = async () => {
    const mine = ++generation.current;
    try {
      const [m, i] = await Promise.all([
        wantsMembers ? fetchMembers() : null,
        wantsInvitations ? invitations.first(invitationShown) : null,
      ]);
      if (mine !== generation.current) return;
      if (m) remember(orgId, m.items);
      setMembers(m?.items ?? []);
      setMemberCursor(m?.next ?? null);
      invitations.show(i ?? { items: [], next: null });
      setSelected((old) => new Set([...old].filter((id) => m?.items.some((x) => x.userId === id))));
    } catch (e) {
      if (mine !== generation.current) return;
      setError(sentence(e));
    }
    setLoading(false);
  };

  useEffect(() => {
    setSelected(new Set());
    invitations.clear();
    void refresh();
  }, [orgId, role, status, admin]);
  // What the page before left to say (a member removed on their own page).
  useEffect(() => setNotice(takeNotice()), []);
  // The rows shown stay, marked busy at once, until the new filters' rows arrive.
  const changeFilter = (r: Role | "", s: StatusFilter) => {
    if (r === role && s === status) return;
    setLoading(true);
    setRole(r);
    setStatus(s);
  };

  const loadMore = async () => {
    const mine = generation.current;
    setLoadingMore(true);
    try {
      const [m, i] = await Promise.all([
        memberCursor ? fetchMembers(memberCursor) : null,
        wantsInvitations ? invitations.more(invitationShown) : null,
      ]);
      if (mine !== generation.current) return;
      if (m) {
        remember(orgId, m.items);
        // A member who moved between pages meanwhile is shown once.
        setMembers((old) => [...(old ?? []), ...m.items.filter((x) => !old?.some((o) => o.userId === x.userId))]);
        setMemberCursor(m.next);
      }
      if (i) invitations.show(i, true);
    } catch (e) {
      setError(sentence(e));
    } finally {
      setLoadingMore(false);
    }
  };

  const say = (message: string) => {
    setError(null);
    setNotice(message);
  };
  const sayInRow = (userId: string, text: string, error = false) => {
    setError(null);
    setNotice(null);
    invitations.unsay();
    setRowNote({ userId, text, error });
  };
  const refocus = () => heading.current?.focus();
  const replace = (...changed: Member[]) =>
    setMembers((old) => old && old.map((m) => changed.find((c) => c.userId === m.userId) ?? m));

  const actions = useMemberActions(context, {
    changed: replace,
    say: sayInRow,
    quiet: (userId) => rowNote?.userId === userId && setRowNote(null),
    removed: (member) => {
      setMembers((old) => old && old.filter((m) => m.userId !== member.userId));
      setSelected((old) => new Set([...old].filter((id) => id !== member.userId)));
      say(`${displayName(member)} was removed from ${org.name}.`);
    },
    // The owner- and admin-role invitations the viewer made stopped working.
    transferred: () => void refresh(),
    refocus,
  });
  const invitationActions = useInvitationActions(context, invitations, {
    notice: say,
    changed: () => void context.reload(),
    refocus,
  });

  const bulkRemoved = (results: RemoveResult[]) => {
    const removed = results.filter((r) => r.status === "removed").length;
    const gone = new Set(results.filter((r) => r.status === "removed" || r.status === "not_found").map((r) => r.userId));
    setMembers((old) => old && old.filter((m) => !gone.has(m.userId)));
    setSelected(new Set());
    say(`${count(removed, "member", "members")} removed.`);
    void refresh();
    void context.reload();
  };
  const bulkInvitations = (kind: "resend" | "revoke", results: BulkResult[]) => {
    for (const r of results) if (r.after) invitations.replace(r.after);
    if (kind === "revoke") invitations.drop(new Set(results.filter((r) => r.done).map((r) => r.invitation.id)));
    invitations.clear();
    const done = results.filter((r) => r.done);
    const revoked = done.filter((r) => r.invitation.status === "pending").length;
    const removed = done.length - revoked;
    const parts =
      kind === "resend"
        ? [done.length > 0 ? `${count(done.length, "invitation", "invitations")} sent again` : ""]
        : [
            revoked > 0 ? `${count(revoked, "invitation", "invitations")} revoked` : "",
            removed > 0 ? `${revoked > 0 ? removed : count(removed, "invitation", "invitations")} removed from the list` : "",
          ];
    const said = parts.filter(Boolean).join(", ");
    say(said ? `${said}.` : `No invitation was ${kind === "resend" ? "sent again" : "revoked"}: the results say why.`);
    void refresh();
    void context.reload();
  };

  const invited = () => {
    void refresh();
    void context.reload();
  };

  const shownInvitations = (invitations.items ?? []).filter(invitationShown);
  const chosenMembers = (members ?? []).filter((m) => selected.has(m.userId) && actions.may.manage(m));
  const chosenInvitations = shownInvitations.filter((i) => invitations.selected.has(i.id));
  const columns = admin ? 6 : 5;
  const moreToLoad = (wantsMembers && memberCursor) || (wantsInvitations && invitations.next);
  const filtered = role !== "" || status !== "";

  return (
    <div class="members">
      <div class="members-head">
        <h2 ref={heading} tabIndex={-1}>
          Members
        </h2>
        {admin && <InviteButton context={context} onInvited={invited} pausedBy={paused ? pausedId : undefined} />}
      </div>
      {paused && words && (
        <div class="full paused" id={pausedId}>
          <p>
            <strong>Invitation emails are paused</strong> since {date(paused.at)}
            {words.paused(paused.reason)[0]}
          </p>
          <p>{words.paused(paused.reason)[1]}</p>
        </div>
      )}
      {/* The count and "N of M seats used" are in the organization's header (OrgPage). */}
      {admin && context.seats && context.seats.used >= context.seats.limit && (
        <p class="full">
          All {context.seats.limit} seats are in use: remove a member or revoke an invitation before inviting someone
          else.
        </p>
      )}

      <div class="toolbar">
        <div class="field">
          <label for={roleId}>Role</label>
          <select id={roleId} value={role} onChange={(e) => changeFilter(e.currentTarget.value as Role | "", status)}>
            <option value="">All</option>
            <RoleOptions roles={ROLES} />
          </select>
        </div>
        <div class="field">
          <label for={statusId}>Status</label>
          <select id={statusId} value={status} onChange={(e) => changeFilter(role, e.currentTarget.value as StatusFilter)}>
            <option value="">All</option>
            {admin ? (
              <>
                <optgroup label="Members">
                  <option value="joined">Joined</option>
                  <option value="suspended">Suspended</option>
                </optgroup>
                <optgroup label="Invitations">
                  <option value="invitations">All invitations</option>
                  <option value="pending">Pending</option>
                  <option value="expired">Expired</option>
                  <option value="declined">Declined</option>
                  <option value="revoked">Revoked</option>
                </optgroup>
              </>
            ) : (
              <>
                <option value="joined">Joined</option>
                <option value="suspended">Suspended</option>
              </>
            )}
          </select>
        </div>
        <span class="spacer" />
        {chosenMembers.length > 0 && (
          <button type="button" class="danger" onClick={() => setRemoving(chosenMembers)}>
            Remove selected ({chosenMembers.length})
          </button>
        )}
        <InvitationBulkBar orgId={orgId} chosen={chosenInvitations} onDone={bulkInvitations} />
      </div>

      <ErrorText message={error} />
      <Notice message={notice} />

      {members === null || (wantsInvitations && invitations.items === null) ? (
        !error && <p class="muted">Loading members…</p>
      ) : (
        <table class={loading ? "roster busy" : "roster"} aria-busy={loading}>
          <caption class="sr-only">
            {admin ? "Members and invitations" : "Members"} of {org.name}
          </caption>
          <thead>
            <tr>
              {admin && (
                <th scope="col" class="pick">
                  <span class="sr-only">Select</span>
                </th>
              )}
              <th scope="col">Name</th>
              <th scope="col" class="role-col">
                Role
              </th>
              <th scope="col" class="optional">
                Status
              </th>
              <th scope="col" class="optional">
                {admin ? "Joined or invited" : "Joined"}
              </th>
              <th scope="col" class="act">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <InvitationRows
            context={context}
            list={invitations}
            shown={shownInvitations}
            columns={columns}
            menuItems={invitationActions.menuItems}
            paused={!!paused}
          />
          <MemberRows
            context={context}
            members={members}
            actions={actions}
            selecting={admin}
            selected={selected}
            onSelect={(ids, on) =>
              setSelected((old) => {
                const next = new Set(old);
                for (const id of ids) {
                  if (on) next.add(id);
                  else next.delete(id);
                }
                return next;
              })
            }
            note={rowNote}
            columns={columns}
          />
          {members.length + shownInvitations.length === 0 && (
            <tbody>
              <tr>
                <td colSpan={columns} class="empty">
                  {filtered ? "No one matches these filters." : "No members yet."}
                </td>
              </tr>
            </tbody>
          )}
        </table>
      )}

      {moreToLoad && (
        <p class="more">
          <button type="button" class="secondary" disabled={loadingMore} onClick={loadMore}>
            Load more
          </button>
        </p>
      )}

      {actions.dialogs}
      {invitationActions.dialogs}
      {removing && (
        <BulkRemove
          orgId={orgId}
          members={removing}
          onDone={bulkRemoved}
          onClose={() => {
            setRemoving(null);
            setTimeout(() => {
              const at = document.activeElement;
              if (!at || at === document.body || !at.isConnected) refocus();
            }, 50);
          }}
        />
      )}
    </div>
  );
}
