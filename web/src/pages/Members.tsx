// The Members tab: one table of the organization's members and (for admins and owners) its
// invitations, searched, filtered and sorted by the server, read with its cursors. Its parts,
// under pages/members/:
// - useMemberQuery: the query (in the page's address) and the rows it reads, page by page;
// - FilterBar: the search box, the filters and the sort;
// - BulkBar: "Remove selected" (BulkRemove) and the invitations' bulk actions (InvitationBulk);
// - MemberRows and MemberRow: the member rows, with what may be done to a member (actions:
//   role, suspend, make owner, remove);
// - Invitations: the invitation rows and their actions.
// The rank rules (roles.ts) decide what is offered; the API decides what happens, and every
// refusal is shown as a sentence.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { date, listed } from "../format";
import { displayName } from "../session";
import { ErrorText, Notice } from "../components/Status";
import { takeNotice } from "../pageNotice";
import { useMemberActions } from "./members/actions";
import { BulkBar } from "./members/BulkBar";
import { FilterBar } from "./members/FilterBar";
import { InvitationRows, useDelivery, useInvitationActions } from "./members/Invitations";
import { MemberRows, type RowNote } from "./members/MemberRows";
import { useMemberQuery, type MemberList } from "./members/useMemberQuery";
import { InviteButton } from "./InviteDialog";
import { AddUserButton, type Added } from "./members/AddUser";
import { can, type OrgContext } from "./orgContext";
import { useMemberUsage } from "../usage";

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What the table holds for a search or filters, in a sentence ("" for the whole list); the
 * same words say there is nothing: "No members match “ann”." */
function outcome(list: MemberList): string {
  const { query } = list;
  const filtered = !!(query.role || query.status || query.delivery);
  if (!query.q && !filtered) return "";
  const members = list.members?.length ?? 0;
  const invitations = list.shownInvitations.length;
  const searched = query.q ? `“${query.q}”` : "";
  const kinds = listed([list.wantsMembers ? "members" : "", list.wantsInvitations ? "invitations" : ""].filter(Boolean));
  if (members + invitations === 0) {
    return searched
      ? `No ${kinds.replace(" and ", " or ")} match ${searched}${filtered ? " with these filters" : ""}.`
      : "No one matches these filters.";
  }
  const found = listed([
    list.wantsMembers && (members || !list.wantsInvitations) ? count(members, "member") : "",
    list.wantsInvitations && (invitations || !list.wantsMembers) ? count(invitations, "invitation") : "",
  ].filter(Boolean));
  const verb = members + invitations === 1 ? "matches" : "match";
  const what = `${searched || "these filters"}${searched && filtered ? " and the filters" : ""}`;
  return `${found} ${verb} ${what}${list.moreToLoad ? " (Load more for the rest)" : ""}.`;
}

export function Members({ context }: { context: OrgContext }) {
  const { org } = context;
  const orgId = org.id;
  // Inviting brings the invitations into the list, the invite button and bulk actions.
  const admin = can(context, "members:invite");
  const list = useMemberQuery(orgId, admin);
  // Each member's usage over 30 days: a column once anyone in the organization used some.
  const usage = useMemberUsage(orgId, context.usageMetrics);
  const { members, invitations, shownInvitations } = list;

  const [notice, setNotice] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  // The outcome of the latest change to a member, said in that member's row.
  const [rowNote, setRowNote] = useState<RowNote | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const pausedId = useId();
  const paused = admin ? org.invitationsPaused : null;
  const words = useDelivery(!!paused);
  // What the table holds, said once it settled (not while a new query is read).
  const said = useRef("");
  if (!list.loading && members !== null) said.current = outcome(list);

  // A new query starts a new selection.
  useEffect(() => setSelected(new Set()), [orgId, list.query]);
  // What the page before left to say (a member removed on their own page).
  useEffect(() => setNotice(takeNotice()), []);

  const say = (message: string) => {
    list.setError(null);
    setNotice(message);
  };
  const sayInRow = (userId: string, text: string, error = false) => {
    list.setError(null);
    setNotice(null);
    invitations.unsay();
    setRowNote({ userId, text, error });
  };
  const refocus = () => heading.current?.focus();

  const actions = useMemberActions(context, {
    changed: (...changed) =>
      list.setMembers((old) => old && old.map((m) => changed.find((c) => c.userId === m.userId) ?? m)),
    say: sayInRow,
    quiet: (userId) => rowNote?.userId === userId && setRowNote(null),
    removed: (member) => {
      list.setMembers((old) => old && old.filter((m) => m.userId !== member.userId));
      setSelected((old) => new Set([...old].filter((id) => id !== member.userId)));
      say(`${displayName(member)} was removed from ${org.name}.`);
    },
    // The owner- and admin-role invitations the viewer made stopped working.
    transferred: () => void list.refresh(),
    refocus,
  });
  const invitationActions = useInvitationActions(context, invitations, {
    notice: say,
    changed: () => void context.reload(),
    refocus,
  });

  const invited = () => {
    void list.refresh();
    void context.reload();
  };
  // A user added with an account is listed at once (the dialog says so); an address that
  // could already sign in was invited, and the invitations are read again.
  const added = (what: Added) => {
    if ("member" in what) {
      const { member } = what;
      list.setMembers((old) => old && [member, ...old.filter((m) => m.userId !== member.userId)]);
      void context.reload();
    } else invited();
  };

  const chosenMembers = (members ?? []).filter((m) => selected.has(m.userId) && actions.may.manage(m));
  const chosenInvitations = shownInvitations.filter((i) => invitations.selected.has(i.id));
  const columns = (admin ? 6 : 5) + (usage ? 1 : 0);
  const empty = !list.loading && members !== null && members.length + shownInvitations.length === 0;

  return (
    <div class="members">
      <div class="members-head">
        <h2 ref={heading} tabIndex={-1}>
          Members
        </h2>
        {admin && (
          <span class="head-actions">
            <AddUserButton context={context} onAdded={added} />
            <InviteButton context={context} onInvited={invited} pausedBy={paused ? pausedId : undefined} />
          </span>
        )}
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
        <FilterBar list={list} admin={admin} />
        <span class="spacer" />
        <BulkBar
          context={context}
          list={list}
          members={chosenMembers}
          invitations={chosenInvitations}
          unselect={() => setSelected(new Set())}
          say={say}
          refocus={refocus}
        />
      </div>

      <ErrorText message={list.error} />
      <Notice message={notice} />
      {members === null || (list.wantsInvitations && invitations.items === null) ? (
        !list.error && <p class="muted">Loading members…</p>
      ) : (
        <table class={list.loading ? "roster busy" : "roster"} aria-busy={list.loading}>
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
              {usage && (
                <th scope="col" class="optional usage-col">
                  Usage (30 days)
                  <span class="sub">{usage.metric.label}</span>
                </th>
              )}
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
            usageColumn={!!usage}
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
            usage={usage?.totals}
          />
        </table>
      )}
      {/* What a search or filter found, said politely once the table settled: for screen
          readers while there are rows, and shown under the table's head when there is none. */}
      <p class={empty ? "empty-result" : "sr-only"} role="status">
        {empty ? said.current || "No members yet." : said.current}
      </p>

      {list.moreToLoad && (
        <p class="more">
          <button type="button" class="secondary" disabled={list.loadingMore} onClick={list.loadMore}>
            Load more
          </button>
        </p>
      )}

      {actions.dialogs}
      {invitationActions.dialogs}
    </div>
  );
}
