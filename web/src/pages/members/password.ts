// A temporary password for "Add user", made in the browser from crypto.getRandomValues. It
// must pass any pool policy the API checks it against (API.md "Accounts": the template's pool
// asks for 12 characters with lower- and uppercase letters and a number; Cognito's default
// adds a symbol), so it has 16 characters with one of each class. A person may have to read
// it out or type it: letters and digits that look alike (O and 0, l, I and 1) are left out,
// and the symbols are ones every keyboard has, all in Cognito's set.

const LOWER = "abcdefghijkmnopqrstuvwxyz";
const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS = "23456789";
const SYMBOLS = "!#$%&*+-=?@";
const ALL = LOWER + UPPER + DIGITS + SYMBOLS;

export const GENERATED_LENGTH = 16;

/** A uniformly random index below `n`, without the bias of a plain modulo. */
function below(n: number): number {
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  const word = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(word);
    if (word[0]! < limit) return word[0]! % n;
  }
}

const pick = (set: string) => set[below(set.length)]!;

/** A new password: one character of each class, the rest from all of them, shuffled. */
export function generatePassword(length = GENERATED_LENGTH): string {
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  // Fisher–Yates, so that the classes' characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = below(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
}
