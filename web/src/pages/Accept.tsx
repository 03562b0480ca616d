// The page an invitation links to (`/invite?token=...`), signed in or not. It shows what the
// invitation offers (`POST /invitations/preview` never consumes it), then Accept or Decline
// when signed in, or "Sign in to accept" and "Create account" (returning here, the invited
// address prefilled: on the provider's pages as its login_hint when one is configured).
// An invitation that no longer admits (expired, used up, or revoked because whoever made it
// left, was suspended or demoted) says so up front, and who to ask, with nothing to accept.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, ok, type Preview } from "../api/client";
import { sentence } from "../api/messages";
import { dateTime } from "../format";
import { navigate, onLinkClick } from "../router";
import { clearSession, displayName, session, signOut } from "../session";
import { oidc } from "../config";
import { startSignIn } from "../auth/oidc";
import { withArticle } from "../audit";
import { ErrorText } from "../components/Status";
import { HomeLink } from "../components/HomeLink";
import { revokedForInvitee } from "../revoked";

/** Refusals after which trying again cannot help: the page offers no more buttons. */
const FINAL = new Set(["invitation_expired", "invitation_exhausted", "invitation_not_found", "suspended", "already_in_org"]);

type Failure = { code: string; text: string };

/** The heading of a page whose invitation cannot be opened. */
const HEADING: Record<string, string> = {
  invitation_incomplete: "Incomplete invitation link",
  invitation_expired: "Invitation expired",
  invitation_exhausted: "Invite link used up",
  invitation_not_found: "Invitation no longer valid",
};

export function Accept({ token }: { token: string }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [opening, setOpening] = useState<Failure | null>(null);
  const [busy, setBusy] = useState<"accept" | "decline" | null>(null);
  const [declined, setDeclined] = useState(false);
  const me = session();

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
  if (!preview) {
    return (
      <section class="narrow card accept">
        <h1 tabIndex={-1}>Opening invitation…</h1>
      </section>
    );
  }

  const org = preview.org.name;
  const role = withArticle(preview.role);
  const inviter = preview.invitedBy.name;

  if (preview.status !== "pending" && preview.status !== "active") {
    return <Closed preview={preview} signedIn={me !== null} />;
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

  const final = failure && FINAL.has(failure.code);
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
        <>
          <p class="muted signed-in">
            Signed in as <strong>{displayName(me.user)}</strong>
            {me.user.email && me.user.name ? ` (${me.user.email})` : ""}.
          </p>
          <ErrorText message={failure?.text} />
          {failure?.code === "email_mismatch" ? (
            <div class="actions start">
              <button
                type="button"
                class="primary"
                onClick={(event) => {
                  if (provider) {
                    clearSession();
                    toSignIn({ fresh: true })(event);
                    return;
                  }
                  signOut();
                  navigate(signInHref(preview.email), true);
                }}
              >
                Sign out and use another account
              </button>
            </div>
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

/** The page of an invitation that no longer admits anyone: what happened, and who to ask. */
function Closed({ preview, signedIn }: { preview: Preview; signedIn: boolean }) {
  const org = preview.org.name;
  const inviter = preview.invitedBy.name;
  const what = preview.kind === "email" ? "invitation" : "invite link";
  const title = preview.kind === "email" ? "Invitation" : "Invite link";
  // Only an owner may grant the owner and admin roles.
  const grantor = preview.role === "owner" || preview.role === "admin" ? "owner" : "admin";
  // A revoked one's inviter left, or may no longer invite with this role: someone else must.
  const inviterCanHelp = preview.status !== "revoked" || !preview.revokedReason || preview.revokedReason === "revoked";
  const asked = inviterCanHelp && (inviter ?? (preview.kind === "email" ? "the person who invited you" : null));
  const again = preview.status === "expired" || preview.status === "revoked" || preview.kind === "link" ? "for a new one" : "to invite you again";
  const ask = asked
    ? `Ask ${asked} or another ${grantor} of ${org} ${again}.`
    : `Ask ${grantor === "owner" ? "an owner" : "an admin"} of ${org} ${again}.`;
  // Whether the reader is a member already (null: still asking), for a signed-in reader.
  const [member, setMember] = useState<boolean | null>(signedIn ? null : false);

  // Someone who joined already (with this or another invitation) just needs the way in.
  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    ok(api.GET("/orgs/{orgId}", { params: { path: { orgId: preview.org.id } } })).then(
      () => live && setMember(true),
      () => live && setMember(false),
    );
    return () => {
      live = false;
    };
  }, [preview.org.id, signedIn]);

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

  return (
    <section class="narrow card accept">
      <h1 tabIndex={-1}>{heading}</h1>
      <p class="lead">
        {lead} {member === null ? "" : member ? `You are a member of ${org}.` : ask}
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
      {member ? (
        <div class="actions start">
          <a class="button primary" href={`/o/${preview.org.id}/members`} onClick={onLinkClick}>
            Open {org}
          </a>
        </div>
      ) : (
        signedIn && <HomeLink />
      )}
    </section>
  );
}
