// A real OpenID Connect provider for the browser tests (npm oidc-provider, a certified
// implementation), playing the stack's Cognito user pool and its managed login on loopback:
// one public client (no secret, PKCE required), RS256 ID tokens with sub, email,
// email_verified and name, and plain HTML pages for signing in, signing up (with
// `prompt=create` or the "Create account" link; `login_hint` prefills the address) and
// verifying the address with a 6-digit code mailed through the SES v2 emulator. Accounts
// live in memory.
//
// With `preSignUpUrl` (the local gateway's `/_local/pre-sign-up`) sign-up is invitation-only,
// as a deployment with AllowSelfSignUp=false: each sign-up is first sent there as the
// Cognito PreSignUp trigger's event, and a refusal's message is shown as Cognito shows it.
//
// With `postConfirmationUrl` (the gateway's `/_local/post-confirmation`) a confirmed sign-up
// is sent there as the Cognito PostConfirmation trigger's event (a deployment with
// CreateOrgOnSignUp=true: the new user gets an organization of their own); a failure is
// shown as Cognito shows it, the account confirmed all the same.
//
// With `preTokenGenerationUrl` (the gateway's `/_local/pre-token-generation`) every ID token
// carries what the token-claims trigger adds (`roster_orgs`, ...), as the stack's pool with
// its V2_0 pre-token-generation trigger: the event is sent there as Cognito sends it, and a
// failure leaves the claims out (the trigger fails open).
//
// Used in-process by web/e2e/sign-in.test.ts; also runnable beside `make run`:
//   ROSTER_OIDC_PORT=3010 ROSTER_OIDC_CLIENT=roster-web ROSTER_OIDC_APP=http://127.0.0.1:3000 \
//   ROSTER_OIDC_SES=http://127.0.0.1:8005 node --import tsx e2e/oidc/provider.ts
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { generateKeyPairSync, randomBytes, randomInt, randomUUID, scryptSync, timingSafeEqual } from "node:crypto";
import { pathToFileURL } from "node:url";
import Provider, { interactionPolicy, type Context, type InteractionDetails } from "oidc-provider";

export type ProviderOptions = {
  port: number;
  clientId: string;
  /** The app's origins: each may return to `${origin}/auth/callback` and, after signing out, `${origin}/`. */
  appOrigins: string[];
  /** Base URL of the SES v2 emulator that carries the verification codes. */
  sesUrl: string;
  /** Invitation-only sign-up: where the PreSignUp event goes (the gateway's /_local/pre-sign-up). */
  preSignUpUrl?: string;
  /** Sign-up creates an organization: where the PostConfirmation event goes (the gateway's /_local/post-confirmation). */
  postConfirmationUrl?: string;
  /** Claims as the pre-token-generation trigger adds them (the gateway's /_local/pre-token-generation). */
  preTokenGenerationUrl?: string;
  idTokenTtlSeconds?: number;
};

export type Account = { sub: string; email: string; name: string; salt: Buffer; hash: Buffer };

export type LocalProvider = {
  issuer: string;
  /** The settings, read as each request needs them: a test may change the triggers. */
  options: ProviderOptions;
  /** The accounts, by sub. */
  accounts: Map<string, Account>;
  addAccount(account: { email: string; name: string; password: string; sub?: string }): Account;
  accountByEmail(email: string): Account | undefined;
  /** Every request the provider received (what the browser sent it), oldest first. */
  requests: { method: string; url: string; referer: string }[];
  close(): Promise<void>;
};

