// The signed-in user of this tab. Kept in sessionStorage, so every tab has its own user
// (switch users in a second tab) and closing the tab signs out. The token is a JWT: a dev
// token of the local gateway, or the ID token of the OpenID Connect provider
// (`auth/oidc.ts`); either way the API checks it, the app only reads its claims.
import { navigate } from "./router";

export type User = { sub: string; email?: string; name?: string; emailVerified: boolean };
export type Session = { token: string; user: User };

const KEY = "roster.session";

/** The session of this tab; none once its token has expired. */
export function session(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    if (expiresAt(s.token) <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

/** The claims of a JWT (not verified here: the API's authorizer checks the signature). */
export function claimsOf(token: string): Record<string, unknown> | null {
  try {
    const part = token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** When the token stops working (ms since the epoch); a token without `exp` never does. */
export function expiresAt(token: string): number {
  const exp = claimsOf(token)?.exp;
  return typeof exp === "number" ? exp * 1000 : Infinity;
}

/** Starts the tab's session with a token whose claims name the user. */
export function startSession(token: string, claims: Record<string, unknown>): void {
  const text = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  const user: User = {
    sub: String(claims.sub),
    email: text(claims.email),
    name: text(claims.name),
    // As the API reads it: only an explicit false (Cognito may send the string) is unverified.
    emailVerified: claims.email_verified === true || claims.email_verified === "true",
  };
  sessionStorage.setItem(KEY, JSON.stringify({ token, user }));
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

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** Ends the tab's session (not the identity provider's: see `logOut`); `next` is where
 * signing in again returns to. */
export function signOut(next?: string): void {
  clearSession();
  navigate(next ? `/sign-in?next=${encodeURIComponent(next)}` : "/sign-in");
}

export function displayName(user: { name?: string | null; email?: string | null; sub?: string; userId?: string }): string {
  return user.name || user.email || user.sub || user.userId || "";
}
