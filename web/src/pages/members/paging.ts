// Reading a filtered list page by page for the members table.

/** Rows a page of the table asks for. */
export const PAGE = 50;

/** Pages of a filtered list may hold few or no matches (the API filters after paging, and
 * invitations are filtered here): read on until a page's worth of matches, the end of the
 * list, or a few pages, whichever comes first. "Load more" goes on from there. */
export async function fill<T>(
  read: (cursor?: string) => Promise<{ items: T[]; next: string | null }>,
  keep: (item: T) => boolean,
  cursor?: string,
): Promise<{ items: T[]; next: string | null }> {
  const items: T[] = [];
  let next = cursor ?? null;
  for (let round = 0; round < 10; round++) {
    const page = await read(next ?? undefined);
    items.push(...page.items);
    next = page.next;
    if (!next || items.filter(keep).length >= PAGE) break;
  }
  return { items, next };
}
