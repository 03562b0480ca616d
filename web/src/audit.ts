// Audit events in sentences: "Alice changed Bob's role from member to admin". The `details`
// of each action are those the API writes (shared/src/handlers): see the cases below.
// Loaded with the pages that show events (Activity, a member's details), not at first.
import type { AuditEvent } from "./api/client";
import { listed, withArticle } from "./format";

export { listed, withArticle };

type Details = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);
const count = (value: unknown): number => (typeof value === "number" && value > 0 ? value : 0);
const object = (value: unknown): Details =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Details) : {};

/** "1 invitation", "2 links". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** An invite link as a sentence names it: “Sales team” when it has a label. */
const linkName = (label: string | undefined) => (label ? `the invite link “${label}”` : "an invite link");

/** How many times a link was used, in words: "never used", "used once", "used 3 times". */
const used = (uses: unknown): string | null => {
  if (typeof uses !== "number") return null;
  return uses === 0 ? "never used" : uses === 1 ? "used once" : `used ${uses} times`;
};

/** Facts a sentence may borrow from other events of the same page: a link's label (from its
 * `link.created` event), for the events that name the link by id only. */
export type Known = {
  linkLabel?: (linkId: string) => string | undefined;
  /** A custom role's name by its key (the events name custom roles by key). */
  roleName?: (key: string) => string | undefined;
};

/** The labels of the links created in `events`, by link id. */
export function linkLabels(events: AuditEvent[]): Map<string, string> {
  const labels = new Map<string, string>();
  for (const e of events) {
    const label = text(object(e.details).label);
    if (e.action === "link.created" && e.target && label) labels.set(e.target, label);
  }
  return labels;
}

