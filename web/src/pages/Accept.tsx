// The page an invitation links to (`/invite?token=...`), signed in or not. It shows what the
// invitation offers (`POST /invitations/preview` never consumes it), then Accept or Decline
// when signed in, or "Sign in to accept" and "Create account" (returning here, the invited
// address prefilled: on the provider's pages as its login_hint when one is configured).
// Whatever would make Accept fail is said before it is offered, with the way out instead:
// an invitation that no longer admits (expired, used up, or revoked because whoever made it
// left, was suspended or demoted) and who to ask; an email invitation for another address
// than the signed-in one, or for an address the sign-in provider has not confirmed (read
// from the token's claims as the API reads them); a member (already in, whatever the
// invitation's state) gets the way in, a suspended one the reason.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, ok, type Preview } from "../api/client";
import { sentence } from "../api/messages";
import { dateTime, withArticle } from "../format";
import { navigate, onLinkClick } from "../router";
import { claimsOf, clearSession, displayName, session, signOut, type Session } from "../session";
import { oidc } from "../config";
import { startSignIn } from "../auth/oidc";
import { ErrorText } from "../components/Status";
import { HomeLink } from "../components/HomeLink";
import { revokedForInvitee } from "../revoked";

/** Refusals after which trying again cannot help: the page offers no more buttons. */
const FINAL = new Set(["invitation_expired", "invitation_exhausted", "invitation_not_found", "suspended", "already_in_org"]);

type Failure = { code: string; text: string };

/** The signed-in reader's place in the invitation's organization. */
type Standing = "member" | "suspended" | "none";

/** The heading of a page whose invitation cannot be opened. */
const HEADING: Record<string, string> = {
  invitation_incomplete: "Incomplete invitation link",
  invitation_expired: "Invitation expired",
  invitation_exhausted: "Invite link used up",
  invitation_not_found: "Invitation no longer valid",
};

/** The address the session's token names, and whether the token proves it: as the API reads
 * it (API.md, "Identity"), only an `email_verified` of `true` (or Cognito's `"true"`) does. */
function addressOf(me: Session): { email?: string; verified: boolean } {
  const claims = claimsOf(me.token) ?? {};
  const email = typeof claims.email === "string" ? claims.email.trim() : "";
  return { ...(email ? { email } : {}), verified: claims.email_verified === true || claims.email_verified === "true" };
}

/** An address as the API compares them: case-insensitively, its domain in ASCII (punycode). */
function canonical(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 0) return address.toLowerCase();
  let domain = address.slice(at + 1);
  try {
    domain = new URL(`http://${domain}`).hostname;
  } catch {
    // Not a host name: compared as it is.
  }
  return `${address.slice(0, at)}@${domain}`.toLowerCase();
}

/** Why the signed-in account cannot accept an email invitation, before anyone presses Accept
 * (null: nothing known against it; the API still decides). */
function accountProblem(preview: Preview, me: Session): "other_address" | "unverified" | null {
  if (preview.kind !== "email" || !preview.email) return null;
  const mine = addressOf(me);
  if (!mine.email || canonical(mine.email) !== canonical(preview.email)) return "other_address";
  return mine.verified ? null : "unverified";
}

/** "This invitation is for a@x. You are signed in as b@x." */
function OtherAddress({ preview, me }: { preview: Preview; me: Session }) {
  const mine = addressOf(me).email;
  return (
    <>
      This invitation is for <strong>{preview.email}</strong>. You are signed in as{" "}
      {mine ? <strong>{mine}</strong> : <>{displayName(me.user)}, with no email address</>}.
    </>
  );
}

