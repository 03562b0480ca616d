// The members table's query and the rows it reads. The query (a search, role, status, the
// email delivery of invitations, the sort) lives in the page's address, `?q=ann&role=admin&
// status=suspended&delivery=bounced&sort=joinedAt&order=desc`, so that a search can be shared
// and survives a reload; the search box's text reaches it 250 ms after the last key. The
// server searches, filters and sorts before paging; the rows are read with its cursors, a
// few requests at most per change (paging.ts). Answers to an older query are dropped.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok, type Invitation, type Member, type Role } from "../../api/client";
import { sentence } from "../../api/messages";
import { ROLES } from "../../roles";
import { useLocation } from "../../router";
import { useInvitations, type InvitationFilter, type InvitationStatus } from "./Invitations";
import { remember } from "./names";
import { fill, PAGE } from "./paging";

/** Members by status, invitations (all, or by status), or everything. */
export type StatusFilter = "" | "joined" | "suspended" | "invitations" | InvitationStatus;
export type Delivery = Invitation["emailDelivery"];

export type MemberQuery = {
  /** The search as sent (trimmed); "" for none. */
  q: string;
  role: Role | "";
  status: StatusFilter;
  /** Invitations whose last email went this way; "" for any. */
  delivery: Delivery | "";
  sort: "name" | "joinedAt";
  order: "asc" | "desc";
};

const MEMBER_STATUSES = ["joined", "suspended"];
const INVITATION_STATUSES = ["invitations", "pending", "expired", "declined", "revoked"];
export const DELIVERIES: Delivery[] = ["queued", "sent", "delivered", "bounced", "complained", "failed"];

/** The query an address says (what it does not say, or says wrongly, is the default). */
function fromAddress(search: string, admin: boolean): MemberQuery {
  const p = new URLSearchParams(search);
  const one = <T extends string>(key: string, allowed: readonly string[], fallback: T): T => {
    const v = p.get(key) ?? "";
    return (allowed.includes(v) ? v : fallback) as T;
  };
  return {
    q: (p.get("q") ?? "").trim().slice(0, 200),
    role: one("role", ROLES, ""),
    status: one("status", admin ? [...MEMBER_STATUSES, ...INVITATION_STATUSES] : MEMBER_STATUSES, ""),
    delivery: admin ? one("delivery", DELIVERIES, "") : "",
    sort: one("sort", ["joinedAt"], "name"),
    order: one("order", ["desc"], "asc"),
  };
}

