// The Members tab: one table of the organization's members and (for admins and owners) its
// pending and expired invitations, with filters, cursor paging, a role drop-down per member
// (a choice is only proposed until saved), a row menu, and bulk removal. The rank rules
// (roles.ts) decide what is offered; the API decides what happens, and every refusal is shown
// as a sentence; the outcome of a change to a row is said next to that row.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ApiError, ok, type Invitation, type Member, type RemoveResult, type Role } from "../api/client";
import { sentence } from "../api/messages";
import { date } from "../format";
import { onLinkClick } from "../router";
import { canInvite, canManage, grantable, ROLE_LABEL, ROLES } from "../roles";
import { displayName } from "../session";
import { Confirm } from "../components/Dialog";
import { Menu, type MenuItem } from "../components/Menu";
import { RoleOptions } from "../components/Fields";
import { ErrorText, Notice } from "../components/Status";
import { useAction } from "../components/useAction";
import { BulkRemove } from "./members/BulkRemove";
import { remember } from "./members/names";
import { RoleCell, roleChangeWords } from "./members/RoleChange";
import { InviteButton } from "./InviteDialog";
import type { OrgContext } from "./orgContext";

type StatusFilter = "" | "joined" | "suspended" | "invited" | "expired";
type Pending =
  | { kind: "role"; member: Member; to: Role }
  | { kind: "suspend"; member: Member }
  | { kind: "remove"; member: Member }
  | { kind: "transfer"; member: Member }
  | { kind: "revoke"; invitation: Invitation }
  | { kind: "bulk"; members: Member[] };

const PAGE = 50;
const article = (role: Role) => (role === "owner" || role === "admin" ? "an" : "a");
/** Pages of a filtered list may hold few or no matches (the API filters after paging, and
 * invitations are filtered here): read on until a page's worth of matches, the end of the
 * list, or a few pages, whichever comes first. "Load more" goes on from there. */