const FROM = "Local sign-in <no-reply@signin.example.com>";
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function startProvider(options: ProviderOptions): Promise<LocalProvider> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const accounts = new Map<string, Account>();
  const requests: LocalProvider["requests"] = [];
  /** Sign-ups waiting for their code, by interaction. */
  const pending = new Map<string, { email: string; name: string; password: string; code: string; tries: number }>();

  const accountByEmail = (email: string) =>
    [...accounts.values()].find((a) => a.email.toLowerCase() === email.trim().toLowerCase());
  const addAccount = ({ email, name, password, sub }: { email: string; name: string; password: string; sub?: string }) => {
    const salt = randomBytes(16);
    const account = { sub: sub ?? randomUUID(), email: email.trim(), name: name.trim(), salt, hash: scryptSync(password, salt, 32) };
    accounts.set(account.sub, account);
    return account;
  };
  const passwordMatches = (account: Account, password: string) =>
    timingSafeEqual(account.hash, scryptSync(password, account.salt, 32));

  // `prompt=create` (OpenID Connect "Initiating User Registration"): a prompt of its own,
  // ahead of login, resolved by the sign-up that creates the account.
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: "create", requestable: true }), 0);

  const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_name: "Roster",
        token_endpoint_auth_method: "none", // a public client: PKCE is then required
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: options.appOrigins.map((o) => `${o}/auth/callback`),
        post_logout_redirect_uris: options.appOrigins.map((o) => `${o}/`),
      },
    ],
    jwks: { keys: [{ ...jwk, kid: `rs256-${randomBytes(6).toString("hex")}`, alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: {
      openid: ["sub", "roster_orgs", "roster_orgs_truncated"],
      email: ["email", "email_verified"],
      profile: ["name"],
    },
    // As Cognito: the scopes' claims are in the ID token itself.
    conformIdTokenClaims: false,
    findAccount: async (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      return (
        account && {
          accountId: sub,
          claims: async (use: string) => ({
            sub,
            email: account.email,
            email_verified: true,
            name: account.name,
            ...(use === "id_token" ? await tokenClaims(account) : {}),
          }),
        }
      );
    },
    // The app is the provider's own (first-party) client: no consent screen.
    loadExistingGrant: async (ctx: Context) => {
      const { oidc } = ctx;
      const clientId = oidc.client!.clientId;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(clientId);
      const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (existing) return existing;
      const grant = new oidc.provider.Grant({ clientId, accountId: oidc.session.accountId! });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
    interactions: { policy, url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: Context, form: string) => {
          ctx.body = page(
            "Sign out",
            `<h1>Sign out</h1><p>Sign out of the local sign-in service?</p>${form}
            <div class="row"><button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary">Sign out</button>
            <button type="submit" form="op.logoutForm">Stay signed in</button></div>`,
          );
        },
        postLogoutSuccessSource: async (ctx: Context) => {
          ctx.body = page("Signed out", "<h1>Signed out</h1><p>You are signed out.</p>");
        },
      },
    },
    renderError: async (ctx: Context, out: Record<string, string>) => {
      ctx.body = page("Sign-in error", `<h1>Something went wrong</h1><p role="alert">${esc(out.error_description ?? out.error ?? "")}</p>`);
    },
    clientBasedCORS: (_ctx: unknown, origin: string) => options.appOrigins.includes(origin),
    pkce: { required: () => true },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: options.idTokenTtlSeconds ?? 3600,
      Interaction: 900,
      Session: 3600,
      Grant: 3600,
    },
  });
  provider.proxy = false;
  const oidcCallback = provider.callback();

  async function sendCode(email: string, code: string): Promise<void> {
    const response = await fetch(`${options.sesUrl}/v2/email/outbound-emails`, {
      method: "POST",
      // The emulator checks that a request is signed, not the signature.
      headers: {
        "Content-Type": "application/json",
        Authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: JSON.stringify({
        FromEmailAddress: FROM,
        Destination: { ToAddresses: [email] },
        Content: {
          Simple: {
            Subject: { Data: "Your verification code" },
            Body: { Text: { Data: `Your verification code is ${code}. It confirms that ${email} is your address.` } },
          },
        },
      }),
    });
    if (!response.ok) throw new Error(`SES emulator: ${response.status} ${await response.text()}`);
  }

  /** Sends `url` a Cognito trigger's event as Cognito invokes a Lambda trigger: the fields
   * every trigger's event has, then `fields`. */
  function invokeTrigger(
    url: string,
    fields: { version?: string; triggerSource: string; userName: string; request: unknown; response: unknown },
  ): Promise<Response> {
    const common = {
      version: "1",
      region: "us-east-1",
      userPoolId: "us-east-1_Local",
      callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: options.clientId },
    };
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...common, ...fields }),
    });
  }

  /** Cognito's PreSignUp trigger, played by the gateway's route: null when admitted, else the message. */
  async function preSignUp(email: string, name: string): Promise<string | null> {
    const response = await invokeTrigger(options.preSignUpUrl!, {
      triggerSource: "PreSignUp_SignUp",
      userName: randomUUID(),
      request: { userAttributes: { email, name }, validationData: null, clientMetadata: null },
      response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
    });
    if (response.status === 200) return null;
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    return response.status === 403 && problem.detail ? problem.detail : `the sign-up check answered ${response.status}`;
  }

  /** Cognito's PostConfirmation trigger, played by the gateway's route: null when it took the event, else the message. */
  async function postConfirmation(account: Account): Promise<string | null> {
    const response = await invokeTrigger(options.postConfirmationUrl!, {
      triggerSource: "PostConfirmation_ConfirmSignUp",
      userName: account.sub,
      request: {
        userAttributes: {
          sub: account.sub,
          "cognito:user_status": "CONFIRMED",
          email_verified: "true",
          "cognito:email_alias": account.email,
          name: account.name,
          email: account.email,
        },
      },
      response: {},
    });
    if (response.ok) return null;
    const problem = (await response.json().catch(() => ({}))) as { detail?: string; title?: string };
    return problem.detail ?? problem.title ?? `status ${response.status}`;
  }

  /** Cognito's pre-token-generation trigger (V2_0), played by the gateway's route: the claims it adds to the ID token. */
  async function tokenClaims(account: Account): Promise<Record<string, unknown>> {
    if (!options.preTokenGenerationUrl) return {};
    const event = {
      version: "2",
      triggerSource: "TokenGeneration_HostedAuth",
      userName: account.sub,
      request: {
        userAttributes: {
          sub: account.sub,
          "cognito:user_status": "CONFIRMED",
          email_verified: "true",
          email: account.email,
          name: account.name,
        },
        groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: null },
        scopes: ["openid", "email", "profile"],
      },
      response: { claimsAndScopeOverrideDetails: null },
    };
    try {
      const response = await invokeTrigger(options.preTokenGenerationUrl, event);
      if (!response.ok) throw new Error(`answered ${response.status}`);
      const answer = (await response.json()) as {
        response?: { claimsAndScopeOverrideDetails?: { idTokenGeneration?: { claimsToAddOrOverride?: Record<string, unknown> } } };
      };
      return answer.response?.claimsAndScopeOverrideDetails?.idTokenGeneration?.claimsToAddOrOverride ?? {};
    } catch (e) {
      console.error(`local OIDC provider: the pre-token-generation trigger failed (${(e as Error).message}); ID token without its claims`);
      return {};
    }
  }

  async function interaction(req: IncomingMessage, res: ServerResponse, action: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params } = details;
    const hint = typeof params.login_hint === "string" ? params.login_hint : "";
    const finish = (sub: string) =>
      provider.interactionFinished(req, res, { login: { accountId: sub }, create: {} }, { mergeWithLastSubmission: false });

    if (req.method === "GET") {
      if (action === "signup" || (action === "" && prompt.name === "create")) return send(res, signUpPage(details, { email: hint }));
      return send(res, signInPage(details, { email: hint }));
    }
    const form = await readForm(req);
    const field = (name: string) => (form.get(name) ?? "").trim();
    switch (action) {
      case "login": {
        const account = accountByEmail(field("email"));
        if (!account || !passwordMatches(account, form.get("password") ?? ""))
          return send(res, signInPage(details, { email: field("email"), error: "Incorrect email or password." }), 401);
        return finish(account.sub);
      }
      case "signup": {
        const entry = { email: field("email"), name: field("name"), password: form.get("password") ?? "" };
        const refuse = (error: string) => send(res, signUpPage(details, { ...entry, error }), 400);
        if (!EMAIL.test(entry.email)) return refuse("Enter a valid email address.");
        if (!entry.name) return refuse("Enter your name.");
        if (entry.password.length < 8) return refuse("The password must have at least 8 characters.");
        if (accountByEmail(entry.email)) return refuse("An account with the given email already exists.");
        if (options.preSignUpUrl) {
          const refused = await preSignUp(entry.email, entry.name);
          if (refused) return refuse(`PreSignUp failed with error ${refused.replace(/\.$/, "")}.`);
        }
        const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
        pending.set(uid, { ...entry, code, tries: 0 });
        await sendCode(entry.email, code);
        return send(res, verifyPage(uid, entry.email));
      }
      case "verify": {
        const signUp = pending.get(uid);
        if (!signUp) return send(res, signUpPage(details, { email: hint, error: "Start the sign-up again." }), 400);
        if (field("code") !== signUp.code) {
          signUp.tries += 1;
          if (signUp.tries >= 5) {
            pending.delete(uid);
            return send(res, signUpPage(details, { email: signUp.email, name: signUp.name, error: "Too many wrong codes. Start again." }), 400);
          }
          return send(res, verifyPage(uid, signUp.email, "That code is not right. Check the latest email and try again."), 400);
        }
        pending.delete(uid);
        if (accountByEmail(signUp.email)) return send(res, signInPage(details, { email: signUp.email, error: "An account with the given email already exists." }), 400);
        const account = addAccount(signUp);
        if (options.postConfirmationUrl) {
          const failed = await postConfirmation(account);
          if (failed) return send(res, signInPage(details, { email: account.email, error: `PostConfirmation failed with error ${failed.replace(/\.$/, "")}.` }), 400);
        }
        return finish(account.sub);
      }
      case "abort":
        return provider.interactionFinished(
          req,
          res,
          { error: "access_denied", error_description: "Cancelled at the sign-in page." },
          { mergeWithLastSubmission: false },
        );
      default:
        return send(res, page("Not found", "<h1>Not found</h1>"), 404);
    }
  }

  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", referer: req.headers.referer ?? "" });
    const path = new URL(req.url ?? "/", issuer).pathname;
    const match = /^\/interaction\/([\w-]+)(?:\/(\w+))?$/.exec(path);
    if (!match) return oidcCallback(req, res);
    interaction(req, res, match[2] ?? "").catch((e: Error) => {
      console.error(`local OIDC provider: ${e.stack ?? e.message}`);
      if (!res.headersSent) send(res, page("Sign-in error", `<h1>Something went wrong</h1><p role="alert">${esc(e.message)}</p>`), 400);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", resolve);
  });

  return {
    issuer,
    options,
    accounts,
    addAccount,
    accountByEmail,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// The pages: plain forms, readable and labelled (they stand in for Cognito's managed login).

function signInPage(details: InteractionDetails, v: { email?: string; error?: string }): string {
  const uid = details.uid;
  return page(
    "Sign in",
    `<h1>Sign in</h1>
    <p class="muted">to continue to Roster</p>
    ${v.error ? `<p class="error" role="alert">${esc(v.error)}</p>` : ""}
    <form method="post" action="/interaction/${uid}/login">
      <label>Email<input name="email" type="email" autocomplete="username" required value="${esc(v.email ?? "")}"></label>
      <label>Password<input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit" class="primary">Sign in</button>
    </form>
    <p>New here? <a href="/interaction/${uid}/signup">Create account</a></p>
    ${cancel(uid)}`,
  );
}

function signUpPage(details: InteractionDetails, v: { email?: string; name?: string; error?: string }): string {
  const uid = details.uid;
  return page(
    "Create account",
    `<h1>Create account</h1>
    <p class="muted">for Roster. We will email you a code to confirm the address.</p>
    ${v.error ? `<p class="error" role="alert">${esc(v.error)}</p>` : ""}
    <form method="post" action="/interaction/${uid}/signup">
      <label>Email<input name="email" type="email" autocomplete="email" required value="${esc(v.email ?? "")}"></label>
      <label>Name<input name="name" autocomplete="name" required value="${esc(v.name ?? "")}"></label>
      <label>Password<input name="password" type="password" autocomplete="new-password" minlength="8" required></label>
      <button type="submit" class="primary">Create account</button>
    </form>
    <p>Have an account? <a href="/interaction/${uid}/login">Sign in</a></p>
    ${cancel(uid)}`,
  );
}

function verifyPage(uid: string, email: string, error?: string): string {
  return page(
    "Verify your email",
    `<h1>Verify your email</h1>
    <p>We sent a 6-digit code to <strong>${esc(email)}</strong>. Enter it to finish creating your account.</p>
    ${error ? `<p class="error" role="alert">${esc(error)}</p>` : ""}
    <form method="post" action="/interaction/${uid}/verify">
      <label>Verification code<input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required></label>
      <button type="submit" class="primary">Verify</button>
    </form>
    ${cancel(uid)}`,
  );
}

const cancel = (uid: string) =>
  `<form method="post" action="/interaction/${uid}/abort" class="cancel"><button type="submit" class="link">Cancel and go back</button></form>`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(title)} · Local sign-in</title><style>
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#111827;background:#eef2f7}
header{background:#0f172a;color:#fff;padding:.75rem 1.5rem;font-weight:700}
main{max-width:420px;margin:2rem auto;background:#fff;border:1px solid #d1d5db;border-radius:10px;padding:1.5rem 1.75rem}
h1{font-size:1.5rem;margin:0 0 .25rem}.muted{color:#4b5563;margin-top:0}
label{display:block;font-weight:500;margin:.85rem 0}input{display:block;width:100%;box-sizing:border-box;margin-top:.3rem;padding:.5rem .6rem;border:1px solid #9ca3af;border-radius:6px;font:inherit}
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #9ca3af;background:#fff;cursor:pointer}
button.primary{background:#0f766e;border-color:#0f766e;color:#fff;font-weight:600;width:100%;margin-top:.5rem}
button.link{border:0;padding:0;background:none;color:#0f5d57;text-decoration:underline}
.row{display:flex;gap:.5rem}.cancel{margin-top:1rem}.row button{flex:1;margin-top:0}a{color:#0f5d57}
.error{color:#b91c1c;background:#fef2f2;border:1px solid #fecaca;border-radius:6px;padding:.5rem .75rem}
</style></head><body><header>Local sign-in</header><main>${body}</main></body></html>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res: ServerResponse, html: string, status = 200): void {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

// Run on its own (beside `make run`): the settings from the environment.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const env = (name: string, fallback?: string) => {
    const v = process.env[name] ?? fallback;
    if (v === undefined) throw new Error(`${name} is required`);
    return v;
  };
  const local = await startProvider({
    port: Number(env("ROSTER_OIDC_PORT", "3010")),
    clientId: env("ROSTER_OIDC_CLIENT", "roster-web"),
    appOrigins: env("ROSTER_OIDC_APP", "http://127.0.0.1:3000").split(","),
    sesUrl: env("ROSTER_OIDC_SES", "http://127.0.0.1:8005"),
    preSignUpUrl: process.env.ROSTER_OIDC_PRE_SIGN_UP || undefined,
    postConfirmationUrl: process.env.ROSTER_OIDC_POST_CONFIRMATION || undefined,
    preTokenGenerationUrl: process.env.ROSTER_OIDC_PRE_TOKEN_GENERATION || undefined,
  });
  console.error(`OpenID Connect provider on ${local.issuer} (accounts in memory; Ctrl-C stops it)`);
}
