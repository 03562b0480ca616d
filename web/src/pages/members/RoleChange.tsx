// Changing a member's role from the members table: the row's drop-down only proposes a role
// (an arrow key on it writes nothing), Save or Cancel decide, and a change that grants or
// takes away owner or admin is confirmed with what it means.
import { useEffect, useId, useRef } from "preact/hooks";
import type { Role } from "../../api/client";
import { RoleOptions } from "../../components/Fields";
import { article } from "../../roles";

const privileged = (role: Role) => role === "owner" || role === "admin";
const ADMIN_CAN = "invite people, change roles of members and viewers, and remove them";

/** The row's role: the drop-down (showing the proposed role, if any), then Save and Cancel
 * while a role is proposed. Focus goes back to the drop-down when they go. `locked`: why the
 * role cannot change now, said beside the disabled drop-down. */
export function RoleCell<R extends string = Role>(props: {
  name: string;
  current: R;
  choices: R[];
  /** Labels of the choices when they are not organization roles (a workspace's). */
  labels?: Record<R, string>;
  proposed: R | undefined;
  busy: boolean;
  locked?: string | undefined;
  onPropose: (to: R | null) => void;
  onSave: () => void;
}) {
  const { name, current, proposed, busy, locked } = props;
  const select = useRef<HTMLSelectElement>(null);
  const lockId = useId();
  const hadProposal = useRef(false);
  // Save and Cancel leave the page once the proposal is saved or dropped: focus, which was
  // on one of them, comes back to the drop-down (once it is enabled again) instead of the
  // start of the page.
  useEffect(() => {
    if (proposed) {
      hadProposal.current = true;
      return;
    }
    if (busy || !hadProposal.current) return;
    hadProposal.current = false;
    const at = document.activeElement;
    if (!at || at === document.body) select.current?.focus();
  }, [proposed, busy]);

  return (
    <span class="role">
      <select
        ref={select}
        aria-label={`Role of ${name}`}
        aria-busy={busy}
        aria-describedby={locked ? lockId : undefined}
        disabled={busy || !!locked}
        class={proposed ? "proposed" : undefined}
        value={proposed ?? current}
        onChange={(e) => {
          const to = e.currentTarget.value as R;
          props.onPropose(to === current ? null : to);
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape" && proposed) {
            e.preventDefault();
            props.onPropose(null);
          }
        }}
      >
        <RoleOptions
          roles={props.choices.includes(current) ? props.choices : [current, ...props.choices]}
          labels={props.labels}
        />
      </select>
      {proposed && (
        <span class="role-actions">
          <button
            type="button"
            class="primary small"
            aria-label={busy ? `Saving ${name}'s role` : `Save ${name}'s role`}
            aria-disabled={busy}
            onClick={() => !busy && props.onSave()}
          >
            {busy ? "Saving…" : "Save"}
          </button>
          {!busy && (
            <button
              type="button"
              class="secondary small"
              aria-label={`Cancel ${name}'s role change`}
              onClick={() => {
                props.onPropose(null);
                select.current?.focus();
              }}
            >
              Cancel
            </button>
          )}
        </span>
      )}
      {locked && (
        <span class="role-lock" id={lockId}>
          {locked}
        </span>
      )}
    </span>
  );
}

/** What granting or taking away owner or admin means, for its confirmation; `null` for a
 * change between member and viewer, which Save makes at once. */
export function roleChangeWords(
  who: { name: string; you: boolean },
  from: Role,
  to: Role,
  orgName: string,
): { title: string; body: string[]; confirm: string } | null {
  if (!privileged(from) && !privileged(to)) return null;
  const subject = who.you ? "You" : who.name;
  const they = who.you ? "You" : "They";
  const body: string[] = [];
  if (to === "owner") {
    body.push(
      `${subject} will be able to do everything in ${orgName}, including deleting the organization and managing other owners.`,
    );
  } else if (to === "admin" && from !== "owner") {
    body.push(`${subject} will be able to ${ADMIN_CAN}.`);
  } else if (to === "admin") {
    body.push(`${subject} will no longer be able to delete the organization or manage owners.`);
    body.push(`${they} can still ${ADMIN_CAN}.`);
  } else {
    body.push(
      from === "owner"
        ? `${subject} will no longer be able to delete the organization, manage owners, invite people, change roles or remove anyone.`
        : `${subject} will no longer be able to invite people, change roles or remove anyone.`,
    );
    body.push(`${they} can still see ${orgName} and its members.`);
  }
  if (who.you && from === "owner") body.push("Only an owner can make you an owner again.");
  return {
    title: who.you ? `Make yourself ${article(to)} ${to}?` : `Make ${who.name} ${article(to)} ${to}?`,
    body,
    confirm: who.you ? `Yes, make me ${article(to)} ${to}` : `Yes, make ${to}`,
  };
}
