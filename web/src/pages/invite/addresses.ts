// Email addresses as people type or paste them into the invite dialog: where one ends, what
// is plainly not an address, and likely typos of common domains. The API stays the judge of
// what it accepts (its rules are finer, e.g. no two dots in a row): this only catches what
// can be said before sending.

/** One address, with the display name it was given in `Name <address>`, if any. */
export type Entry = { email: string; name?: string };

/** How much of the text is taken: while typing, the word at the end may not be finished;
 * a paste is finished but may end in the first words of a name (`Victor Viewer`); at the
 * end (Enter, leaving the field, sending) everything is taken. */
export type Mode = "typing" | "paste" | "final";

/**
 * The addresses of `text` and what is left to keep typing. Addresses are separated by
 * commas, semicolons, line breaks and spaces; `Victor Viewer <victor@x.test>` and
 * `"Viewer, Victor" <victor@x.test>` are one address each.
 */
export function split(text: string, mode: Mode): { entries: Entry[]; rest: string } {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  let angled = false;
  for (const ch of text) {
    if (ch === '"' && !angled) quoted = !quoted;
    else if (ch === "<" && !quoted) angled = true;
    else if (ch === ">" && !quoted) angled = false;
    if (!quoted && !angled && (ch === "," || ch === ";" || ch === "\n" || ch === "\r")) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  const entries = parts.flatMap((part) => words(part, "final").entries);
  const last = words(current, mode);
  return { entries: [...entries, ...last.entries], rest: last.rest };
}

const TOKEN = /"[^"]*"?|<[^>]*>?|[^\s"<]+/g;

/** The addresses of one comma-free segment, separated by spaces. */
function words(segment: string, mode: Mode): { entries: Entry[]; rest: string } {
  const entries: Entry[] = [];
  let name: string[] = [];
  let pendingFrom = 0; // where the words not taken yet begin
  const orphans = () => {
    // Words that never met an address are shown as what they are (not an address).
    for (const word of name) entries.push({ email: word });
    name = [];
  };
  for (const match of segment.matchAll(TOKEN)) {
    const token = match[0];
    const end = match.index + token.length;
    const finished = end < segment.length; // whitespace follows
    if (token.startsWith("<")) {
      if (!token.endsWith(">") || token.length < 2) {
        if (mode !== "final") return { entries, rest: segment.slice(pendingFrom).trimStart() };
        orphans();
        entries.push({ email: token.replace(/^<|>$/g, "").trim() });
        pendingFrom = end;
        continue;
      }
      const display = name.join(" ").replace(/"/g, "").trim();
      entries.push(display ? { email: token.slice(1, -1).trim(), name: display } : { email: token.slice(1, -1).trim() });
      name = [];
      pendingFrom = end;
    } else if (token.startsWith('"') || !token.includes("@")) {
      name.push(token);
    } else {
      if (mode === "typing" && !finished) return { entries, rest: segment.slice(pendingFrom).trimStart() };
      orphans();
      entries.push({ email: token });
      pendingFrom = end;
    }
  }
  if (name.length > 0) {
    if (mode !== "final") return { entries, rest: segment.slice(pendingFrom).trimStart() };
    orphans();
  }
  return { entries, rest: "" };
}

/** Looks like an address: something, @, and a domain with a dot and a top-level part. */
export function plausible(email: string): boolean {
  const at = email.lastIndexOf("@");
  if (at < 1 || email.indexOf("@") !== at) return false;
  const domain = email.slice(at + 1);
  return (
    !/[\s<>()[\]\\,;:"]/.test(email) &&
    /^[^.]+(\.[^.]+)*\.(?!\d+$)[^.]{2,}$/u.test(domain) &&
    !domain.startsWith("-")
  );
}

/** Domains a typo is checked against, and (with them) domains that are never a typo. */
const COMMON = ["gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "protonmail.com", "example.com"];
const KNOWN = new Set([...COMMON, "mail.com", "email.com", "ymail.com", "gmx.com", "gmx.net", "live.com", "msn.com", "me.com", "mac.com", "aol.com"]);
/** Top-level domains that are not, and what they are a slip for. */
const TLD_SLIPS: Record<string, string> = { con: "com", cmo: "com", ocm: "com", vom: "com", xom: "com", comm: "com", coom: "com", nte: "net", ogr: "org", rog: "org" };

/** The domain `email` probably meant, when its own looks like a slip of a common one
 * (`gmial.com`, `gmail.con`, `exmaple.con`); else null. */
export function suggestion(email: string): string | null {
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  if (!domain || KNOWN.has(domain)) return null;
  const labels = domain.split(".");
  const slip = TLD_SLIPS[labels.at(-1)!];
  const fixed = slip ? [...labels.slice(0, -1), slip].join(".") : domain;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const common of COMMON) {
    const d = distance(fixed, common);
    // Short names have many real neighbours: one slip for them, two for the longer ones.
    if (d > 0 && d <= (common.length >= 9 ? 2 : 1) && d < bestDistance) {
      best = common;
      bestDistance = d;
    }
  }
  const meant = best ?? fixed;
  return meant === domain ? null : meant;
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** `email` with its domain replaced. */
export function withDomain(email: string, domain: string): string {
  return `${email.slice(0, email.lastIndexOf("@") + 1)}${domain}`;
}
