// The bulk bar of the members table (admins and owners): "Remove selected (N)" for the ticked
// members (BulkRemove, one call for all) and "Resend selected" / "Revoke selected" for the
// ticked invitations (InvitationBulk), then what was done, in a sentence above the table, and
// the table read again.
import { useState } from "preact/hooks";
import type { Invitation, Member, RemoveResult } from "../../api/client";
import type { OrgContext } from "../orgContext";
import { BulkRemove } from "./BulkRemove";
import { InvitationBulkBar, type BulkResult } from "./InvitationBulk";
import type { MemberList } from "./useMemberQuery";

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function BulkBar(props: {
  context: OrgContext;
  list: MemberList;
  members: Member[];
  invitations: Invitation[];
  /** The members' selection is over (removed, or gone). */
  unselect: () => void;
  say: (text: string) => void;
  refocus: () => void;
}) {
  const { context, list } = props;
  const [removing, setRemoving] = useState<Member[] | null>(null);

  const removed = (results: RemoveResult[]) => {
    const done = results.filter((r) => r.status === "removed").length;
    const gone = new Set(results.filter((r) => r.status === "removed" || r.status === "not_found").map((r) => r.userId));
    list.setMembers((old) => old && old.filter((m) => !gone.has(m.userId)));
    props.unselect();
    props.say(`${count(done, "member", "members")} removed.`);
    void list.refresh();
    void context.reload();
  };

  const invitationsDone = (kind: "resend" | "revoke", results: BulkResult[]) => {
    const { invitations } = list;
    for (const r of results) if (r.after) invitations.replace(r.after);
    if (kind === "revoke") invitations.drop(new Set(results.filter((r) => r.done).map((r) => r.invitation.id)));
    invitations.clear();
    const done = results.filter((r) => r.done);
    const revoked = done.filter((r) => r.invitation.status === "pending").length;
    const dropped = done.length - revoked;
    const parts =
      kind === "resend"
        ? [done.length > 0 ? `${count(done.length, "invitation", "invitations")} sent again` : ""]
        : [
            revoked > 0 ? `${count(revoked, "invitation", "invitations")} revoked` : "",
            dropped > 0 ? `${revoked > 0 ? dropped : count(dropped, "invitation", "invitations")} removed from the list` : "",
          ];
    const said = parts.filter(Boolean).join(", ");
    props.say(said ? `${said}.` : `No invitation was ${kind === "resend" ? "sent again" : "revoked"}: the results say why.`);
    void list.refresh();
    void context.reload();
  };

  return (
    <>
      {props.members.length > 0 && (
        <button type="button" class="danger" onClick={() => setRemoving(props.members)}>
          Remove selected ({props.members.length})
        </button>
      )}
      <InvitationBulkBar orgId={context.org.id} chosen={props.invitations} onDone={invitationsDone} />
      {removing && (
        <BulkRemove
          orgId={context.org.id}
          members={removing}
          onDone={removed}
          onClose={() => {
            setRemoving(null);
            setTimeout(() => {
              const at = document.activeElement;
              if (!at || at === document.body || !at.isConnected) props.refocus();
            }, 50);
          }}
        />
      )}
    </>
  );
}
