// One row of the members table: name (a link to the member's page) and address, the role (a
// drop-down where the viewer may change it: members/actions.tsx), status, joined, and the row
// menu; for admins and owners a checkbox when they may remove the member. The outcome of a
// change to the member is said in the row.
import type { Member } from "../../api/client";
import { amount, date } from "../../format";
import { onLinkClick } from "../../router";
import { displayName } from "../../session";
import { Menu } from "../../components/Menu";
import type { OrgContext } from "../orgContext";
import type { useMemberActions } from "./actions";

export type RowNote = { userId: string; text: string; error?: boolean };

export function MemberRow(props: {
  context: OrgContext;
  member: Member;
  actions: ReturnType<typeof useMemberActions>;
  /** Admins and owners select members for bulk removal. */
  selecting: boolean;
  selected: boolean;
  onSelect: (on: boolean) => void;
  note: RowNote | null;
  /** The member's usage total, when the table shows the usage column. */
  usage?: string | undefined;
}) {
  const { member: m, actions, note } = props;
  const name = displayName(m);
  const badge = m.status === "active" ? "joined" : "suspended";
  const label = m.status === "active" ? "Joined" : "Suspended";
  return (
    <tr class={props.selected ? "selected" : undefined}>
      {props.selecting && (
        <td class="pick">
          {actions.may.manage(m) && (
            <input
              type="checkbox"
              aria-label={`Select ${name}`}
              checked={props.selected}
              onChange={(e) => props.onSelect(e.currentTarget.checked)}
            />
          )}
        </td>
      )}
      <td class="person">
        <a class="name" href={`/o/${props.context.org.id}/members/${encodeURIComponent(m.userId)}`} onClick={onLinkClick}>
          {name}
        </a>
        {m.userId === props.context.me.userId && <span class="muted"> (you)</span>}
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
      {props.usage !== undefined && <td class="optional usage">{amount(props.usage)}</td>}
      <td class="act">
        <Menu label={`Actions for ${name}`} items={actions.menuItems(m)} />
      </td>
    </tr>
  );
}
