// The invitations of the members table (admins and owners): pending, expired, declined (listed
// until they expire) and revoked ones (their inviter left, was suspended or demoted: said in
// words from revoked.ts), each with a row menu and a checkbox for the bulk bar
// (InvitationBulk.tsx). Resend is offered wherever the API resends: not on a declined
// invitation (its address is free: invite it again); resending a revoked one makes the
// resender stand behind it. Revoke ends a pending invitation; Remove takes a dead one off the
// list.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, ok, type Invitation } from "../../api/client";
import { resendResult } from "../../api/messages";
import { date } from "../../format";
import { grantable } from "../../roles";
import { roleName, useCustomRoles } from "../../customRoles";
import { revokedCause } from "../../revoked";
import { Confirm } from "../../components/Dialog";
import { Menu, type MenuItem } from "../../components/Menu";
import { useAction } from "../../components/useAction";
import type { OrgContext } from "../orgContext";
import { useNames } from "./names";
import { fill, PAGE } from "./paging";

export type InvitationStatus = Invitation["status"];

/** An invitation's status as its badge says it. */
export const STATUS_LABEL: Record<InvitationStatus, string> = {
  pending: "Invited",
  expired: "Expired",
  declined: "Declined",
  revoked: "Revoked",
};

/** The quiet words of an email that goes as it should (a problem's sentence: delivery.ts). */
const DELIVERY: Partial<Record<Invitation["emailDelivery"], string>> = {
  queued: "Sending…",
  sent: "Sent",
  delivered: "Delivered",
};

type Delivery = typeof import("./delivery");
let delivery: Delivery | null = null;
let loading: Promise<void> | null = null;

/** delivery.ts once `needed` (a problem or a pause to show), loaded then; null meanwhile. */
export function useDelivery(needed: boolean): Delivery | null {
  const [, tick] = useState(0);
  useEffect(() => {
    if (!needed || delivery) return;
    loading ??= import("./delivery").then(
      (m) => void (delivery = m),
      () => void (loading = null),
    );
    void loading.then(() => tick((n) => n + 1));
  }, [needed]);
  return delivery;
}

/** Whether the API resends it: a declined invitation is 409 (invite its address again). */
export const resendable = (i: Invitation) => i.status !== "declined";

/** Whether the viewer may act on it at all (resend and revoke ask for its role's rank). */
export const actionable = (context: OrgContext, i: Invitation) => grantable(context.me.role).includes(i.role);

/** What "Revoke" does to it: a pending one stops working; any other is only listed. */
export const revokeWord = (i: Invitation) => (i.status === "pending" ? "Revoke" : "Remove");

/** What the server narrows the invitations to (`GET .../invitations`: a search by address,
 * a status, the last email's delivery). */
export type InvitationFilter = {
  q?: string | undefined;
  status?: InvitationStatus | undefined;
  emailDelivery?: Invitation["emailDelivery"] | undefined;
};

