// Sign-in with an OpenID Connect provider (the stack's Cognito user pool, or the issuer the
// deployment names): authorization code with PKCE (S256), for a public client. The ID token
// becomes the session's bearer token; the API's JWT authorizer checks its signature, issuer
// and audience.
//
// What crosses to the provider is only the request's own parameters: `state` is random, and
// the path to return to after signing in (an accept page carries its invitation token in
// its address) stays in this tab's sessionStorage.
import { oidc, type OidcSignIn } from "../config";
import { localPath, navigate } from "../router";
import { claimsOf, clearSession, startSession } from "../session";

const PENDING = "roster.oidc";
type Pending = { state: string; nonce: string; verifier: string; next: string };

export const redirectUri = () => `${location.origin}/auth/callback`;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const random = (size: number) => base64url(crypto.getRandomValues(new Uint8Array(size)));

export type Start = {
  /** The app's path to come back to. */
  next: string;
  /** The address to prefill at the provider (an invitation's). */
  loginHint?: string | undefined;
  /** Sign up instead of signing in. */
  create?: boolean;
  /** Ask for the password even when the provider has a session (another account). */
  fresh?: boolean;
};

/** Leaves for the provider's sign-in (or sign-up) page; it returns to /auth/callback. */
export async function startSignIn(cfg: OidcSignIn, start: Start): Promise<void> {
  const verifier = random(32);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const pending: Pending = { state: random(16), nonce: random(16), verifier, next: localPath(start.next) };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));

  const url = new URL(start.create && cfg.signUpEndpoint ? cfg.signUpEndpoint : cfg.authorizationEndpoint);
  const params = url.searchParams;
  params.set("response_type", "code");
  params.set("client_id", cfg.clientId);
  params.set("redirect_uri", redirectUri());
  params.set("scope", cfg.scope);
  params.set("state", pending.state);
  params.set("nonce", pending.nonce);
  params.set("code_challenge", challenge);
  params.set("code_challenge_method", "S256");
  if (start.loginHint) params.set("login_hint", start.loginHint);
  if (start.create && !cfg.signUpEndpoint) params.set("prompt", "create");
  else if (start.fresh) params.set("prompt", "login");
  location.assign(url.href);
}

/** A sign-in that came back refused or broken: what to tell the person, and where they were going. */
export class SignInError extends Error {
  constructor(
    message: string,
    readonly next: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** The provider's error codes in words (RFC 6749 4.1.2.1, OpenID Connect 3.1.2.6). */
function providerError(code: string): string {
  switch (code) {
    case "access_denied":
      return "The sign-in was cancelled or refused.";
    case "login_required":
    case "interaction_required":
    case "consent_required":
    case "account_selection_required":
      return "The sign-in service needs you to sign in again.";
    case "temporarily_unavailable":
    case "server_error":
      return "The sign-in service had a problem. Try again in a moment.";
    default:
      return "The sign-in service refused the request.";
  }
}

/** Finishes the sign-in on /auth/callback: checks `state`, exchanges the code, checks the ID
 * token's nonce and audience, and starts the session. Resolves to the path to return to. */
export async function finishSignIn(cfg: OidcSignIn, query: URLSearchParams): Promise<string> {
  let pending: Pending | null = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null") as Pending | null;
  } catch {
    // A damaged entry is no sign-in in progress.
  }
  sessionStorage.removeItem(PENDING); // one use, whatever happens next
  const state = query.get("state");
  if (!pending || !state || state !== pending.state) {
    // Not an answer to a request of this tab (an old or forged link): nothing of it is used.
    throw new SignInError("This sign-in response does not belong to a sign-in started in this tab.", "/");
  }
  const next = pending.next;
  const error = query.get("error");
  if (error) throw new SignInError(providerError(error), next, query.get("error_description") ?? undefined);
  const code = query.get("code");
  if (!code) throw new SignInError("The sign-in service answered without a code.", next);

  let tokens: { id_token?: unknown; error?: unknown; error_description?: unknown };
  try {
    const response = await fetch(cfg.tokenEndpoint, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: redirectUri(),
        client_id: cfg.clientId,
        code_verifier: pending.verifier,
      }),
    });
    tokens = (await response.json()) as typeof tokens;
  } catch {
    throw new SignInError("The sign-in service could not be reached. Try again.", next);
  }
  if (tokens.error) {
    const detail = typeof tokens.error_description === "string" ? tokens.error_description : undefined;
    throw new SignInError("The sign-in service did not accept this sign-in. Try again.", next, detail);
  }
  const token = typeof tokens.id_token === "string" ? tokens.id_token : "";
  const claims = claimsOf(token);
  const aud = claims?.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  const ok =
    claims &&
    claims.nonce === pending.nonce &&
    audiences.includes(cfg.clientId) &&
    (audiences.length === 1 || claims.azp === cfg.clientId) &&
    typeof claims.sub === "string" &&
    claims.sub !== "" &&
    typeof claims.exp === "number" &&
    claims.exp * 1000 > Date.now();
  if (!ok) throw new SignInError("The sign-in service's answer was not for this sign-in. Try again.", next);
  startSession(token, claims);
  return next;
}

/** The "Sign out" button: ends this tab's session and, when the deployment says how, the
 * provider's (which then returns to the app's start page). */
export function logOut(): void {
  clearSession();
  const cfg = oidc();
  if (!cfg?.logout) {
    navigate("/sign-in");
    return;
  }
  const url = new URL(cfg.logout.endpoint);
  const back = `${location.origin}/`;
  url.searchParams.set("client_id", cfg.clientId);
  if (cfg.logout.style === "cognito") url.searchParams.set("logout_uri", back);
  // No id_token_hint: the ID token is the API's bearer token until it expires, and would
  // stay in the history and the provider's logs; client_id names the client instead.
  else url.searchParams.set("post_logout_redirect_uri", back);
  location.assign(url.href);
}
