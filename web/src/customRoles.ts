// Custom roles (API.md "Roles and permissions") as the pages that assign or show a role need
// them: the organization's roles read once per organization and kept until a change, and a
// held role in words ("Billing admin (ranks as Member)").
import { api, ok, type Role } from "./api/client";
import type { components } from "./api/schema";
import { ROLE_LABEL } from "./roles";

export type RoleDefinition = components["schemas"]["RoleDefinition"];

export const BASE_LABEL: Record<Role, string> = ROLE_LABEL;

const cache = new Map<string, Promise<RoleDefinition[]>>();

/** The organization's custom roles (built-in ones left out), read once and shared; none when
 * they cannot be read (the pickers then offer the built-in roles only). */
export function customRoles(orgId: string): Promise<RoleDefinition[]> {
  let roles = cache.get(orgId);
  if (!roles) {
    roles = ok(api.GET("/orgs/{orgId}/roles", { params: { path: { orgId } } })).then(
      (answer) => answer.roles.filter((r) => !r.builtin),
      () => {
        cache.delete(orgId);
        return [];
      },
    );
    cache.set(orgId, roles);
  }
  return roles;
}

/** After a change of the organization's roles: the next read asks the API again. */
export function forgetRoles(orgId: string): void {
  cache.delete(orgId);
}

/** The custom roles `viewer` may give: an owner any, an admin those ranked member or viewer. */
export function grantableCustom(viewer: Role, roles: RoleDefinition[]): RoleDefinition[] {
  if (viewer === "owner") return roles;
  if (viewer === "admin") return roles.filter((r) => r.base === "member" || r.base === "viewer");
  return [];
}

/** A held role in words: the custom role's name with its rank, or the built-in role's label. */
export function roleName(role: Role, custom: string | undefined, roles: RoleDefinition[]): string {
  if (!custom) return ROLE_LABEL[role];
  const found = roles.find((r) => r.key === custom);
  return `${found?.name ?? custom} (ranks as ${ROLE_LABEL[role]})`;
}
