// What a viewer may do to one member, wherever the member is shown (a row of the members
// table, the member's own page): change the role (proposed, then saved; granting or taking
// away owner or admin confirmed), suspend (confirmed) or reactivate, make owner (confirmed,
// with what the transfer ends), remove (confirmed). The rank rules (roles.ts) decide what is
// offered; the API decides what happens, and a refusal is said where the change was asked.
import { useState } from "preact/hooks";
import { api, ok, type Member, type Role } from "../../api/client";
import { sentence } from "../../api/messages";
import { article, canManage, offered } from "../../roles";
import { config } from "../../config";
import { baseOf, grantableCustom, roleLabels, roleName, useCustomRoles } from "../../customRoles";
import { displayName } from "../../session";
import { Confirm } from "../../components/Dialog";
import type { MenuItem } from "../../components/Menu";
import { useAction } from "../../components/useAction";
import { can, type OrgContext } from "../orgContext";
import { RoleCell, roleChangeWords } from "./RoleChange";
import { TransferDialog } from "./TransferDialog";

type Pending =
  | { kind: "role"; member: Member; to: string }
  | { kind: "suspend"; member: Member }
  | { kind: "remove"; member: Member }
  | { kind: "transfer"; member: Member };

/** Where the outcomes of the actions go. */
export type Outcomes = {
  /** Members as the API answered a change of them. */
  changed: (...members: Member[]) => void;
  /** The outcome of a change, said next to the member it concerns. */
  say: (userId: string, text: string, error?: boolean) => void;
  /** A new role was proposed for the member: the outcome said before no longer stands. */
  quiet?: (userId: string) => void;
  /** A member was removed (said by the caller, as the member's place is gone). */
  removed: (member: Member) => void;
  /** Ownership moved to `to`: the invitations and links the viewer made may have ended. */
  transferred?: () => void;
  /** Focus when a dialog closes and what opened it is gone. */
  refocus: () => void;
};

/** The actions on members for the viewer of `context`, and the dialogs they open (render
 * `dialogs` once, wherever the page keeps them). */
