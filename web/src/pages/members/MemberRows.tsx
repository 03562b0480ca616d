// The member rows of the members table: name (a link to the member's page) and address, the
// role (a drop-down where the viewer may change it: members/actions.tsx), status, joined, and
// the row menu; for admins and owners a checkbox per member they may remove, under a heading
// row that selects them all. The outcome of a change is said in its row.
import type { Member } from "../../api/client";
import { date } from "../../format";
import { onLinkClick } from "../../router";
import { displayName } from "../../session";
import { Menu } from "../../components/Menu";
import type { OrgContext } from "../orgContext";
import type { useMemberActions } from "./actions";

export type RowNote = { userId: string; text: string; error?: boolean };

export function MemberRows(props: {
  context: OrgContext;
  members: Member[];
  actions: ReturnType<typeof useMemberActions>;
  /** Admins and owners select members for bulk removal. */
  selecting: boolean;
  selected: Set<string>;
  onSelect: (userIds: string[], on: boolean) => void;
  note: RowNote | null;
  columns: number;
}) {
  const { context, members, actions, selecting, selected } = props;
  const orgId = context.org.id;
  const selectable = members.filter((m) => actions.may.manage(m));
  const all = selectable.length > 0 && selectable.every((m) => selected.has(m.userId));
  const some = selectable.some((m) => selected.has(m.userId));

  return (
    <tbody class="people">
      {selecting && members.length > 0 && (
        <tr class="group">
          <td class="pick">
            <input
              type="checkbox"
              aria-label="Select all members"
              disabled={selectable.length === 0}
              checked={all}
              ref={(el) => {
                if (el) el.indeterminate = some && !all;
              }}
              onChange={(e) => props.onSelect(selectable.map((m) => m.userId), e.currentTarget.checked)}
            />
          </td>
          <th scope="rowgroup" colSpan={props.columns - 1}>
            Members
          </th>
        </tr>
      )}
      {members.map((m) => {
        const name = displayName(m);
        const badge = m.status === "active" ? "joined" : "suspended";
        const label = m.status === "active" ? "Joined" : "Suspended";
        const note = props.note?.userId === m.userId ? props.note : null;
        return (
          <tr key={m.userId} class={selected.has(m.userId) ? "selected" : undefined}>
            {selecting && (
              <td class="pick">
                {actions.may.manage(m) && (
                  <input
                    type="checkbox"
                    aria-label={`Select ${name}`}
                    checked={selected.has(m.userId)}
                    onChange={(e) => props.onSelect([m.userId], e.currentTarget.checked)}
                  />
                )}
              </td>
            )}
            <td class="person">
              <a class="name" href={`/o/${orgId}/members/${encodeURIComponent(m.userId)}`} onClick={onLinkClick}>
                {name}
              </a>
              {m.userId === context.me.userId && <span class="muted"> (you)</span>}
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
            <td>{actions.roleField(m)}</td>
            <td class="optional">
              <span class={`badge ${badge}`}>{label}</span>
            </td>
            <td class="optional">{date(m.joinedAt)}</td>
            <td class="act">
              <Menu label={`Actions for ${name}`} items={actions.menuItems(m)} />
            </td>
          </tr>
        );
      })}
    </tbody>
  );
}
