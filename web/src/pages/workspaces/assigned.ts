// What an invitation or invite link assigns (workspaces with a role, groups), as the invite
// dialog and the link form hold it; the picker itself (AssignPicker) loads when opened.

/** At most this many workspaces and groups together on one invitation or link. */
export const MAX_ASSIGNED = 25;

/** `role` "org": the organization role's. */
export type Assigned = { id: string; kind: "workspace" | "group"; name: string; role: "org" | "admin" | "member" | "viewer" };

/** The request's `workspaces` and `groups` for what is assigned; nothing when nothing is. */
export function assignment(items: Assigned[]) {
  if (items.length === 0) return {};
  return {
    workspaces: items.filter((a) => a.kind === "workspace").map((a) => (a.role === "org" ? { id: a.id } : { id: a.id, role: a.role })),
    groups: items.filter((a) => a.kind === "group").map((a) => a.id),
  };
}
