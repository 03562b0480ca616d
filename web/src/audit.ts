// Audit events in sentences: "Alice changed Bob's role from member to admin". The `details`
// of each action are those the API writes (shared/src/handlers): see the cases below.
import { api, ok, type AuditEvent } from "./api/client";
import { remember } from "./pages/members/names";

type Details = Record<string, unknown>;

/** "a member", "an admin". */
export function withArticle(role: string): string {
  return `${/^[aeiou]/i.test(role) ? "an" : "a"} ${role}`;
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);
const object = (value: unknown): Details =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Details) : {};

/** `name` turns a user id into a display name (the id itself when unknown). */
export function describeEvent(event: AuditEvent, name: (userId: string) => string): string {
  const d: Details = event.details && typeof event.details === "object" ? (event.details as Details) : {};
  const email = text(d.email);
  const role = text(d.role);
  // A user's name; when the members list does not know them, the address the event names.
  const who = (id: string | null | undefined, fallback?: string): string => {
    if (!id) return fallback ?? "someone";
    const known = name(id);
    return known && known !== id ? known : (fallback ?? id);
  };
  const actor = who(event.actor);
  const target = who(event.target, email);
  const possessive = (n: string) => (n.endsWith("'s") ? n : `${n}'s`);

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
      return `${actor} deleted the organization`;
    case "invitation.created":
      return `${actor} invited ${email ?? "someone"}${role ? ` as ${withArticle(role)}` : ""}`;
    case "invitation.resent":
      return `${actor} resent the invitation to ${email ?? "someone"}`;
    case "invitation.revoked":
      return `${actor} revoked the invitation to ${email ?? "someone"}`;
    case "invitation.accepted": {
      const joiner = who(event.actor, email);
      const as = role ? ` as ${withArticle(role)}` : "";
      return d.via === "link"
        ? `${joiner} joined with an invite link${as}`
        : `${joiner} accepted the invitation and joined${as}`;
    }
    case "invitation.declined":
      return `${who(event.actor, email)} declined the invitation${email ? ` to ${email}` : ""}`;
    case "link.created": {
      const max = typeof d.maxUses === "number" ? d.maxUses : null;
      const uses = max === null ? "unlimited uses" : `up to ${max} ${max === 1 ? "use" : "uses"}`;
      return `${actor} created an invite link${role ? ` to join as ${withArticle(role)}` : ""} (${uses})`;
    }
    case "link.revoked": {
      const used = typeof d.uses === "number" ? ` (used ${d.uses} ${d.uses === 1 ? "time" : "times"})` : "";
      return `${actor} revoked an invite link${role ? ` to join as ${withArticle(role)}` : ""}${used}`;
    }
    case "member.role_changed": {
      const change = text(d.from) && text(d.to) ? ` from ${text(d.from)} to ${text(d.to)}` : "";
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
      return `${actor} transferred ownership to ${to} and became an admin`;
    }
    default:
      return `${actor} made a change (${String(event.action)})`;
  }
}

/** Feeds the first page of `orgId`'s members into the shared name cache (members/names.ts),
 * so that a screen naming people shows names at once; the rest are looked up by id. */
export async function preloadNames(orgId: string): Promise<void> {
  try {
    const page = await ok(api.GET("/orgs/{orgId}/members", { params: { path: { orgId }, query: { limit: 100 } } }));
    remember(orgId, page.members);
  } catch {
    // Names then come one by one; the ids stand in meanwhile.
  }
}
