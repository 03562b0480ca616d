// Local sign-in: claims typed in, a dev token from the local gateway. The deployed app signs
// in with the stack's identity provider instead.
import { navigate } from "../router";
import { signIn } from "../session";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";

export function SignIn({ next, email }: { next: string | null; email: string | null }) {
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
        // Only a path of this app: never an address elsewhere.
        navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
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
