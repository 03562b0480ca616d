// What the Activity tab and a member's page narrow the audit trail by: a kind of change (an
// action prefix, `action=member.`), and the people an event names (for one look-up of their
// names before a page shows).
import type { AuditEvent } from "../../api/client";

/** Kinds of change, by the prefix of their actions. */
const KINDS: [string, string][] = [
  ["", "All changes"],
  ["member.", "Members"],
  ["invitation.", "Invitations and joins"],
  ["link.", "Invite links"],
  ["ownership.", "Ownership"],
  ["workspace.", "Workspaces"],
  ["group.", "Groups"],
  ["role.", "Custom roles"],
  ["org.", "Organization"],
];

/** "Kind of change": a select of KINDS. */
export function ActionKind(props: { id: string; value: string; onChange: (prefix: string) => void }) {
  return (
    <div class="field">
      <label for={props.id}>Kind of change</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {KINDS.map(([prefix, label]) => (
          <option key={prefix} value={prefix}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The user ids an event's sentence may name: its actor and target, who got ownership, who
 * joined or was added (ids of other things are left out by the look-up). */
export function eventPeople(e: AuditEvent): string[] {
  const d = (e.details ?? {}) as Record<string, unknown>;
  const to = e.action === "ownership.transferred" ? d.to : null;
  return [e.actor, e.target, to, d.userId].filter((id): id is string => typeof id === "string" && id !== "");
}
