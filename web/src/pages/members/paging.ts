// Reading a list page by page for the members table.

/** Rows a page of the table asks for. */
export const PAGE = 50;

/** Requests one action (a search, a filter, "Load more") makes at most. */
const READS = 3;

/** The server filters and searches before paging, but a page may still hold fewer items than
 * asked for (each request reads a bounded number of index items) and carry a cursor; and the
 * invitations' role is filtered here (`keep`). So read on until a page's worth of rows, the
 * end of the list, or a few requests, whichever comes first. "Load more" goes on from there. */
export async function fill<T>(
  read: (cursor?: string) => Promise<{ items: T[]; next: string | null }>,
  keep: (item: T) => boolean = () => true,
  cursor?: string,
): Promise<{ items: T[]; next: string | null }> {
  const items: T[] = [];
  let next = cursor ?? null;
  for (let round = 0; round < READS; round++) {
    const page = await read(next ?? undefined);
    items.push(...page.items);
    next = page.next;
    if (!next || items.filter(keep).length >= PAGE) break;
  }
  return { items, next };
}