export function Accept({ token }: { token: string }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [opening, setOpening] = useState<Failure | null>(null);
  const [busy, setBusy] = useState<"accept" | "decline" | null>(null);
  const [declined, setDeclined] = useState(false);
  const [asked, setAsked] = useState<Standing | null>(null);
  const me = session();
  const signedIn = me !== null;
  const standing: Standing | null = signedIn ? asked : "none";

  useEffect(() => {
    setPreview(null);
    setOpening(null);
    setFailure(null);
    if (!token) {
      setOpening({ code: "invitation_incomplete", text: sentence(new ApiError(0, "invitation_incomplete", "")) });
      return;
    }
    ok(api.POST("/invitations/preview", { body: { token } })).then(setPreview, (e) =>
      setOpening({ code: e instanceof ApiError ? e.code : "unknown", text: sentence(e) }),
    );
  }, [token]);

  // Membership comes first, as at the API: a member just needs the way in, whatever the
  // invitation's state and whichever address it was sent to.
  const orgId = preview?.org.id;
  useEffect(() => {
    setAsked(null);
    if (!orgId || !signedIn) return;
    let live = true;
    ok(api.GET("/orgs/{orgId}", { params: { path: { orgId } } })).then(
      () => live && setAsked("member"),
      (e) => live && setAsked(e instanceof ApiError && e.code === "suspended" ? "suspended" : "none"),
    );
    return () => {
      live = false;
    };
  }, [orgId, signedIn]);

  const here = `/invite?token=${encodeURIComponent(token)}`;
  const signInHref = (email?: string) =>
    `/sign-in?next=${encodeURIComponent(here)}${email ? `&email=${encodeURIComponent(email)}` : ""}`;
  const provider = oidc();
  /** Signing in (or up) from here: straight to the provider's page when there is one, else
   * the local sign-in form; either way back to this page. */
  const toSignIn = (how: { create?: boolean; fresh?: boolean }) => (event: MouseEvent) => {
    if (!provider) return onLinkClick(event);
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    void startSignIn(provider, { next: here, loginHint: preview?.email, ...how });
  };
  /** Signing out here and in again (the provider asked for the password, not its session):
   * another account, or the same once the provider has confirmed its address. */
  const switchAccount = (event: MouseEvent) => {
    if (provider) {
      clearSession();
      toSignIn({ fresh: true })(event);
      return;
    }
    signOut();
    navigate(signInHref(preview?.email), true);
  };
  // With sign-up closed to all but invited addresses, a link (which names no address)
  // admits no new account: offering one would end in the provider's refusal.
  const canCreate = Boolean(preview?.email) || provider?.selfSignUp !== false;

  if (opening) {
    return (
      <section class="narrow card accept">
        <h1 tabIndex={-1}>{HEADING[opening.code] ?? "Invitation unavailable"}</h1>
        <ErrorText message={opening.text} />
        {me && <HomeLink />}
      </section>
    );
  }
  // Until the reader's membership is known, nothing is offered that it might change.
  if (!preview || standing === null) {
    return (
      <section class="narrow card accept">
        <h1 tabIndex={-1}>Opening invitation…</h1>
      </section>
    );
  }

  const org = preview.org.name;
  const role = withArticle(preview.role);
  const inviter = preview.invitedBy.name;
  const open = preview.status === "pending" || preview.status === "active";

  if (me && standing === "member") {
    return <AlreadyMember preview={preview} me={me} onSwitch={open && accountProblem(preview, me) === "other_address" ? switchAccount : null} />;
  }
  if (!open) {
    return <Closed preview={preview} standing={standing} signedIn={signedIn} />;
  }

  const act = async (what: "accept" | "decline") => {
    setBusy(what);
    setFailure(null);
    try {
      if (what === "accept") {
        const joined = await ok(api.POST("/invitations/accept", { body: { token } }));
        navigate(`/o/${joined.org.id}/members`);
        return;
      }
      await ok(api.POST("/invitations/decline", { body: { token } }));
      setDeclined(true);
    } catch (e) {
      setFailure({ code: e instanceof ApiError ? e.code : "unknown", text: sentence(e, { invitedEmail: preview.email }) });
    }
    setBusy(null);
  };

  if (declined) {
    return (
      <section class="narrow card accept">
        <h1 tabIndex={-1}>Invitation declined</h1>
        <p role="status">You declined the invitation. {inviter ? `${inviter} can` : "An admin can"} invite you again later.</p>
        <HomeLink />
      </section>
    );
  }

  const problem = me ? accountProblem(preview, me) : null;
  const final = failure && FINAL.has(failure.code);
  const switchButton = (label: string) => (
    <div class="actions start">
      <button type="button" class="primary" onClick={switchAccount}>
        {label}
      </button>
    </div>
  );
  return (
    <section class="narrow card accept">
      <p class="eyebrow">{preview.kind === "email" ? "Invitation" : "Invite link"}</p>
      <h1 tabIndex={-1}>Join {org}</h1>
      <p class="lead">
        {inviter ? `${inviter} invited you` : "You have been invited"} to join <strong>{org}</strong> as {role}.
      </p>
      <ul class="facts-list">
        {preview.email && (
          <li>
            Sent to <strong>{preview.email}</strong>
          </li>
        )}
        <li>
          This {preview.kind === "email" ? "invitation" : "invite link"} expires on{" "}
          <time dateTime={preview.expiresAt}>{dateTime(preview.expiresAt)}</time>.
        </li>
      </ul>
      {me ? (
        standing === "suspended" ? (
          <>
            <p class="error">{sentence(new ApiError(403, "suspended", ""))}</p>
            <HomeLink />
          </>
        ) : problem === "other_address" ? (
          <>
            <p class="error">
              <OtherAddress preview={preview} me={me} />
            </p>
            {switchButton("Sign out and use another account")}
          </>
        ) : problem === "unverified" ? (
          <>
            <p class="error">
              Your sign-in provider has not confirmed that you own <strong>{preview.email}</strong>, so this invitation
              can't be accepted with this account yet. Confirm your address with your provider, or sign in another way.
            </p>
            {switchButton("Sign out and sign in again")}
          </>
        ) : (
          <>
            <p class="muted signed-in">
              Signed in as <strong>{displayName(me.user)}</strong>
              {me.user.email && me.user.name ? ` (${me.user.email})` : ""}.
            </p>
            <ErrorText message={failure?.text} />
            {failure?.code === "email_mismatch" ? (
              switchButton("Sign out and use another account")
            ) : final ? (
              <HomeLink />
            ) : (
              <div class="actions start">
                <button type="button" class="primary" disabled={busy !== null} onClick={() => act("accept")}>
                  {busy === "accept" ? "Joining…" : "Accept"}
                </button>
                {preview.kind === "email" && (
                  <button type="button" class="secondary" disabled={busy !== null} onClick={() => act("decline")}>
                    {busy === "decline" ? "Declining…" : "Decline"}
                  </button>
                )}
              </div>
            )}
          </>
        )
      ) : (
        <>
          <ErrorText message={failure?.text} />
          <p class="muted">
            {preview.email
              ? `No account yet? Create one with ${preview.email}, then accept.`
              : canCreate
                ? "No account yet? Create one, then accept."
                : "New accounts are by email invitation only: sign in with your account, or ask whoever shared this link to invite your address."}
          </p>
          <div class="actions start">
            <a class="button primary" href={signInHref(preview.email)} onClick={toSignIn({})}>
              Sign in to accept
            </a>
            {canCreate && (
              <a class="button secondary" href={signInHref(preview.email)} onClick={toSignIn({ create: true })}>
                Create account
              </a>
            )}
          </div>
        </>
      )}
    </section>
  );
}

