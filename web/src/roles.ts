// The rank rules of API.md ("Roles and rank"), as the UI needs them to offer only what the
// API allows. The API stays the judge: every refusal is still shown.
import type { Member, Role } from "./api/client";

export const ROLES: Role[] = ["owner", "admin", "member", "viewer"];
const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };

export const ROLE_LABEL: Record<Role, string> = { owner: "Owner", admin: "Admin", member: "Member", viewer: "Viewer" };

/** Roles `viewer` may grant: an owner any, an admin member or viewer, others none. */
export function grantable(viewer: Role): Role[] {
  if (viewer === "owner") return ROLES;
  if (viewer === "admin") return ["member", "viewer"];
  return [];
}

export function canInvite(viewer: Role): boolean {
  return RANK[viewer] >= RANK.admin;
}

/** Whether `viewer` may change, suspend or remove `target` (not themselves). */
export function canManage(viewer: Member, target: Member): boolean {
  if (viewer.userId === target.userId) return false;
  if (viewer.role === "owner") return true;
  return viewer.role === "admin" && RANK[target.role] <= RANK.member;
}