/** The invitations read so far, the selected ones, and the outcome said in a row. */
export function useInvitations(orgId: string) {
  const [items, setItems] = useState<Invitation[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [note, setNote] = useState<{ id: string; text: string; error?: boolean } | null>(null);

  const pages = (filter: InvitationFilter) => async (cursor?: string) => {
    const answer = await ok(
      api.GET("/orgs/{orgId}/invitations", { params: { path: { orgId }, query: { ...filter, limit: PAGE, cursor } } }),
    );
    return { items: answer.invitations, next: answer.nextCursor };
  };

  return {
    items,
    next,
    selected,
    note,
    /** The first pages of `filter`'s invitations, read until `keep` matched a page's worth. */
    first: (filter: InvitationFilter, keep: (i: Invitation) => boolean) => fill(pages(filter), keep),
    /** The pages after the last one read (of the same filter: a cursor is bound to it). */
    more: (filter: InvitationFilter, keep: (i: Invitation) => boolean) =>
      next ? fill(pages(filter), keep, next) : Promise.resolve(null),
    /** A fresh start (`append`: the pages after those shown). */
    show: (read: { items: Invitation[]; next: string | null }, append = false) => {
      setItems((old) =>
        append && old ? [...old, ...read.items.filter((x) => !old.some((o) => o.id === x.id))] : read.items,
      );
      setNext(read.next);
      if (!append) setSelected((old) => new Set([...old].filter((id) => read.items.some((i) => i.id === id))));
    },
    replace: (changed: Invitation) => setItems((old) => old && old.map((i) => (i.id === changed.id ? changed : i))),
    drop: (gone: Set<string>) => {
      setItems((old) => old && old.filter((i) => !gone.has(i.id)));
      setSelected((old) => new Set([...old].filter((id) => !gone.has(id))));
    },
    select: (ids: string[], on: boolean) =>
      setSelected((old) => {
        const now = new Set(old);
        for (const id of ids) {
          if (on) now.add(id);
          else now.delete(id);
        }
        return now;
      }),
    clear: () => setSelected(new Set()),
    say: (id: string, text: string, error = false) => setNote({ id, text, error }),
    unsay: () => setNote(null),
  };
}

export type InvitationList = ReturnType<typeof useInvitations>;

/** What a resend says: when the invitation did not work before, that it works again. */
function resent(before: Invitation, after: Invitation): string {
  const done = `Invitation sent again to ${before.email}.`;
  if (before.status === "revoked") return `${done} It works again: you now stand behind it.`;
  if (before.status === "expired") return `${done} It works again until ${date(after.expiresAt)}.`;
  return done;
}

/** Resend and Revoke (or Remove) of one invitation, from its row menu; `dialogs` holds the
 * confirmation. `notice`: a sentence above the table (for a row that is gone). */
export function useInvitationActions(
  context: OrgContext,
  list: InvitationList,
  outcomes: { notice: (text: string) => void; changed: () => void; refocus: () => void },
) {
  const orgId = context.org.id;
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const dialog = useAction();

  const resend = async (invitation: Invitation) => {
    try {
      const answer = await ok(
        api.POST("/orgs/{orgId}/invitations/{invitationId}/resend", {
          params: { path: { orgId, invitationId: invitation.id } },
        }),
      );
      list.replace(answer.invitation);
      list.say(invitation.id, resent(invitation, answer.invitation));
      outcomes.changed();
    } catch (e) {
      list.say(invitation.id, `${resendResult(e)}.`, true);
      // A refused email still changes the invitation (its delivery shows as failed); a gone
      // or declined one is shown as it is now; a pause that began meanwhile shows its notice.
      if (e instanceof ApiError && (e.status === 502 || e.status === 404 || e.status === 409 || e.code === "invitations_paused"))
        outcomes.changed();
    }
  };

  const confirm = () => {
    const invitation = revoking;
    if (!invitation) return;
    void dialog.run(async () => {
      await ok(
        api.DELETE("/orgs/{orgId}/invitations/{invitationId}", {
          params: { path: { orgId, invitationId: invitation.id } },
        }),
      );
      list.drop(new Set([invitation.id]));
      outcomes.notice(
        invitation.status === "pending"
          ? `The invitation to ${invitation.email} was revoked.`
          : `The ${STATUS_LABEL[invitation.status].toLowerCase()} invitation to ${invitation.email} was removed from the list.`,
      );
      outcomes.changed();
      close();
    });
  };
  const close = () => {
    setRevoking(null);
    dialog.setError(null);
    setTimeout(() => {
      const at = document.activeElement;
      if (!at || at === document.body || !at.isConnected) outcomes.refocus();
    }, 50);
  };

  const menuItems = (i: Invitation): MenuItem[] => {
    if (!actionable(context, i)) return [];
    const items: MenuItem[] = [];
    if (resendable(i)) items.push({ label: "Resend invitation email", onSelect: () => void resend(i) });
    items.push({
      label: `${revokeWord(i)} invitation`,
      danger: true,
      onSelect: () => {
        dialog.setError(null);
        setRevoking(i);
      },
    });
    return items;
  };

  const dialogs = revoking && (
    <Confirm
      title={
        revoking.status === "pending"
          ? `Revoke the invitation to ${revoking.email}?`
          : `Remove the ${STATUS_LABEL[revoking.status].toLowerCase()} invitation to ${revoking.email}?`
      }
      body={
        <p>
          {revoking.status === "pending"
            ? "The link in the invitation email stops working at once. You can invite this address again later."
            : "It no longer lets anyone join; removing it takes it off the list. You can invite this address again."}
        </p>
      }
      confirm={revoking.status === "pending" ? "Yes, revoke invitation" : "Yes, remove invitation"}
      danger
      busy={dialog.busy}
      error={dialog.error}
      onConfirm={confirm}
      onClose={close}
    />
  );

  return { menuItems, dialogs };
}

/** The invitation rows of the table, under a heading row that selects them all. */
export function InvitationRows(props: {
  context: OrgContext;
  list: InvitationList;
  shown: Invitation[];
  columns: number;
  menuItems: (i: Invitation) => MenuItem[];
  /** The organization's invitation emails are paused: a problem row offers no Resend. */
  paused: boolean;
  /** The table has the members' usage column (an invitation has none). */
  usageColumn: boolean;
}) {
  const { context, list, shown } = props;
  const names = useNames(context.org.id);
  const customs = useCustomRoles(context.org.id);
  const me = context.me.userId;
  const words = useDelivery(shown.some((i) => i.status === "pending" && !DELIVERY[i.emailDelivery]));
  if (shown.length === 0) return null;

  const selectable = shown.filter((i) => actionable(context, i));
  const all = selectable.length > 0 && selectable.every((i) => list.selected.has(i.id));
  const some = selectable.some((i) => list.selected.has(i.id));

  /** Why a revoked one admits nobody, once its inviter's name is known (or cannot be). The
   * viewer's own, ended by a change of their role that still lets them grant its role (an
   * ownership transfer ends all they made), says what to do rather than that they cannot. */
  const why = (i: Invitation) => {
    if (i.invitedBy === me && i.revokedReason === "creator_demoted" && actionable(context, i)) {
      return "It ended when your role changed: resend it to make it work again.";
    }
    return names.settled(i.invitedBy) || i.invitedBy === me
      ? revokedCause(i.revokedReason, names.known(i.invitedBy) ? names.name(i.invitedBy) : null, i.invitedBy === me)
      : "";
  };
  const sub = (i: Invitation) => {
    switch (i.status) {
      case "pending":
        return `Expires ${date(i.expiresAt)}`;
      case "expired":
        return `Expired ${date(i.expiresAt)}`;
      case "declined":
        return `Declined · listed until ${date(i.expiresAt)}`;
      case "revoked":
        return why(i);
    }
  };

  return (
    <tbody class="invitations">
      <tr class="group">
        <td class="pick">
          <input
            type="checkbox"
            aria-label="Select all invitations"
            disabled={selectable.length === 0}
            checked={all}
            ref={(el) => {
              if (el) el.indeterminate = some && !all;
            }}
            onChange={(e) => list.select(selectable.map((i) => i.id), e.currentTarget.checked)}
          />
        </td>
        <th scope="rowgroup" colSpan={props.columns - 1}>
          Invitations
        </th>
      </tr>
      {shown.map((i) => {
        const note = list.note?.id === i.id ? list.note : null;
        const label = STATUS_LABEL[i.status];
        const badge = `badge ${i.status === "pending" ? "invited" : i.status}`;
        // A bounce, a complaint or a failure, with Resend (unless paused) and Revoke beside it.
        const problem = i.status === "pending" && words?.deliveryProblem(i);
        return (
          <tr key={i.id} class={list.selected.has(i.id) ? "invitation selected" : "invitation"}>
            <td class="pick">
              {actionable(context, i) && (
                <input
                  type="checkbox"
                  aria-label={`Select the invitation to ${i.email}`}
                  checked={list.selected.has(i.id)}
                  onChange={(e) => list.select([i.id], e.currentTarget.checked)}
                />
              )}
            </td>
            <td class="person">
              <span class="name">{i.email}</span>
              <span class="sub">
                {sub(i)}
                {i.status === "pending" && DELIVERY[i.emailDelivery] && ` · ${DELIVERY[i.emailDelivery]}`}
              </span>
              {problem && (
                <span class="delivery-problem">
                  {problem}.
                  {props
                    .menuItems(i)
                    .filter((m) => !(props.paused && !m.danger))
                    .map((m) => {
                      const word = m.label.split(" ")[0]!;
                      return (
                        <button
                          key={word}
                          type="button"
                          class="link"
                          aria-label={`${word} the invitation to ${i.email}`}
                          onClick={m.onSelect}
                        >
                          {word}
                        </button>
                      );
                    })}
                </span>
              )}
              <span class={`${badge} narrow`}>{label}</span>
              <span class="row-note" role="status">
                {note && !note.error ? note.text : ""}
              </span>
              {note?.error && (
                <span class="row-note error" role="alert">
                  {note.text}
                </span>
              )}
            </td>
            <td>{roleName(i.role, i.customRole, customs)}</td>
            <td class="optional">
              <span class={badge}>{label}</span>
            </td>
            <td class="optional">{date(i.createdAt)}</td>
            {props.usageColumn && <td class="optional" />}
            <td class="act">
              <Menu label={`Actions for ${i.email}`} items={props.menuItems(i)} />
            </td>
          </tr>
        );
      })}
    </tbody>
  );
}