/** What an invitation's state is, in a sentence, and its page's heading. */
function stateOf(preview: Preview): { heading: string; lead: string } {
  const org = preview.org.name;
  const inviter = preview.invitedBy.name;
  const what = preview.kind === "email" ? "invitation" : "invite link";
  const title = preview.kind === "email" ? "Invitation" : "Invite link";
  // A string: statuses the API may add later still get a page (the last line).
  const status: string = preview.status;
  const [heading, lead] =
    status === "expired"
      ? [`${title} expired`, `This ${what} has expired.`]
      : status === "used_up"
        ? [`${title} used up`, `This ${what} has been used as many times as allowed.`]
        : status === "accepted"
          ? ["Invitation already accepted", "This invitation has already been accepted."]
          : status === "declined"
            ? ["Invitation declined", "This invitation was declined."]
            : status === "revoked"
              ? [`${title} no longer works`, revokedForInvitee(preview.revokedReason, inviter, org, what)]
              : [`${title} no longer works`, `This ${what} no longer works.`];
  return { heading, lead };
}

/** The page of a member, whatever the invitation's state: the way in, nothing to accept. An
 * email invitation that is still open for another address also offers to switch accounts. */
function AlreadyMember({ preview, me, onSwitch }: { preview: Preview; me: Session; onSwitch: ((event: MouseEvent) => void) | null }) {
  const org = preview.org.name;
  const open = preview.status === "pending" || preview.status === "active";
  return (
    <section class="narrow card accept">
      <p class="eyebrow">{preview.kind === "email" ? "Invitation" : "Invite link"}</p>
      <h1 tabIndex={-1}>You're already a member of {org}</h1>
      <p class="lead">
        {onSwitch ? <OtherAddress preview={preview} me={me} /> : open ? "There is nothing to accept." : stateOf(preview).lead}
      </p>
      {!onSwitch && (
        <p class="muted signed-in">
          Signed in as <strong>{displayName(me.user)}</strong>
          {me.user.email && me.user.name ? ` (${me.user.email})` : ""}.
        </p>
      )}
      <div class="actions start">
        <a class="button primary" href={`/o/${preview.org.id}/members`} onClick={onLinkClick}>
          Open {org}
        </a>
      </div>
      {onSwitch && (
        <p class="muted signed-in">
          Is {preview.email} yours too?{" "}
          <button type="button" class="link" onClick={onSwitch}>
            Sign out and use another account
          </button>
        </p>
      )}
    </section>
  );
}

