// Sign-in. With an OpenID Connect provider configured (`/config.json`): "Sign in" and "Create
// account" leave for the provider's pages, which return to /auth/callback. Locally (no
// configuration): claims typed in, a dev token from the local gateway.
import { oidc, type OidcSignIn } from "../config";
import { startSignIn } from "../auth/oidc";
import { localPath, navigate } from "../router";
import { signIn } from "../session";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";

export function SignIn({ next, email }: { next: string | null; email: string | null }) {
  const provider = oidc();
  return provider ? <ProviderSignIn cfg={provider} next={next} email={email} /> : <LocalSignIn next={next} email={email} />;
}

function ProviderSignIn({ cfg, next, email }: { cfg: OidcSignIn; next: string | null; email: string | null }) {
  const { busy, error, run } = useAction();
  const go = (create: boolean) =>
    void run(() => startSignIn(cfg, { next: localPath(next), loginHint: email ?? undefined, create }), {
      message: "The sign-in page could not be opened. Try again.",
      leaving: true,
    });
  return (
    <section class="narrow card">
      <h1 tabIndex={-1}>Sign in</h1>
      <p class="muted">
        You sign in on your organization's sign-in page, then come back here.
        {email ? ` Use ${email}.` : ""}
      </p>
      {cfg.selfSignUp === false && (
        <p class="muted">New accounts are by invitation: open the link in your invitation email to create yours.</p>
      )}
      <ErrorText message={error} />
      <div class="actions start">
        <button type="button" class="primary" disabled={busy} onClick={() => go(false)}>
          Sign in
        </button>
        {cfg.selfSignUp !== false && (
          <button type="button" class="secondary" disabled={busy} onClick={() => go(true)}>
            Create account
          </button>
        )}
      </div>
    </section>
  );
}

function LocalSignIn({ next, email }: { next: string | null; email: string | null }) {
  const { busy, error, run } = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    void run(
      async () => {
        await signIn({
          sub: text("sub"),
          email: text("email") || undefined,
          name: text("name") || undefined,
          emailVerified: form.get("verified") === "on",
        });
        navigate(localPath(next));
      },
      // Not the API's sentence: what fails here is the local gateway's dev-token route.
      { message: "Sign-in failed. Is the local gateway running?", leaving: true },
    );
  };

  return (
    <section class="narrow card">
      <h1 tabIndex={-1}>Sign in</h1>
      <p class="muted">
        Local sign-in: the local gateway issues a development token for the identity you enter.
      </p>
      <form onSubmit={submit}>
        <label>
          User id
          <input name="sub" required autoComplete="username" pattern="\S.*" />
        </label>
        <label>
          Email
          <input name="email" type="email" autoComplete="email" value={email ?? ""} />
        </label>
        <label>
          Name
          <input name="name" autoComplete="name" />
        </label>
        <label class="check">
          <input name="verified" type="checkbox" checked />
          Email address verified
        </label>
        <ErrorText message={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </section>
  );
}
