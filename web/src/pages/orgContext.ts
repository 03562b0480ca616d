// What an organization's page hands to each of its tabs, in a module of its own so that the
// tabs and the page that holds them do not import each other.
import type { Member, Org } from "../api/client";

export type Tab = "members" | "workspaces" | "groups" | "links" | "activity" | "settings";

/** Tabs every active member sees (the others are for admins and owners). */
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
  reload: () => Promise<void>;
};
