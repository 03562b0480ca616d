// Who joined through each invite link, from the audit trail: an `invitation.accepted` event
// whose `details.via` is "link" names the link by its `target` and the joiner by
// `details.userId` (and their address, `details.email`). Only those events are read
// (`action=invitation.accepted`), newest first, and only as far back as the oldest listed
// link was created: nobody joined through a link before it existed. (No `from`: a cursor is
// bound to its query, and an older page of links reads on with the same one.) The joiners'
// names are looked up in one call before the rows show them.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok, type AuditEvent, type InviteLink } from "../../api/client";
import { resolveNames } from "../members/names";

export type Join = { userId: string; email: string | null; at: string };

const PAGE = 100;

/** Adds the link joins of one page of events to `into`, by link id (newest first, as the
 * page). */
function joinsOf(events: AuditEvent[], into: Map<string, Join[]>): void {
  for (const e of events) {
    if (e.action !== "invitation.accepted" || !e.target) continue;
    const d = (e.details ?? {}) as Record<string, unknown>;
    if (d.via !== "link") continue;
    const userId = typeof d.userId === "string" && d.userId ? d.userId : e.actor;
    const email = typeof d.email === "string" && d.email ? d.email : null;
    const list = into.get(e.target) ?? [];
    list.push({ userId, email, at: e.at });
    into.set(e.target, list);
  }
}

type Reading = { cursor: string | null | undefined; oldest: number; found: Map<string, Join[]>; running: Promise<void> };
const fresh = (): Reading => ({ cursor: undefined, oldest: Infinity, found: new Map(), running: Promise.resolve() });

/**
 * `joins.get(linkId)`: the people who joined through that link, in the order they joined.
 * `ready` once the trail is read back to the oldest of `links`; `failed` when it could not be
 * read. `generation` changes when the list was read again (from its start): the trail is then
 * read again too, for people who joined meanwhile; more links (an older page) read on.
 */
export function useJoins(
  orgId: string,
  links: InviteLink[] | null,
  generation: number,
): { joins: Map<string, Join[]>; ready: boolean; failed: boolean } {
  const [joins, setJoins] = useState<Map<string, Join[]>>(new Map());
  const [readTo, setReadTo] = useState<number | null>(null); // how far back the trail was read
  const [failed, setFailed] = useState(false);
  const reading = useRef<Reading>(fresh());
  // The oldest link's creation: reading stops there. None listed: nothing to read.
  const since = links && links.length > 0 ? Math.min(...links.map((l) => Date.parse(l.createdAt))) : null;

  useEffect(() => {
    reading.current = fresh();
    setReadTo(null);
  }, [orgId, generation]);

  useEffect(() => {
    if (since === null) return;
    const r = reading.current;
    // One reading at a time: a later call goes on from where the last one stopped.
    r.running = r.running.then(async () => {
      try {
        while (r.cursor !== null && r.oldest >= since) {
          const page = await ok(
            api.GET("/orgs/{orgId}/audit", {
              params: {
                path: { orgId },
                query: { limit: PAGE, cursor: r.cursor, action: "invitation.accepted" },
              },
            }),
          );
          joinsOf(page.events, r.found);
          r.cursor = page.nextCursor;
          // A filtered page may hold no event and still carry a cursor.
          const last = page.events.at(-1);
          if (last) r.oldest = Date.parse(last.at);
          else if (r.cursor === null) r.oldest = -Infinity;
        }
        await resolveNames(orgId, [...r.found.values()].flat().map((j) => j.userId));
        if (reading.current !== r) return;
        setJoins(new Map([...r.found].map(([id, list]) => [id, [...list].reverse()])));
        setReadTo(r.cursor === null ? -Infinity : r.oldest);
        setFailed(false);
      } catch {
        if (reading.current === r) setFailed(true);
      }
    });
  }, [orgId, generation, since]);

  const ready = links !== null && (since === null || (readTo !== null && readTo < since));
  return { joins, ready, failed };
}
