// Display names of an organization's members, for pages that show user ids (the inviter of a
// member, the actor and target of audit events, who joined through a link). Names come from
// the member pages other screens already loaded (`remember`) and, for the rest, from one
// `GET /orgs/{orgId}/members?userId=a&userId=b…` per 100 ids (`resolveNames`, or on its own
// after a render asked for names it did not know). A removed member cannot be resolved: their
// id is shown.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok, type Member } from "../../api/client";
import { displayName } from "../../session";

/** orgId → userId → name (`null`: looked up, not a member). */
const cache = new Map<string, Map<string, string | null>>();
/** orgId + userId → the look-up under way. */
const inFlight = new Map<string, Promise<void>>();

function names(orgId: string): Map<string, string | null> {
  let map = cache.get(orgId);
  if (!map) cache.set(orgId, (map = new Map()));
  return map;
}

/** Feeds members a page has loaded anyway into the cache. */
export function remember(orgId: string, members: Member[]): void {
  const map = names(orgId);
  for (const m of members) map.set(m.userId, displayName(m));
}

/** The ids of other kinds of items (invitations, links, events) are never member ids, nor
 * are service callers (`service:{clientId}`). */
const NOT_A_USER = /^((org|inv|lnk|evt)_[0-9a-f]{32}|service:.*)$/;

/** Looks up the names of `ids` not known yet: one request per 100 of them. Resolves when
 * they are known, or known not to be members (a failed look-up counts as that: their ids
 * stand in, and no render asks again). */
export function resolveNames(orgId: string, ids: Iterable<string>): Promise<void> {
  const map = names(orgId);
  const waits: Promise<void>[] = [];
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    if (!id || map.has(id) || NOT_A_USER.test(id)) continue;
    const running = inFlight.get(`${orgId} ${id}`);
    if (running) waits.push(running);
    else missing.push(id);
  }
  for (let i = 0; i < missing.length; i += 100) {
    const batch = missing.slice(i, i + 100);
    const done = ok(api.GET("/orgs/{orgId}/members", { params: { path: { orgId }, query: { userId: batch } } })).then(
      (page) => remember(orgId, page.members),
      () => undefined,
    );
    const settled = done.then(() =>
      batch.forEach((id) => {
        inFlight.delete(`${orgId} ${id}`);
        if (!map.has(id)) map.set(id, null);
      }),
    );
    batch.forEach((id) => inFlight.set(`${orgId} ${id}`, settled));
    waits.push(settled);
  }
  return Promise.all(waits).then(() => undefined);
}

/**
 * `name(userId)`: the member's display name, or the id itself while it is being looked up
 * or when it cannot be resolved. The component re-renders when looked-up names arrive.
 * Also: `known(userId)`, whether a name was found; `settled(userId)`, whether the look-up is
 * over (found or not), so that a sentence naming the person can wait for it.
 */
export function useNames(orgId: string): {
  name: (userId: string) => string;
  known: (userId: string) => boolean;
  settled: (userId: string) => boolean;
} {
  const [, tick] = useState(0);
  const wanted = useRef(new Set<string>());
  const mounted = useRef(true);
  const map = names(orgId);
  wanted.current.clear();

  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  // After every render: look up the ids this render asked for and did not know.
  useEffect(() => {
    const missing = [...wanted.current].filter((id) => !map.has(id) && !inFlight.has(`${orgId} ${id}`));
    if (missing.length > 0) void resolveNames(orgId, missing).then(() => mounted.current && tick((n) => n + 1));
  });

  const name = (userId: string): string => {
    const found = map.get(userId);
    if (found === undefined && !NOT_A_USER.test(userId)) wanted.current.add(userId);
    return found ?? userId;
  };
  return {
    name,
    known: (userId) => typeof map.get(userId) === "string",
    settled: (userId) => {
      name(userId);
      return map.has(userId);
    },
  };
}
