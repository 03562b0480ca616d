// What the workspace and group pages share: the types the API answers, workspace roles in
// words, where a member's access comes from in words, and the organization's groups by id
// (a workspace's access names its groups by id only).
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type Workspace = Schemas["Workspace"];
export type Group = Schemas["Group"];
export type WsRole = Schemas["WorkspaceRole"];
export type Grant = Schemas["WorkspaceGroup"];
export type GroupMember = Schemas["GroupMemberRow"];
/** A row of a workspace's member list: a direct member, or (first page) a pending invitee. */
export type WsRow = Omit<Schemas["WorkspaceMemberRow"], "userId" | "status"> & {
  userId?: string | null;
  invitationId?: string | null;
  status: string;
};

export const WS_ROLES: WsRole[] = ["admin", "member", "viewer"];
export const WS_ROLE_LABEL: Record<WsRole, string> = { admin: "Admin", member: "Member", viewer: "Viewer" };

/** A direct membership's role as the drop-down holds it: "org" follows the organization role. */
export type WsChoice = WsRole | "org";
export const CHOICE_LABEL: Record<WsChoice, string> = { org: "Organization role", ...WS_ROLE_LABEL };
export const CHOICES: WsChoice[] = ["org", ...WS_ROLES];

/** Where access comes from, in words: "Through the organization", "Direct", "Through group
 * Engineering"; the sources of one member joined ("Direct and through group Engineering"). */
export function viaWords(via: string[], groupName: (id: string) => string | undefined): string {
  const words = via.map((v) => {
    if (v === "org_role") return "through the organization";
    if (v === "direct") return "direct";
    const name = groupName(v.replace(/^group:/, ""));
    return name ? `through group ${name}` : "through a group";
  });
  const text = words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "Admin through the organization", "Member, direct". */
export function accessWords(role: WsRole, via: string[], groupName: (id: string) => string | undefined): string {
  const how = viaWords(via, groupName);
  const lower = how.charAt(0).toLowerCase() + how.slice(1);
  return `${WS_ROLE_LABEL[role]}${how.startsWith("Through") ? " " : ", "}${lower}`;
}

/** Every page of a list, up to `pages` pages of 100. */
export async function readAll<T>(read: (cursor?: string) => Promise<{ items: T[]; next: string | null }>, pages = 10): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < pages; i++) {
    const page = await read(cursor);
    all.push(...page.items);
    if (!page.next) break;
    cursor = page.next;
  }
  return all;
}

/** The organization's groups (up to 1,000, the limit), read once per page that asks. */
export const allGroups = (orgId: string) =>
  readAll(async (cursor) => {
    const page = await ok(api.GET("/orgs/{orgId}/groups", { params: { path: { orgId }, query: { limit: 100, cursor } } }));
    return { items: page.groups, next: page.nextCursor };
  });

/** The workspaces the viewer can see (all of them for admins and owners). */
export const allWorkspaces = (orgId: string) =>
  readAll(async (cursor) => {
    const page = await ok(api.GET("/orgs/{orgId}/workspaces", { params: { path: { orgId }, query: { limit: 100, cursor } } }));
    return { items: page.workspaces, next: page.nextCursor };
  });

/** Whether `query` matches one of `texts`: every term (split at spaces) starts a word of one of
 * them, words split at spaces and at . _ - + @ (as the API's member search); a term holding
 * one of those marks (an address typed whole) is found anywhere. */
export function matches(query: string, ...texts: (string | null | undefined)[]): boolean {
  const whole = texts.join(" ").toLowerCase();
  const words = whole.split(/[\s._+@-]+/);
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => (/[._+@-]/.test(term) ? whole.includes(term) : words.some((w) => w.startsWith(term))));
}
