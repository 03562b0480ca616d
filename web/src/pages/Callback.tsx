// /auth/callback: where the OpenID Connect provider sends the browser back. Finishes the
// sign-in (auth/oidc.ts) and goes on to the page the person was on, or says in words why
// it failed, with the way back to signing in.
import { useEffect, useState } from "preact/hooks";
import { oidc } from "../config";
import { finishSignIn, SignInError } from "../auth/oidc";
import { navigate, onLinkClick } from "../router";
import { ErrorText } from "../components/Status";

export function Callback() {
  const [failure, setFailure] = useState<SignInError | null>(null);

  useEffect(() => {
    const cfg = oidc();
    const query = new URLSearchParams(location.search);
    // The code and state are of no use once read: a reload or "back" must not resend them.
    history.replaceState(null, "", "/auth/callback");
    if (!cfg) {
      setFailure(new SignInError("This app does not sign in through a sign-in service.", "/"));
      return;
    }
    finishSignIn(cfg, query).then(
      (next) => {
        try {
          navigate(next, true);
        } catch {
          navigate("/", true); // a return path the browser will not go to: the start page
        }
      },
      (e) => setFailure(e instanceof SignInError ? e : new SignInError("The sign-in could not be completed. Try again.", "/")),
    );
  }, []);

  if (!failure) {
    return (
      <section class="narrow card">
        <h1 tabIndex={-1}>Signing in…</h1>
      </section>
    );
  }
  return (
    <section class="narrow card">
      <h1 tabIndex={-1}>Sign-in failed</h1>
      <ErrorText message={failure.message} />
      {failure.detail && <p class="muted">The sign-in service said: “{failure.detail}”</p>}
      <div class="actions start">
        <a class="button primary" href={`/sign-in?next=${encodeURIComponent(failure.next)}`} onClick={onLinkClick}>
          Back to sign in
        </a>
      </div>
    </section>
  );
}
