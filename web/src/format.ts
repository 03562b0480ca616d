const DATE = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });
const DATE_TIME = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

export const date = (iso: string): string => DATE.format(new Date(iso));
export const dateTime = (iso: string): string => DATE_TIME.format(new Date(iso));

/** "a member", "an admin". */
export function withArticle(role: string): string {
  return `${/^[aeiou]/i.test(role) ? "an" : "a"} ${role}`;
}

/** "Ana", "Ana and Bob", "Ana, Bob and Cy". */
export function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** A total as the API gives it (an exact decimal string, never a float) with its thousands
 * grouped: "12345.5" → "12,345.5". */
export function amount(total: string): string {
  const parts = /^(-?)(\d+)(\.\d+)?$/.exec(total);
  if (!parts) return total;
  return `${parts[1]}${parts[2]!.replace(/\B(?=(\d{3})+$)/g, ",")}${parts[3] ?? ""}`;
}
