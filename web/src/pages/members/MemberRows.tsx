// The member rows of the members table (each a MemberRow), for admins and owners under a
// heading row whose checkbox selects every member they may remove.
import type { Member } from "../../api/client";
import type { OrgContext } from "../orgContext";
import type { useMemberActions } from "./actions";
import { MemberRow, type RowNote } from "./MemberRow";

export type { RowNote };

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
  /** Each member's usage total by user id, when the table shows the usage column. */
  usage?: Map<string, string> | undefined;
}) {
  const { context, members, actions, selecting, selected } = props;
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
      {members.map((m) => (
        <MemberRow
          key={m.userId}
          context={context}
          member={m}
          actions={actions}
          selecting={selecting}
          selected={selected.has(m.userId)}
          onSelect={(on) => props.onSelect([m.userId], on)}
          note={props.note?.userId === m.userId ? props.note : null}
          usage={props.usage && (props.usage.get(m.userId) ?? "0")}
        />
      ))}
    </tbody>
  );
}
