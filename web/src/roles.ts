// The rank rules of API.md ("Roles and rank"), as the UI needs them to offer only what the
// API allows. The API stays the judge: every refusal is still shown.
import type { Member, Role } from "./api/client";
import { config } from "./config";

export const ROLES: Role[] = ["owner", "admin", "member", "viewer"];
const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };

/** The article before a role's name: "an owner", "an admin", "a member", "a viewer". */
export const article = (role: Role) => (role === "owner" || role === "admin" ? "an" : "a");

export const ROLE_LABEL: Record<Role, string> = { owner: "Owner", admin: "Admin", member: "Member", viewer: "Viewer" };

/** Roles `viewer` may grant: an owner any, an admin member or viewer, others none. */
export function grantable(viewer: Role): Role[] {
  if (viewer === "owner") return ROLES;
  if (viewer === "admin") return ["member", "viewer"];
  return [];
}

/** The built-in roles a picker offers `viewer` (inviting, an invite link, a role change,
 * adding a user): those they may grant, but never Owner where an organization has exactly one
 * owner (config.json `singleOwner`: ownership moves only by transfer, and the API refuses
 * granting it). `grantable` stays the rank rule for acting on what holds a role. */
export function offered(viewer: Role): Role[] {
  const roles = grantable(viewer);
  return config().singleOwner ? roles.filter((r) => r !== "owner") : roles;
}

export function canInvite(viewer: Role): boolean {
  return RANK[viewer] >= RANK.admin;
}

/** Whether `viewer` may change, suspend or remove `target` (not themselves). With a single
 * owner nobody may: the owner's role and membership change only by a transfer. */
export function canManage(viewer: Member, target: Member): boolean {
  if (viewer.userId === target.userId) return false;
  if (target.role === "owner" && config().singleOwner) return false;
  if (viewer.role === "owner") return true;
  return viewer.role === "admin" && RANK[target.role] <= RANK.member;
}
