// What an organization's page hands to each of its tabs, in a module of its own so that the
// tabs and the page that holds them do not import each other.
import type { Member, Org } from "../api/client";
import type { components } from "../api/schema";
import type { UsageMetric } from "../config";

/** A permission key, `resource:action` (API.md "Roles and permissions"). */
export type Permission = components["schemas"]["Permission"];

export type Tab = "members" | "workspaces" | "groups" | "links" | "activity" | "settings";

/** Tabs every active member sees (the others by permission: invite links with
 * `members:invite`, activity with `audit:read`, settings with `org:update` or `org:delete`). */
export const EVERYONE: Tab[] = ["members", "workspaces", "groups"];

export type Seats = { limit: number; used: number };

/** What every tab of an organization gets: the organization, the viewer's membership,
 * whether the viewer is its only active owner (who may neither step down nor leave), and a
 * way to read them again after a change (counts, the viewer's own role, the owners). */
export type OrgContext = {
  org: Org;
  me: Member;
  seats?: Seats | undefined;
  onlyOwner: boolean;
  /** The viewer's organization permissions (`you.permissions`): what the page offers. */
  permissions: Permission[];
  /** The usage metrics the viewer is shown (usage.ts): none unless the deployment names some
   * and the viewer is an admin or owner. */
  usageMetrics: UsageMetric[];
  reload: () => Promise<void>;
};

/** Whether the viewer's role holds `permission` here. The page offers an action only then;
 * the API still judges every call. */
export function can(context: Pick<OrgContext, "permissions">, permission: Permission): boolean {
  return context.permissions.includes(permission);
}
