// A sentence a page leaves for the page it sends the person to ("You were removed from X"),
// said once there in its status region. Kept in memory: a reload does not say it again.
let pending: string | null = null;

export function leaveNotice(text: string): void {
  pending = text;
}

/** The sentence left for this page, if any; it is said once. */
export function takeNotice(): string | null {
  const text = pending;
  pending = null;
  return text;
}