async function fill<T>(
  read: (cursor?: string) => Promise<{ items: T[]; next: string | null }>,
  keep: (item: T) => boolean,
  cursor?: string,
): Promise<{ items: T[]; next: string | null }> {
  const items: T[] = [];
  let next = cursor ?? null;
  for (let round = 0; round < 10; round++) {
    const page = await read(next ?? undefined);
    items.push(...page.items);
    next = page.next;
    if (!next || items.filter(keep).length >= PAGE) break;
  }
  return { items, next };
}
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function Members({ context }: { context: OrgContext }) {
  const { org, me } = context;
  const orgId = org.id;
  const admin = canInvite(me.role);

  const [role, setRole] = useState<Role | "">("");
  const [status, setStatus] = useState<StatusFilter>("");
  const [members, setMembers] = useState<Member[] | null>(null);
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [memberCursor, setMemberCursor] = useState<string | null>(null);
  const [invitationCursor, setInvitationCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [saving, setSaving] = useState<Set<string>>(new Set());
  // Roles chosen in a row's drop-down and not saved yet, by user id.
  const [proposed, setProposed] = useState<Record<string, Role>>({});
  // The outcome of the latest change to a row, said in that row.
  const [rowNote, setRowNote] = useState<{ userId: string; text: string; error?: boolean } | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const dialog = useAction();
  // Answers to an older request (filters changed meanwhile) are dropped.
  const generation = useRef(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const roleId = useId();
  const statusId = useId();

  const wantsMembers = status !== "invited" && status !== "expired";
  const wantsInvitations = admin && (status === "" || status === "invited" || status === "expired");

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
  const invitationPage = async (cursor?: string) => {
    const page = await ok(
      api.GET("/orgs/{orgId}/invitations", { params: { path: { orgId }, query: { limit: PAGE, cursor } } }),
    );
    return { items: page.invitations, next: page.nextCursor };
  };
  const invitationShown = (i: Invitation) =>
    (!role || i.role === role) &&
    (status === "" || (status === "invited" ? i.status === "pending" : i.status === "expired"));
  const fetchMembers = (cursor?: string) => fill(memberPage, () => true, cursor);
  const fetchInvitations = (cursor?: string) => fill(invitationPage, invitationShown, cursor);

  /** The first page of each list, as the filters are now. */
  const refresh = async () => {
    const mine = ++generation.current;
    try {
      const [m, i] = await Promise.all([
        wantsMembers ? fetchMembers() : null,
        wantsInvitations ? fetchInvitations() : null,
      ]);
      if (mine !== generation.current) return;
      if (m) remember(orgId, m.items);
      setMembers(m?.items ?? []);
      setMemberCursor(m?.next ?? null);
      setInvitations(i?.items ?? []);
      setInvitationCursor(i?.next ?? null);
      setSelected((old) => new Set([...old].filter((id) => m?.items.some((x) => x.userId === id))));
    } catch (e) {
      if (mine !== generation.current) return;
      setError(sentence(e));
    }
    setLoading(false);
  };

  useEffect(() => {
    setSelected(new Set());
    void refresh();
  }, [orgId, role, status, admin]);
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
        invitationCursor ? fetchInvitations(invitationCursor) : null,
      ]);
      if (mine !== generation.current) return;
      if (m) {
        remember(orgId, m.items);
        // A member who moved between pages meanwhile is shown once.
        setMembers((old) => [...(old ?? []), ...m.items.filter((x) => !old?.some((o) => o.userId === x.userId))]);
        setMemberCursor(m.next);
      }
      if (i) {
        setInvitations((old) => [...old, ...i.items.filter((x) => !old.some((o) => o.id === x.id))]);
        setInvitationCursor(i.next);
      }
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
  const refuse = (e: unknown) => {
    setNotice(null);
    setError(sentence(e));
  };
  const sayInRow = (userId: string, text: string, error = false) => {
    setError(null);
    setNotice(null);
    setRowNote({ userId, text, error });
  };
  const propose = (userId: string, to: Role | null) => {
    setProposed((old) => {
      const next = { ...old };
      if (to) next[userId] = to;
      else delete next[userId];
      return next;
    });
    if (rowNote?.userId === userId) setRowNote(null);
  };
  const replace = (...changed: Member[]) =>
    setMembers((old) => old && old.map((m) => changed.find((c) => c.userId === m.userId) ?? m));
  const mark = (userId: string, on: boolean) =>
    setSaving((old) => {
      const next = new Set(old);
      if (on) next.add(userId);
      else next.delete(userId);
      return next;
    });

  const isMe = (m: Member) => m.userId === me.userId;
  const nameOf = (m: Member) => displayName(m);

  /** Writes a role; throws the API's refusal. The organization is read again: the viewer's
   * own role, or the owners that remain, may have changed. */
  const writeRole = async (member: Member, to: Role) => {
    const { member: changed } = await ok(
      api.PATCH("/orgs/{orgId}/members/{userId}", {
        params: { path: { orgId, userId: member.userId } },
        body: { role: to },
      }),
    );
    replace(changed);
    propose(member.userId, null);
    sayInRow(
      member.userId,
      isMe(member)
        ? `You are now ${article(changed.role)} ${changed.role}.`
        : `${nameOf(changed)} is now ${article(changed.role)} ${changed.role}.`,
    );
    if (isMe(member)) await context.reload();
    else void context.reload();
  };

  /** Save in a row: a change that grants or takes away owner or admin is confirmed first;
   * between member and viewer it is made at once, and a refusal is said in the row. */
  const saveRole = async (member: Member) => {
    const to = proposed[member.userId];
    if (!to || saving.has(member.userId)) return;
    if (roleChangeWords({ name: nameOf(member), you: isMe(member) }, member.role, to, org.name)) {
      open({ kind: "role", member, to });
      return;
    }
    mark(member.userId, true);
    try {
      await writeRole(member, to);
    } catch (e) {
      sayInRow(member.userId, sentence(e), true);
    } finally {
      mark(member.userId, false);
    }
  };

  /** Writes a status; throws the API's refusal. */
  const writeStatus = async (member: Member, to: "active" | "suspended") => {
    const { member: changed } = await ok(
      api.PATCH("/orgs/{orgId}/members/{userId}", {
        params: { path: { orgId, userId: member.userId } },
        body: { status: to },
      }),
    );
    replace(changed);
    sayInRow(
      member.userId,
      changed.status === "suspended"
        ? `${nameOf(changed)} is suspended: they keep their role, but can do nothing here until reactivated.`
        : `${nameOf(changed)} is active again.`,
    );
    void context.reload();
  };

  /** Reactivating gives back what the member had: no confirmation. */
  const reactivate = async (member: Member) => {
    mark(member.userId, true);
    try {
      await writeStatus(member, "active");
    } catch (e) {
      sayInRow(member.userId, sentence(e), true);
    } finally {
      mark(member.userId, false);
    }
  };

  const resend = async (invitation: Invitation) => {
    try {
      const answer = await ok(
        api.POST("/orgs/{orgId}/invitations/{invitationId}/resend", {
          params: { path: { orgId, invitationId: invitation.id } },
        }),
      );
      setInvitations((old) => old.map((i) => (i.id === invitation.id ? answer.invitation : i)));
      say(`Invitation sent again to ${invitation.email}.`);
    } catch (e) {
      refuse(e);
      // A refused email still changes the invitation (its delivery shows as failed).
      if (e instanceof ApiError && e.status === 502) void refresh();
    }
  };

  /** Runs the confirmed action of the open dialog; the dialog shows a refusal itself. */
  const confirm = () => {
    if (!pending || pending.kind === "bulk") return;
    void dialog.run(async () => {
      if (pending.kind === "role") {
        await writeRole(pending.member, pending.to);
      } else if (pending.kind === "suspend") {
        await writeStatus(pending.member, "suspended");
      } else if (pending.kind === "remove") {
        const { member } = pending;
        await ok(
          api.DELETE("/orgs/{orgId}/members/{userId}", { params: { path: { orgId, userId: member.userId } } }),
        );
        setMembers((old) => old && old.filter((m) => m.userId !== member.userId));
        setSelected((old) => new Set([...old].filter((id) => id !== member.userId)));
        say(`${nameOf(member)} was removed from ${org.name}.`);
        void context.reload();
      } else if (pending.kind === "transfer") {
        const { member } = pending;
        const { from, to } = await ok(
          api.POST("/orgs/{orgId}/transfer-ownership", { params: { path: { orgId } }, body: { userId: member.userId } }),
        );
        replace(from, to);
        say(`${nameOf(to)} is now an owner. You are now ${article(from.role)} ${from.role}.`);
        void context.reload();
      } else {
        const { invitation } = pending;
        await ok(
          api.DELETE("/orgs/{orgId}/invitations/{invitationId}", {
            params: { path: { orgId, invitationId: invitation.id } },
          }),
        );
        setInvitations((old) => old.filter((i) => i.id !== invitation.id));
        say(`The invitation to ${invitation.email} was revoked.`);
        void context.reload();
      }
      closeDialog();
    });
  };
  const open = (p: Pending) => {
    dialog.setError(null);
    setPending(p);
  };
  const closeDialog = () => {
    setPending(null);
    dialog.setError(null);
    // The dialog returns focus to what opened it; when that row or button is gone, to the
    // heading of the tab rather than nowhere.
    setTimeout(() => {
      const at = document.activeElement;
      if (!at || at === document.body || !at.isConnected) heading.current?.focus();
    }, 50);
  };
  const bulkDone = (results: RemoveResult[]) => {
    const removed = results.filter((r) => r.status === "removed").length;
    const gone = new Set(results.filter((r) => r.status === "removed" || r.status === "not_found").map((r) => r.userId));
    setMembers((old) => old && old.filter((m) => !gone.has(m.userId)));
    setSelected(new Set());
    say(`${count(removed, "member", "members")} removed.`);
    void refresh();
    void context.reload();
  };

  const invited = () => {
    void refresh();
    void context.reload();
  };

  // What the viewer may do, row by row (the API stays the judge).
  const memberItems = (m: Member): MenuItem[] => {
    if (!canManage(me, m)) return [];
    const items: MenuItem[] = [
      m.status === "active"
        ? { label: "Suspend", onSelect: () => open({ kind: "suspend", member: m }) }
        : { label: "Reactivate", onSelect: () => void reactivate(m) },
    ];
    if (me.role === "owner" && m.status === "active" && m.role !== "owner") {
      items.push({ label: "Make owner", onSelect: () => open({ kind: "transfer", member: m }) });
    }
    items.push({ label: "Remove", danger: true, onSelect: () => open({ kind: "remove", member: m }) });
    return items;
  };
  const invitationItems = (i: Invitation): MenuItem[] =>
    grantable(me.role).includes(i.role)
      ? [
          { label: "Resend invitation email", onSelect: () => void resend(i) },
          { label: "Revoke invitation", danger: true, onSelect: () => open({ kind: "revoke", invitation: i }) },
        ]
      : [];
  const roleChoices = (m: Member): Role[] => {
    if (isMe(m)) return me.role === "owner" ? ROLES : [];
    return canManage(me, m) ? grantable(me.role) : [];
  };

  const shownInvitations = invitations.filter(invitationShown);
  const selectable = (members ?? []).filter((m) => canManage(me, m));
  const selecting = admin;
  const allSelected = selectable.length > 0 && selectable.every((m) => selected.has(m.userId));
  const someSelected = selectable.some((m) => selected.has(m.userId));
  const chosen = selectable.filter((m) => selected.has(m.userId));
  const toggle = (userId: string, on: boolean) =>
    setSelected((old) => {
      const next = new Set(old);
      if (on) next.add(userId);
      else next.delete(userId);
      return next;
    });
  const columns = selecting ? 6 : 5;
  const moreToLoad = (wantsMembers && memberCursor) || (wantsInvitations && invitationCursor);

  return (
    <div class="members">
      <div class="members-head">
        <h2 ref={heading} tabIndex={-1}>
          Members
        </h2>
        {admin && <InviteButton context={context} onInvited={invited} />}
      </div>
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
            <option value="joined">Joined</option>
            <option value="suspended">Suspended</option>
            {admin && <option value="invited">Invited</option>}
            {admin && <option value="expired">Expired</option>}
          </select>
        </div>
        <span class="spacer" />
        {chosen.length > 0 && (
          <button type="button" class="danger" onClick={() => open({ kind: "bulk", members: chosen })}>
            Remove selected ({chosen.length})
          </button>
        )}
      </div>

      <ErrorText message={error} />
      <Notice message={notice} />

      {members === null ? (
        !error && <p class="muted">Loading members…</p>
      ) : (
        <table class={loading ? "roster busy" : "roster"} aria-busy={loading}>
          <caption class="sr-only">Members and invitations of {org.name}</caption>
          <thead>
            <tr>
              {selecting && (
                <th scope="col" class="pick">
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    disabled={selectable.length === 0}
                    checked={allSelected}
                    ref={(el) => {
                      if (el) el.indeterminate = someSelected && !allSelected;
                    }}
                    onChange={(e) =>
                      setSelected(e.currentTarget.checked ? new Set(selectable.map((m) => m.userId)) : new Set())
                    }
                  />
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
          <tbody>
            {shownInvitations.map((i) => (
              <tr key={i.id} class="invitation">
                {selecting && <td class="pick" />}
                <td class="person">
                  <span class="name">{i.email}</span>
                  <span class="sub">
                    {i.status === "pending" ? `Expires ${date(i.expiresAt)}` : `Expired ${date(i.expiresAt)}`}
                    {i.emailDelivery === "failed" && <span class="warn"> · Email not delivered</span>}
                  </span>
                  <span class={`badge narrow ${i.status === "pending" ? "invited" : "expired"}`}>
                    {i.status === "pending" ? "Invited" : "Expired"}
                  </span>
                </td>
                <td>{ROLE_LABEL[i.role]}</td>
                <td class="optional">
                  <span class={`badge ${i.status === "pending" ? "invited" : "expired"}`}>
                    {i.status === "pending" ? "Invited" : "Expired"}
                  </span>
                </td>
                <td class="optional">{date(i.createdAt)}</td>
                <td class="act">
                  <Menu label={`Actions for ${i.email}`} items={invitationItems(i)} />
                </td>
              </tr>
            ))}
            {members.map((m) => {
              const name = nameOf(m);
              const choices = roleChoices(m);
              const busy = saving.has(m.userId);
              const badge = m.status === "active" ? "joined" : "suspended";
              const label = m.status === "active" ? "Joined" : "Suspended";
              const note = rowNote?.userId === m.userId ? rowNote : null;
              return (
                <tr key={m.userId} class={selected.has(m.userId) ? "selected" : undefined}>
                  {selecting && (
                    <td class="pick">
                      {canManage(me, m) && (
                        <input
                          type="checkbox"
                          aria-label={`Select ${name}`}
                          checked={selected.has(m.userId)}
                          onChange={(e) => toggle(m.userId, e.currentTarget.checked)}
                        />
                      )}
                    </td>
                  )}
                  <td class="person">
                    <a class="name" href={`/o/${orgId}/members/${encodeURIComponent(m.userId)}`} onClick={onLinkClick}>
                      {name}
                    </a>
                    {isMe(m) && <span class="muted"> (you)</span>}
                    {m.email && m.email !== name && <span class="sub">{m.email}</span>}
                    <span class={`badge narrow ${badge}`}>{label}</span>
                    <span class="row-note" role="status">
                      {note && !note.error ? note.text : ""}
                    </span>
                    {note?.error && (
                      <span class="row-note error" role="alert">
                        {note.text}
                      </span>
                    )}
                  </td>
                  <td>
                    {choices.length > 0 ? (
                      <RoleCell
                        name={name}
                        current={m.role}
                        choices={choices}
                        proposed={proposed[m.userId]}
                        busy={busy}
                        locked={
                          isMe(m) && context.onlyOwner
                            ? "You are the only owner: make someone else an owner first."
                            : undefined
                        }
                        onPropose={(to) => propose(m.userId, to)}
                        onSave={() => void saveRole(m)}
                      />
                    ) : (
                      ROLE_LABEL[m.role]
                    )}
                  </td>
                  <td class="optional">
                    <span class={`badge ${badge}`}>{label}</span>
                  </td>
                  <td class="optional">{date(m.joinedAt)}</td>
                  <td class="act">
                    <Menu label={`Actions for ${name}`} items={memberItems(m)} />
                  </td>
                </tr>
              );
            })}
            {members.length + shownInvitations.length === 0 && (
              <tr>
                <td colSpan={columns} class="empty">
                  {role || status ? "No one matches these filters." : "No members yet."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}

      {moreToLoad && (
        <p class="more">
          <button type="button" class="secondary" disabled={loadingMore} onClick={loadMore}>
            Load more
          </button>
        </p>
      )}

      {pending?.kind === "role" && (
        <RoleConfirm
          words={roleChangeWords({ name: nameOf(pending.member), you: isMe(pending.member) }, pending.member.role, pending.to, org.name)}
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={closeDialog}
        />
      )}
      {pending?.kind === "suspend" && (
        <Confirm
          title={`Suspend ${nameOf(pending.member)}?`}
          body={
            <p>
              {nameOf(pending.member)} keeps their role, but can do nothing in {org.name} until an owner or admin
              reactivates them.
            </p>
          }
          confirm="Yes, suspend"
          danger
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={closeDialog}
        />
      )}
      {pending?.kind === "remove" && (
        <Confirm
          title={`Remove ${nameOf(pending.member)}?`}
          body={
            <p>
              {nameOf(pending.member)} loses access to {org.name} at once. Their data stays, and they can be invited
              again.
            </p>
          }
          confirm="Yes, remove member"
          danger
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={closeDialog}
        />
      )}
      {pending?.kind === "transfer" && (
        <Confirm
          title={`Make ${nameOf(pending.member)} the owner?`}
          body={
            <p>
              {nameOf(pending.member)} becomes an owner of {org.name}, and you become an admin. Only an owner can make
              you an owner again.
            </p>
          }
          confirm="Yes, transfer ownership"
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={closeDialog}
        />
      )}
      {pending?.kind === "revoke" && (
        <Confirm
          title={`Revoke the invitation to ${pending.invitation.email}?`}
          body={<p>The link in the invitation email stops working at once. You can invite this address again later.</p>}
          confirm="Yes, revoke invitation"
          danger
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={closeDialog}
        />
      )}
      {pending?.kind === "bulk" && (
        <BulkRemove orgId={orgId} members={pending.members} onDone={bulkDone} onClose={closeDialog} />
      )}
    </div>
  );
}

function RoleConfirm(props: {
  words: ReturnType<typeof roleChangeWords>;
  busy: boolean;
  error: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { words } = props;
  if (!words) return null;
  return (
    <Confirm
      title={words.title}
      body={words.body.map((line) => (
        <p key={line}>{line}</p>
      ))}
      confirm={words.confirm}
      busy={props.busy}
      error={props.error}
      onConfirm={props.onConfirm}
      onClose={props.onClose}
    />
  );
}