/** `?…` of a query: only what differs from the default. */
function toAddress(query: MemberQuery): string {
  const p = new URLSearchParams();
  if (query.q) p.set("q", query.q);
  if (query.role) p.set("role", query.role);
  if (query.status) p.set("status", query.status);
  if (query.delivery) p.set("delivery", query.delivery);
  if (query.sort !== "name") p.set("sort", query.sort);
  if (query.order !== "asc") p.set("order", query.order);
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Whether the table lists members, and invitations, for this query (invitations: admins). */
export const listsMembers = (query: MemberQuery) => !INVITATION_STATUSES.includes(query.status) && !query.delivery;
export const listsInvitations = (query: MemberQuery, admin: boolean) =>
  admin && !MEMBER_STATUSES.includes(query.status);

export function useMemberQuery(orgId: string, admin: boolean) {
  const here = useLocation();
  const [query, setQuery] = useState<MemberQuery>(() => fromAddress(here.query.toString(), admin));
  // The search box's text, which becomes `query.q` once typing pauses.
  const [typed, setTyped] = useState(query.q);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const invitations = useInvitations(orgId);
  const generation = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const written = useRef(toAddress(query));
  // The query as last asked for (a pending search applies to the filters chosen meanwhile).
  const latest = useRef(query);
  const page = `/o/${orgId}/members`;

  // The address follows the query (replaced, not pushed: Back leaves the page, as before).
  useEffect(() => {
    const search = toAddress(query);
    written.current = search;
    if (window.location.pathname.replace(/\/$/, "") === page && search !== window.location.search) {
      history.replaceState(history.state, "", page + search);
    }
  }, [query]);
  // An address changed from outside (Back, Forward, the Members tab) brings its query. The
  // address is read as it is now, not as rendered: the effect above may have just written
  // a newer query there (comparing with the rendered one would bring the older back).
  const rendered = here.query.toString();
  useEffect(() => {
    const now = window.location.search;
    if (now === written.current) return;
    const next = fromAddress(now, admin);
    written.current = toAddress(next);
    clearTimeout(timer.current);
    setTyped(next.q);
    change(next);
  }, [rendered]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const wantsMembers = listsMembers(query);
  const wantsInvitations = listsInvitations(query, admin);
  /** The invitations the table shows: the API has no role filter for them. */
  const invitationShown = (i: Invitation) => !query.role || i.role === query.role;
  const invitationFilter: InvitationFilter = {
    q: query.q || undefined,
    status: INVITATION_STATUSES.includes(query.status) && query.status !== "invitations" ? (query.status as InvitationStatus) : undefined,
    emailDelivery: query.delivery || undefined,
  };

  const memberPage = async (after?: string) => {
    const page = await ok(
      api.GET("/orgs/{orgId}/members", {
        params: {
          path: { orgId },
          query: {
            limit: PAGE,
            cursor: after,
            q: query.q || undefined,
            role: query.role || undefined,
            status: query.status === "joined" ? "active" : query.status === "suspended" ? "suspended" : undefined,
            // A search comes best match first (no sort with `q`).
            sort: query.q || query.sort === "name" ? undefined : query.sort,
            order: query.q || query.order === "asc" ? undefined : query.order,
          },
        },
      }),
    );
    return { items: page.members, next: page.nextCursor };
  };

  /** The first rows of each list, as the query is now. */
  const refresh = async () => {
    const mine = ++generation.current;
    try {
      const [m, i] = await Promise.all([
        wantsMembers ? fill(memberPage) : null,
        wantsInvitations ? invitations.first(invitationFilter, invitationShown) : null,
      ]);
      if (mine !== generation.current) return;
      if (m) remember(orgId, m.items);
      setMembers(m?.items ?? []);
      setCursor(m?.next ?? null);
      invitations.show(i ?? { items: [], next: null });
      setError(null);
    } catch (e) {
      if (mine !== generation.current) return;
      setError(sentence(e));
    }
    setLoading(false);
  };

  useEffect(() => {
    invitations.clear();
    void refresh();
  }, [orgId, admin, query]);

  /** A new query: the rows shown stay, marked busy at once, until the new ones arrive. */
  const change = (next: MemberQuery) => {
    if (JSON.stringify(latest.current) === JSON.stringify(next)) return;
    latest.current = next;
    setLoading(true);
    setQuery(next);
  };

  const loadMore = async () => {
    const mine = generation.current;
    setLoadingMore(true);
    try {
      const [m, i] = await Promise.all([
        wantsMembers && cursor ? fill(memberPage, undefined, cursor) : null,
        wantsInvitations ? invitations.more(invitationFilter, invitationShown) : null,
      ]);
      if (mine !== generation.current) return;
      if (m) {
        remember(orgId, m.items);
        // A member who moved between pages meanwhile is shown once.
        setMembers((old) => [...(old ?? []), ...m.items.filter((x) => !old?.some((o) => o.userId === x.userId))]);
        setCursor(m.next);
      }
      if (i) invitations.show(i, true);
    } catch (e) {
      setError(sentence(e));
    } finally {
      setLoadingMore(false);
    }
  };

  return {
    query,
    typed,
    /** The search box's text: searched for once typing pauses (`now`: at once, as on Enter). */
    type: (text: string, now = false) => {
      setTyped(text);
      clearTimeout(timer.current);
      const apply = () => change({ ...latest.current, q: text.trim().slice(0, 200) });
      if (now) apply();
      else timer.current = setTimeout(apply, 250);
    },
    /** Changes the filters or the sort (the search stays). */
    set: (changes: Partial<Omit<MemberQuery, "q">>) => change({ ...latest.current, ...changes }),
    members,
    setMembers,
    invitations,
    /** The invitations the table shows of those read. */
    shownInvitations: (invitations.items ?? []).filter(invitationShown),
    wantsMembers,
    wantsInvitations,
    loading,
    loadingMore,
    moreToLoad: !!((wantsMembers && cursor) || (wantsInvitations && invitations.next)),
    loadMore,
    refresh,
    error,
    setError,
  };
}

export type MemberList = ReturnType<typeof useMemberQuery>;