/** `name` turns a user id into a display name (the id itself when unknown). */
export function describeEvent(event: AuditEvent, name: (userId: string) => string, known: Known = {}): string {
  const d: Details = object(event.details);
  const email = text(d.email);
  // A custom role (`customRole`, `fromCustomRole`, `toCustomRole`: its key) is said by its
  // name where known, in place of the rank it holds.
  const custom = (key: unknown, rank: unknown) => {
    const k = text(key);
    return k ? (known.roleName?.(k) ?? k) : text(rank);
  };
  const role = custom(d.customRole, d.role);
  // A user's name; when the members list does not know them, the address the event names.
  const who = (id: string | null | undefined, fallback?: string): string => {
    if (!id) return fallback ?? "someone";
    const found = name(id);
    return found && found !== id ? found : (fallback ?? id);
  };
  const actor = who(event.actor);
  const target = who(event.target, email);
  const possessive = (n: string) => (n.endsWith("'s") ? n : `${n}'s`);
  const asRole = role ? ` as ${withArticle(role)}` : "";
  const label = text(d.label) ?? (event.target ? known.linkLabel?.(event.target) : undefined);

  switch (event.action as string) {
    case "org.created":
      return text(d.name) ? `${actor} created the organization “${text(d.name)}”` : `${actor} created the organization`;
    case "org.updated": {
      // `before` and `after` hold only the fields that changed: name, metadata.
      const [before, after] = [object(d.before), object(d.after)];
      const metadata = "metadata" in after || "metadata" in before;
      const to = text(after.name);
      if (!to) {
        return metadata ? `${actor} updated the organization's metadata` : `${actor} updated the organization's settings`;
      }
      const from = text(before.name);
      const renamed = from
        ? `${actor} renamed the organization from “${from}” to “${to}”`
        : `${actor} renamed the organization to “${to}”`;
      return metadata ? `${renamed} and updated its metadata` : renamed;
    }
    case "org.deleted":
      return text(d.name) ? `${actor} deleted the organization “${text(d.name)}”` : `${actor} deleted the organization`;
    case "invitation.created":
      return `${actor} invited ${email ?? "someone"}${asRole}`;
    case "invitation.resent":
      return `${actor} resent the invitation to ${email ?? "someone"}`;
    case "invitation.revoked":
      return `${actor} revoked the invitation for ${email ?? "someone"}${role ? ` to join as ${withArticle(role)}` : ""}`;
    case "invitation.accepted": {
      const joiner = who(event.actor, email);
      // Joining another way closed the joiner's pending email invitation.
      const closed = text(d.consumedInvitation) ? " (their pending email invitation was closed)" : "";
      return d.via === "link"
        ? `${joiner} joined${asRole} with ${linkName(label)}${closed}`
        : `${joiner} accepted the invitation and joined${asRole}${closed}`;
    }
    case "invitation.declined": {
      // The invitee is no member: their address is what names them.
      const known = who(event.actor);
      const named = known !== event.actor && known !== email;
      const invitee = named && email ? `${known} (${email})` : named ? known : (email ?? "someone");
      return `${invitee} declined the invitation`;
    }
    case "link.created": {
      const max = typeof d.maxUses === "number" ? d.maxUses : null;
      const uses = max === null ? "unlimited uses" : `up to ${plural(max, "use")}`;
      return `${actor} created ${linkName(label)}${role ? ` to join as ${withArticle(role)}` : ""} (${uses})`;
    }
    case "link.revoked": {
      const times = used(d.uses);
      return `${actor} revoked ${linkName(label)}${role ? ` to join as ${withArticle(role)}` : ""}${times ? ` (${times})` : ""}`;
    }
    case "member.role_changed": {
      const [from, to] = [custom(d.fromCustomRole, d.from), custom(d.toCustomRole, d.to)];
      const change = from && to ? ` from ${from} to ${to}` : "";
      return event.target === event.actor
        ? `${actor} changed their own role${change}`
        : `${actor} changed ${possessive(target)} role${change}`;
    }
    case "member.updated": {
      const what = "metadata" in object(d.after) || "metadata" in object(d.before) ? "metadata" : "details";
      return event.target === event.actor
        ? `${actor} updated their own ${what}`
        : `${actor} updated ${possessive(target)} ${what}`;
    }
    case "member.suspended":
      return `${actor} suspended ${target}`;
    case "member.reactivated":
      return `${actor} reactivated ${target}`;
    case "member.removed":
      return event.target ? `${actor} removed ${target} from the organization` : `${actor} removed a member`;
    case "member.left":
      return `${who(event.actor, email)} left the organization`;
    case "ownership.transferred": {
      const to = who(text(d.to) ?? event.target);
      // The old owner is now an admin: the owner and admin invitations and links they made
      // admit nobody any more.
      const ended = [
        count(d.endedInvitations) ? plural(count(d.endedInvitations), "invitation") : "",
        count(d.endedLinks) ? plural(count(d.endedLinks), "link") : "",
      ].filter(Boolean);
      const also = ended.length ? ` (ended ${listed(ended)} they could no longer grant)` : "";
      return `${actor} transferred ownership to ${to} and became an admin${also}`;
    }
    // Workspace events name the workspace by id only (but its creation and deletion), and
    // a direct role of null follows the organization role.
    case "workspace.created":
    case "workspace.deleted":
    case "group.created":
    case "group.deleted": {
      const [kind, done] = event.action.split(".") as [string, string];
      return `${actor} ${done} the ${kind}${text(d.name) ? ` “${text(d.name)}”` : ""}`;
    }
    case "workspace.updated":
    case "group.updated": {
      const kind = event.action.split(".")[0];
      const [from, to] = [text(object(d.before).name), text(object(d.after).name)];
      return to ? `${actor} renamed the ${kind}${from ? ` “${from}”` : ""} to “${to}”` : `${actor} updated a ${kind}'s details`;
    }
    case "workspace.member_added":
      return `${actor} added ${target} to a workspace${role ? ` as ${withArticle(role)}` : " with their organization role"}`;
    case "workspace.member_updated":
      return `${actor} changed ${possessive(target)} role in a workspace to ${custom(d.toCustomRole, d.to) ?? "their organization role"}`;
    case "workspace.member_removed":
      return `${actor} removed ${target} from a workspace`;
    case "workspace.group_granted":
      return `${actor} gave the group${text(d.groupName) ? ` “${text(d.groupName)}”` : ""} access to a workspace${asRole}`;
    case "workspace.group_revoked":
      return `${actor} took a group's access to a workspace away`;
    case "group.member_added":
    case "group.member_removed": {
      const added = event.action.endsWith("added");
      return `${actor} ${added ? "added" : "removed"} ${target} ${added ? "to" : "from"} the group${text(d.groupName) ? ` “${text(d.groupName)}”` : ""}`;
    }
    // Custom roles: named as they were then (`name`; an update's `before` and `after`).
    case "role.created":
    case "role.deleted":
      return `${actor} ${event.action.slice(5)} the role${text(d.name) ? ` “${text(d.name)}”` : ""}`;
    case "role.updated": {
      const [from, to] = [text(object(d.before).name), text(object(d.after).name)];
      return from && to && from !== to
        ? `${actor} renamed the role “${from}” to “${to}”`
        : `${actor} changed the role${to ? ` “${to}”` : ""}`;
    }
    default: {
      // An action this app does not know yet: its name in words ("workspace.member_added" →
      // "workspace member added").
      const words = String(event.action).replace(/[._]/g, " ");
      return `${actor} made a change to the organization: ${words}`;
    }
  }
}
