// Custom roles (API.md "Roles and permissions") as the pages that assign or show a role need
// them: the organization's roles read once per organization and kept until a change, and a
// held role in words ("Billing admin (ranks as Member)").
import { useEffect, useState } from "preact/hooks";
import { api, ok, type Role } from "./api/client";
import type { components } from "./api/schema";
import { offered, ROLE_LABEL, ROLES } from "./roles";
import { config } from "./config";

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
  // With one owner per organization no route grants a role that ranks as owner.
  if (viewer === "owner") return config().singleOwner ? roles.filter((r) => r.base !== "owner") : roles;
  if (viewer === "admin") return roles.filter((r) => r.base === "member" || r.base === "viewer");
  return [];
}

/** A held role in words: the custom role's name with its rank, or the built-in role's label. */
export function roleName(role: Role, custom: string | undefined, roles: RoleDefinition[]): string {
  if (!custom) return ROLE_LABEL[role];
  const found = roles.find((r) => r.key === custom);
  return `${found?.name ?? custom} (ranks as ${ROLE_LABEL[role]})`;
}

/** The organization's custom roles for a page that shows or assigns roles: none until read
 * (and none for an empty `orgId`: nothing asked). */
export function useCustomRoles(orgId: string): RoleDefinition[] {
  const [roles, setRoles] = useState<RoleDefinition[]>([]);
  useEffect(() => {
    let live = true;
    if (!orgId) return; // nothing to read
    void customRoles(orgId).then((r) => live && setRoles(r));
    return () => {
      live = false;
    };
  }, [orgId]);
  return roles;
}

/** What a role picker offers `viewer` in the organization (inviting, an invite link, adding a
 * user): the built-in roles they may give, then the custom ones, each choice's label, and the
 * organization's custom roles (for their ranks). */
export function useRoleChoices(orgId: string, viewer: Role) {
  const builtin = offered(viewer);
  const customs = useCustomRoles(orgId);
  const roles: string[] = [...builtin, ...grantableCustom(viewer, customs).map((r) => r.key)];
  return { builtin, customs, roles, labels: roleLabels(customs) };
}

/** Labels of role choices: the built-in roles', and each custom role's name with its rank. */
export function roleLabels(roles: RoleDefinition[]): Record<string, string> {
  const labels: Record<string, string> = { ...ROLE_LABEL };
  for (const r of roles) labels[r.key] = `${r.name} (ranks as ${ROLE_LABEL[r.base]})`;
  return labels;
}

/** The rank a role choice (a built-in role or a custom role's key) counts as. */
export function baseOf(choice: string, roles: RoleDefinition[]): Role {
  return (ROLES as string[]).includes(choice) ? (choice as Role) : (roles.find((r) => r.key === choice)?.base ?? "viewer");
}