/** The page of an invitation that no longer admits anyone: what happened, and who to ask. */
function Closed({ preview, standing, signedIn }: { preview: Preview; standing: Standing; signedIn: boolean }) {
  const org = preview.org.name;
  const inviter = preview.invitedBy.name;
  // Only an owner may grant the owner and admin roles.
  const grantor = preview.role === "owner" || preview.role === "admin" ? "owner" : "admin";
  // A revoked one's inviter left, or may no longer invite with this role: someone else must.
  const inviterCanHelp = preview.status !== "revoked" || !preview.revokedReason || preview.revokedReason === "revoked";
  const asked = inviterCanHelp && (inviter ?? (preview.kind === "email" ? "the person who invited you" : null));
  const again = preview.status === "expired" || preview.status === "revoked" || preview.kind === "link" ? "for a new one" : "to invite you again";
  const ask = asked
    ? `Ask ${asked} or another ${grantor} of ${org} ${again}.`
    : `Ask ${grantor === "owner" ? "an owner" : "an admin"} of ${org} ${again}.`;
  const { heading, lead } = stateOf(preview);

  return (
    <section class="narrow card accept">
      <h1 tabIndex={-1}>{heading}</h1>
      <p class="lead">
        {lead} {standing === "suspended" ? sentence(new ApiError(403, "suspended", "")) : ask}
      </p>
      <ul class="facts-list">
        <li>
          {inviter ? `${inviter} invited you` : "You were invited"} to join <strong>{org}</strong> as{" "}
          {withArticle(preview.role)}.
        </li>
        {preview.email && (
          <li>
            Sent to <strong>{preview.email}</strong>
          </li>
        )}
        {preview.status === "expired" && (
          <li>
            Expired on <time dateTime={preview.expiresAt}>{dateTime(preview.expiresAt)}</time>.
          </li>
        )}
      </ul>
      {signedIn && <HomeLink />}
    </section>
  );
}
