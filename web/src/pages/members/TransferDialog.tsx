// "Make owner": the confirmation of an ownership transfer. The owner becomes an admin, and,
// as at every demotion, the invitations and invite links they made and that still work end
// with it (README, "Decisions where the contract is silent"): an admin may send member and
// viewer ones again, never owner or admin ones. The dialog counts them first and says so,
// before anything happens.
import { useEffect, useState } from "preact/hooks";
import { api, ok, type Role } from "../../api/client";
import { Confirm } from "../../components/Dialog";
import type { OrgContext } from "../orgContext";

const privileged = (role: Role) => role === "owner" || role === "admin";
const plural = (n: number, one: string) => `${n} ${n === 1 ? one : `${one}s`}`;

/** Every page of a list, read one after another (at most 20 pages of 100). */
async function everything<T>(read: (cursor?: string) => Promise<{ items: T[]; next: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const answer = await read(cursor);
    items.push(...answer.items);
    if (!answer.next) break;
    cursor = answer.next;
  }
  return items;
}

type Count = { invitations: number; links: number };
/** What a transfer ends: the viewer's own pending invitations and active invite links, those
 * for owners or admins (`high`) apart from the others. */
export type Grants = { high: Count; other: Count };

/** The viewer's own live invitations (pending) and invite links (active), by role. */
export async function liveGrants(orgId: string, userId: string): Promise<Grants> {
  const [invitations, links] = await Promise.all([
    everything(async (cursor) => {
      const page = await ok(api.GET("/orgs/{orgId}/invitations", { params: { path: { orgId }, query: { limit: 100, cursor } } }));
      return { items: page.invitations, next: page.nextCursor };
    }),
    everything(async (cursor) => {
      const page = await ok(api.GET("/orgs/{orgId}/invite-links", { params: { path: { orgId }, query: { limit: 100, cursor } } }));
      return { items: page.links, next: page.nextCursor };
    }),
  ]);
  const mine = {
    invitations: invitations.filter((i) => i.invitedBy === userId && i.status === "pending"),
    links: links.filter((l) => l.createdBy === userId && l.status === "active"),
  };
  const count = (high: boolean): Count => ({
    invitations: mine.invitations.filter((i) => privileged(i.role) === high).length,
    links: mine.links.filter((l) => privileged(l.role) === high).length,
  });
  return { high: count(true), other: count(false) };
}

/** "2 invitations and 1 invite link"; "" for none. */
function counted(c: Count): string {
  return [c.invitations > 0 ? plural(c.invitations, "invitation") : "", c.links > 0 ? plural(c.links, "invite link") : ""]
    .filter(Boolean)
    .join(" and ");
}

/** "Your 2 invitations and 1 invite link for owners or admins will stop working: …"; null
 * when nothing ends. */
export function grantsWarning({ high, other }: Grants): string | null {
  const all = counted({ invitations: high.invitations + other.invitations, links: high.links + other.links });
  if (!all) return null;
  if (!counted(other)) {
    return `Your ${all} for owners or admins will stop working: as an admin you can no longer grant those roles.`;
  }
  const again = counted(high)
    ? "As an admin you can send new ones for members and viewers, no longer for owners or admins."
    : "As an admin you can send them again afterwards.";
  return `Your ${all} will stop working: a transfer ends the invitations and links you made as an owner. ${again}`;
}

const UNKNOWN =
  "Any invitations and invite links you made will stop working: a transfer ends the invitations and links you made as an owner.";

export function TransferDialog(props: {
  context: OrgContext;
  name: string;
  busy: boolean;
  error: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { org, me } = props.context;
  // undefined while counting; null when nothing ends; the sentence otherwise.
  const [warning, setWarning] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    liveGrants(org.id, me.userId).then(
      (count) => live && setWarning(grantsWarning(count)),
      // Not counted: said without a number rather than not at all.
      () => live && setWarning(UNKNOWN),
    );
    return () => {
      live = false;
    };
  }, [org.id, me.userId]);

  return (
    <Confirm
      title={`Make ${props.name} the owner?`}
      body={
        <>
          <p>
            {props.name} becomes an owner of {org.name}, and you become an admin. Only an owner can make you an owner
            again.
          </p>
          <p class={warning ? "warning" : "muted"} role="status">
            {warning === undefined ? "Checking your invitations and invite links…" : (warning ?? "")}
          </p>
        </>
      }
      confirm="Yes, transfer ownership"
      // Nothing is confirmed before the person could read what it ends.
      busy={props.busy || warning === undefined}
      error={props.error}
      onConfirm={props.onConfirm}
      onClose={props.onClose}
    />
  );
}