export function useMemberActions(context: OrgContext, outcomes: Outcomes) {
  const { org, me } = context;
  const orgId = org.id;
  // Roles chosen in a drop-down and not saved yet, by user id.
  // A role is a built-in one or a custom role's key.
  const [proposed, setProposed] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState<Set<string>>(new Set());
  const [pending, setPending] = useState<Pending | null>(null);
  const dialog = useAction();
  const customs = useCustomRoles(orgId);
  const labels = roleLabels(customs);
  /** A member's role in words (a custom role by its name, with its rank). */
  const said = (m: Member) => roleName(m.role, m.customRole, customs);
  /** The rank change a proposal means, for its confirmation: none when the rank stays. */
  const words = (m: Member, to: string) => {
    const base = baseOf(to, customs);
    return base === m.role ? null : roleChangeWords({ name: nameOf(m), you: isMe(m) }, m.role, base, org.name);
  };

  const isMe = (m: Member) => m.userId === me.userId;
  const nameOf = (m: Member) => displayName(m);
  const mark = (userId: string, on: boolean) =>
    setSaving((old) => {
      const next = new Set(old);
      if (on) next.add(userId);
      else next.delete(userId);
      return next;
    });
  const propose = (userId: string, to: string | null) =>
    setProposed((old) => {
      const next = { ...old };
      if (to) next[userId] = to;
      else delete next[userId];
      return next;
    });

  /** Writes a role; throws the API's refusal. The organization is read again: the viewer's
   * own role, or the owners that remain, may have changed. */
  const writeRole = async (member: Member, to: string) => {
    const { member: changed } = await ok(
      api.PATCH("/orgs/{orgId}/members/{userId}", { params: { path: { orgId, userId: member.userId } }, body: { role: to } }),
    );
    outcomes.changed(changed);
    propose(member.userId, null);
    const now = changed.customRole ? said(changed) : `${article(changed.role)} ${changed.role}`;
    outcomes.say(member.userId, isMe(member) ? `You are now ${now}.` : `${nameOf(changed)} is now ${now}.`);
    if (isMe(member)) await context.reload();
    else void context.reload();
  };

  /** Save: a change that grants or takes away owner or admin is confirmed first; between
   * member and viewer it is made at once, and a refusal is said next to the member. */
  const saveRole = async (member: Member) => {
    const to = proposed[member.userId];
    if (!to || saving.has(member.userId)) return;
    if (words(member, to)) {
      open({ kind: "role", member, to });
      return;
    }
    mark(member.userId, true);
    try {
      await writeRole(member, to);
    } catch (e) {
      outcomes.say(member.userId, sentence(e), true);
    } finally {
      mark(member.userId, false);
    }
  };

  /** Writes a status; throws the API's refusal. */
  const writeStatus = async (member: Member, to: "active" | "suspended") => {
    const { member: changed } = await ok(
      api.PATCH("/orgs/{orgId}/members/{userId}", { params: { path: { orgId, userId: member.userId } }, body: { status: to } }),
    );
    outcomes.changed(changed);
    outcomes.say(
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
      outcomes.say(member.userId, sentence(e), true);
    } finally {
      mark(member.userId, false);
    }
  };

  /** Runs the confirmed action of the open dialog; the dialog shows a refusal itself. */
  const confirm = () => {
    if (!pending) return;
    void dialog.run(async () => {
      const { member } = pending;
      if (pending.kind === "role") {
        await writeRole(member, pending.to);
      } else if (pending.kind === "suspend") {
        await writeStatus(member, "suspended");
      } else if (pending.kind === "remove") {
        await ok(api.DELETE("/orgs/{orgId}/members/{userId}", { params: { path: { orgId, userId: member.userId } } }));
        outcomes.removed(member);
        void context.reload();
      } else {
        const { from, to } = await ok(
          api.POST("/orgs/{orgId}/transfer-ownership", { params: { path: { orgId } }, body: { userId: member.userId } }),
        );
        outcomes.changed(from, to);
        outcomes.say(to.userId, `${nameOf(to)} is now an owner. You are now ${article(from.role)} ${from.role}.`);
        outcomes.transferred?.();
        void context.reload();
      }
      close();
    });
  };
  const open = (p: Pending) => {
    dialog.setError(null);
    setPending(p);
  };
  const close = () => {
    setPending(null);
    dialog.setError(null);
    // The dialog returns focus to what opened it; when that is gone, the page says where.
    setTimeout(() => {
      const at = document.activeElement;
      if (!at || at === document.body || !at.isConnected) outcomes.refocus();
    }, 50);
  };

  // What the viewer may do to `m` (the API stays the judge).
  const may = {
    // The permission to manage members, then the rank rules for this one.
    manage: (m: Member) => can(context, "members:manage") && canManage(me, m),
    transfer: (m: Member) => me.role === "owner" && m.status === "active" && m.role !== "owner" && !isMe(m),
  };
  const ask = {
    suspend: (m: Member) => open({ kind: "suspend", member: m }),
    remove: (m: Member) => open({ kind: "remove", member: m }),
    transfer: (m: Member) => open({ kind: "transfer", member: m }),
  };
  /** The row menu's items: Suspend or Reactivate, Make owner, Remove. */
  const menuItems = (m: Member): MenuItem[] => {
    if (!may.manage(m)) return [];
    const items: MenuItem[] = [
      m.status === "active"
        ? { label: "Suspend", onSelect: () => ask.suspend(m) }
        : { label: "Reactivate", onSelect: () => void reactivate(m) },
    ];
    if (may.transfer(m)) items.push({ label: "Make owner", onSelect: () => ask.transfer(m) });
    items.push({ label: "Remove", danger: true, onSelect: () => ask.remove(m) });
    return items;
  };
  const roleChoices = (m: Member): string[] => {
    // An owner may step down, but not the one owner of a single-owner deployment.
    const stepDown = me.role === "owner" && !config().singleOwner;
    const builtin: Role[] = isMe(m) ? (stepDown ? offered(me.role) : []) : may.manage(m) ? offered(me.role) : [];
    if (builtin.length === 0) return [];
    return [...builtin, ...grantableCustom(me.role, customs).map((r) => r.key)];
  };

  /** The member's role: a drop-down that proposes (Save, Cancel) where the viewer may change
   * it, else its label. */
  const roleField = (m: Member) => {
    const choices = roleChoices(m);
    if (choices.length === 0) return said(m);
    return (
      <RoleCell
        name={nameOf(m)}
        current={m.customRole ?? m.role}
        choices={choices}
        labels={labels}
        proposed={proposed[m.userId]}
        busy={saving.has(m.userId)}
        locked={isMe(m) && context.onlyOwner ? "You are the only owner: make someone else an owner first." : undefined}
        onPropose={(to) => {
          propose(m.userId, to);
          outcomes.quiet?.(m.userId);
        }}
        onSave={() => void saveRole(m)}
      />
    );
  };

  const who = pending ? nameOf(pending.member) : "";
  const dialogs = pending && (
    <>
      {pending.kind === "role" && (
        <RoleConfirm
          words={words(pending.member, pending.to)}
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={close}
        />
      )}
      {pending.kind === "suspend" && (
        <Confirm
          title={`Suspend ${who}?`}
          body={
            <p>
              {who} keeps their role, but can do nothing in {org.name} until an owner or admin reactivates them.
            </p>
          }
          confirm="Yes, suspend"
          danger
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={close}
        />
      )}
      {pending.kind === "remove" && (
        <Confirm
          title={`Remove ${who}?`}
          body={
            <p>
              {who} loses access to {org.name} at once. Their data stays, and they can be invited again.
            </p>
          }
          confirm="Yes, remove member"
          danger
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={close}
        />
      )}
      {pending.kind === "transfer" && (
        <TransferDialog
          context={context}
          name={who}
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onClose={close}
        />
      )}
    </>
  );

  return { may, ask, reactivate, saving, menuItems, roleField, dialogs };
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
