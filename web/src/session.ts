// The signed-in user of this tab. Kept in sessionStorage, so every tab has its own user
// (switch users in a second tab) and closing the tab signs out.
import { navigate } from "./router";

export type User = { sub: string; email?: string; name?: string; emailVerified: boolean };
export type Session = { token: string; user: User };

const KEY = "roster.session";

export function session(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

/** Local sign-in: a dev token from the local gateway (the deployed app uses the authorizer's issuer). */
export async function signIn(user: User): Promise<void> {
  const response = await fetch("/_local/dev-token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(user),
  });
  if (!response.ok) throw new Error(`sign-in failed (${response.status})`);
  const { token } = (await response.json()) as { token: string };
  sessionStorage.setItem(KEY, JSON.stringify({ token, user }));
}

/** Signs out; `next` is where signing in again returns to. */
export function signOut(next?: string): void {
  sessionStorage.removeItem(KEY);
  navigate(next ? `/sign-in?next=${encodeURIComponent(next)}` : "/sign-in");
}

export function displayName(user: { name?: string | null; email?: string | null; sub?: string; userId?: string }): string {
  return user.name || user.email || user.sub || user.userId || "";
}
