// Display names of an organization's members, for pages that show user ids (the inviter of a
// member, the actor and target of audit events). The API has no bulk lookup by id, so names
// come from the member pages other screens already loaded (`remember`) and, for the rest,
// from `GET /orgs/{orgId}/members/{userId}` one id at a time. A removed member cannot be
// resolved: their id is shown.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok, type Member } from "../../api/client";
import { displayName } from "../../session";

/** orgId → userId → name (`null`: looked up, not a member). */
const cache = new Map<string, Map<string, string | null>>();
const inFlight = new Set<string>();

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

/** The ids of other kinds of items (invitations, links, events) are never member ids. */
const NOT_A_USER = /^(org|inv|lnk|evt)_[0-9a-f]{32}$/;

async function lookUp(orgId: string, ids: string[]): Promise<void> {
  const map = names(orgId);
  // A few at a time: an audit page names a handful of people.
  for (let i = 0; i < ids.length; i += 8) {
    await Promise.all(
      ids.slice(i, i + 8).map(async (userId) => {
        const key = `${orgId} ${userId}`;
        inFlight.add(key);
        try {
          const { member } = await ok(api.GET("/orgs/{orgId}/members/{userId}", { params: { path: { orgId, userId } } }));
          map.set(userId, displayName(member));
        } catch {
          map.set(userId, null);
        } finally {
          inFlight.delete(key);
        }
      }),
    );
  }
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
    if (missing.length > 0) void lookUp(orgId, missing).then(() => mounted.current && tick((n) => n + 1));
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
