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
